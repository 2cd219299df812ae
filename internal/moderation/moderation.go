// Package moderation owns what admins and moderators do to people and
// content: the admins' user list and detail, bans (with a reason and an
// optional end, every session revoked, sockets closed on every instance),
// reports and their resolution (dismiss, remove the content, ban its
// author), channel administration and the stats summary. Every action is
// recorded in the audit log in the same transaction as the action (the
// Store does both). Storage is behind Store, which sqlstore implements on
// SQLite and MySQL and moderationtest.Exercise checks.
package moderation

import (
	"context"
	"time"

	"github.com/plazahq/plaza/internal/account"
	"github.com/plazahq/plaza/internal/audit"
	"github.com/plazahq/plaza/internal/community"
)

// TargetKind is what a report is about.
type TargetKind string

// The kinds of reportable targets.
const (
	KindMessage TargetKind = "message"
	KindShout   TargetKind = "shout"
	KindMix     TargetKind = "mix"
	KindUser    TargetKind = "user"
	KindEvent   TargetKind = "event"
)

// ValidKind reports whether k can be reported.
func ValidKind(k TargetKind) bool {
	switch k {
	case KindMessage, KindShout, KindMix, KindUser, KindEvent:
		return true
	}
	return false
}

// Action is how a report is resolved.
type Action string

// The resolutions.
const (
	Dismiss   Action = "dismiss"
	Remove    Action = "remove"
	BanAuthor Action = "ban_author"
)

// ValidAction reports whether a names a resolution.
func ValidAction(a Action) bool { return a == Dismiss || a == Remove || a == BanAuthor }

// Limits on what people type.
const (
	MaxReason = 500
	MaxNote   = 500
	MaxQuery  = 64
)

// UserFilter selects the admins' user list: Q is a prefix of the username
// or the email; Role and Status filter when set. Before is the cursor (an
// id), Limit the page size.
type UserFilter struct {
	Q      string
	Role   account.Role
	Status account.Status
	Before int64
	Limit  int
}

// AdminUser is a user as admins list them.
type AdminUser struct {
	account.User
	Status account.Status `json:"status"`
}

// Counts are what a user has done, for the admins' detail.
type Counts struct {
	Messages        int64 `json:"messages"`
	Shouts          int64 `json:"shouts"`
	Mixes           int64 `json:"mixes"`
	Events          int64 `json:"events"`
	ReportsFiled    int64 `json:"reportsFiled"`
	ReportsAgainst  int64 `json:"reportsAgainst"`
	OpenReports     int64 `json:"openReportsAgainst"`
	Sessions        int64 `json:"liveSessions"`
	ContentRemovals int64 `json:"contentRemoved"`
}

// UserDetail is GET /api/admin/users/{id}.
type UserDetail struct {
	AdminUser
	Ban        *BanView   `json:"ban"`
	LastSeenAt *time.Time `json:"lastSeenAt"`
	Counts     Counts     `json:"counts"`
}

// BanView describes a ban that holds.
type BanView struct {
	Reason string     `json:"reason"`
	Until  *time.Time `json:"until"`
	At     time.Time  `json:"at"`
}

// Ban is what POST /api/admin/users/{id}/ban asks.
type Ban struct {
	Reason string
	Until  *time.Time
}

// NewReport is POST /api/reports.
type NewReport struct {
	ReporterID int64
	Kind       TargetKind
	TargetID   int64
	Reason     string
	At         time.Time
}

// Report is one report.
type Report struct {
	ID         int64      `json:"id"`
	ReporterID int64      `json:"reporterId"`
	TargetKind TargetKind `json:"targetKind"`
	TargetID   int64      `json:"targetId"`
	AuthorID   int64      `json:"authorId"`
	Reason     string     `json:"reason"`
	Status     string     `json:"status"` // open or resolved
	Resolution string     `json:"resolution,omitempty"`
	Note       string     `json:"note,omitempty"`
	ResolvedBy *int64     `json:"resolvedBy,omitempty"`
	ResolvedAt *time.Time `json:"resolvedAt,omitempty"`
	CreatedAt  time.Time  `json:"createdAt"`
}

