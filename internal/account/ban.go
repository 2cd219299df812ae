package account

import (
	"time"

	"github.com/plazahq/plaza/internal/apperr"
)

// Status is an account's standing, for admins' lists and for other domains
// that must refuse a banned account (a tip to it, say).
type Status string

// The statuses: banned wins over unverified.
const (
	StatusActive     Status = "active"
	StatusBanned     Status = "banned"
	StatusUnverified Status = "unverified"
)

// ValidStatus reports whether s names a status.
func ValidStatus(s Status) bool {
	return s == StatusActive || s == StatusBanned || s == StatusUnverified
}

// BannedAt reports whether u's ban holds at now: banned, and its end (if
// any) not reached. A ban ends by itself; nothing has to run at its end.
func (u User) BannedAt(now time.Time) bool {
	return u.Banned && (u.BannedUntil == nil || now.Before(*u.BannedUntil))
}

// StatusAt is u's standing at now.
func (u User) StatusAt(now time.Time) Status {
	switch {
	case u.BannedAt(now):
		return StatusBanned
	case !u.EmailVerified:
		return StatusUnverified
	}
	return StatusActive
}

// BanError is the 403 banned answer for u: it names the reason and the
// end ("until", absent for a ban without end).
func BanError(u User) error {
	msg := "this account is banned"
	if u.BanReason != "" {
		msg += ": " + u.BanReason
	}
	details := map[string]any{"reason": u.BanReason}
	if u.BannedUntil != nil {
		msg += " (until " + u.BannedUntil.UTC().Format(time.RFC3339) + ")"
		details["until"] = u.BannedUntil.UTC().Format(time.RFC3339)
	} else {
		details["until"] = nil
	}
	return &apperr.Error{Code: apperr.Banned, Message: msg, Details: details}
}

// Status returns user id's standing now (other domains: refuse what a
// banned account may not receive).
func (s *Service) Status(u User) Status { return u.StatusAt(s.now()) }