// ReasonItem is one reporter's reason in a queue group.
type ReasonItem struct {
	ReportID   int64     `json:"reportId"`
	ReporterID int64     `json:"reporterId"`
	Reason     string    `json:"reason"`
	CreatedAt  time.Time `json:"createdAt"`
}

// Group is the reports on one target, as the moderators' queue shows them.
// ReportID is the first report's id: resolve it to resolve them all.
type Group struct {
	ReportID   int64        `json:"reportId"`
	Target     Target       `json:"target"`
	Count      int          `json:"count"`
	Reasons    []ReasonItem `json:"reasons"`
	FirstAt    time.Time    `json:"firstReportedAt"`
	LastAt     time.Time    `json:"lastReportedAt"`
	Status     string       `json:"status"`
	Resolution string       `json:"resolution,omitempty"`
}

// Target names a reported thing and its author.
type Target struct {
	Kind     TargetKind `json:"kind"`
	ID       int64      `json:"id"`
	AuthorID int64      `json:"authorId"`
}

// Resolve is POST /api/admin/reports/{id}/resolve, with who asks.
type Resolve struct {
	ReportID int64
	Actor    account.User
	IP       string
	Action   Action
	Note     string
	At       time.Time
}

// Resolution is what resolving did.
type Resolution struct {
	Target   Target `json:"target"`
	Action   Action `json:"action"`
	Resolved int    `json:"resolved"` // reports closed
	// XPRevoked is the XP taken back from the author (removals).
	XPRevoked int64 `json:"xpRevoked"`
	// ChannelID is the removed message's channel (message removals).
	ChannelID int64 `json:"-"`
	// Banned is the author's account after a ban_author.
	Banned *account.User `json:"-"`
}

// ChannelPatch is PATCH /api/admin/channels/{id}; nil leaves a field.
type ChannelPatch struct {
	Name     *string
	Topic    *string
	Private  *bool
	Archived *bool
}

// DBStats are the stats the database answers.
type DBStats struct {
	UsersTotal      int64      `json:"total"`
	Active24h       int64      `json:"active24h"`
	Active7d        int64      `json:"active7d"`
	MessagesPerDay  []DayCount `json:"-"`
	OpenReports     int64      `json:"-"`
	BannedUsers     int64      `json:"banned"`
	UnverifiedUsers int64      `json:"unverified"`
}

// DayCount is one UTC day's count.
type DayCount struct {
	Day   string `json:"day"` // YYYY-MM-DD
	Count int64  `json:"count"`
}

// Store is the storage moderation needs. Every write appends its audit
// record (actor) in its own transaction; a refused write changes nothing.
type Store interface {
	Users(ctx context.Context, f UserFilter, now time.Time) ([]AdminUser, error)
	UserDetail(ctx context.Context, id int64, now time.Time) (UserDetail, error)
	// Ban bans user id and revokes every session of theirs. Banning the
	// last admin is a Conflict (decided under a lock on the admins).
	Ban(ctx context.Context, actor audit.Actor, id int64, b Ban, now time.Time) (account.User, error)
	// Unban lifts a ban; Conflict when there is none.
	Unban(ctx context.Context, actor audit.Actor, id int64, reason string, now time.Time) (account.User, error)
	// Report files r, or returns the reporter's open report on the target
	// (created false). An unknown or removed target is NotFound.
	Report(ctx context.Context, r NewReport) (rep Report, created bool, err error)
	// Queue pages report groups of a status (open or resolved), oldest
	// first: groups whose ReportID is above after.
	Queue(ctx context.Context, status string, after int64, limit int) ([]Group, error)
	// Resolve resolves every open report on the target of r.ReportID:
	// Conflict if that report is resolved already; for Remove, the content
	// is removed and its XP taken back, NotFound if it is gone already.
	Resolve(ctx context.Context, r Resolve) (Resolution, error)
	// UpdateChannel applies p; it returns the channel before and after.
	UpdateChannel(ctx context.Context, actor audit.Actor, id int64, p ChannelPatch, now time.Time) (before, after community.Channel, err error)
	Stats(ctx context.Context, now time.Time) (DBStats, error)
	// FlushRecorded records a cache flush in the audit log.
	FlushRecorded(ctx context.Context, actor audit.Actor, prefix string, entries int) error
}
