// Package leaderboard owns the XP leaderboards: the all-time board and the
// rolling 7-day and 30-day windows, kept in an ordered index that every
// committed ledger row updates (sqlstore.XP.OnCommit) and that is rebuilt
// from the ledger at start. Reads ask the index for a range and a rank,
// never scan or sort users. The index is Redis sorted sets when Redis is
// configured (shared by every instance) and an in-process order-statistic
// set otherwise; with Redis, the in-process index is kept too and serves
// the board while Redis is lost.
package leaderboard

import (
	"context"
	"fmt"
	"time"

	"github.com/plazahq/plaza/internal/apperr"
	"github.com/plazahq/plaza/internal/gamification"
)

// Period names a board.
type Period string

// The boards. 7d and 30d are rolling windows of whole hours: the current
// hour and the 167 (719) before it.
const (
	Week    Period = "7d"
	Month   Period = "30d"
	AllTime Period = "all"
)

// Periods are the boards, windows first.
var Periods = []Period{Week, Month, AllTime}

// ParsePeriod reads ?period=: 7d|week, 30d|month, all; empty means 7d.
func ParsePeriod(s string) (Period, error) {
	switch s {
	case "", "7d", "week":
		return Week, nil
	case "30d", "month":
		return Month, nil
	case "all":
		return AllTime, nil
	}
	return "", apperr.Invalid(map[string]string{"period": "must be 7d, 30d or all (week, month)"})
}

// hours is how many hour buckets a window spans; 0 for the all-time board.
func (p Period) hours() int64 {
	switch p {
	case Week:
		return 7 * 24
	case Month:
		return 30 * 24
	}
	return 0
}

// hourOf is the hour bucket of t: hours since the Unix epoch.
func hourOf(t time.Time) int64 { return t.UnixMilli() / 3_600_000 }

// retainHours is how long hour buckets are kept: the longest window.
const retainHours = 30 * 24

// Entry is one standing on a board. Rank is 1-based.
type Entry struct {
	UserID int64
	XP     int64
	Rank   int
}

// Head is what a read needs before the page: the board's version (it
// changes with every change of the board, so a page cached under it is
// never stale), when it last changed, its size and the caller's standing.
type Head struct {
	Version   string
	UpdatedAt time.Time
	Total     int
	Me        *Entry // nil: anonymous, or not on the board
}

// Index is an ordered leaderboard index. Users are on a board while their
// XP there is positive.
type Index interface {
	// Apply adds committed ledger rows. A row the last rebuild already
	// counted (its id is at most the user's largest id in that rebuild's
	// snapshot) is skipped, so a row is counted once however its hook and
	// a rebuild interleave.
	Apply(ctx context.Context, rows ...gamification.Posted) error
	// Head rolls the windows forward to now and returns p's head with
	// user's standing (user 0: none).
	Head(ctx context.Context, p Period, user int64, now time.Time) (Head, error)
	// Range returns p's standings of ranks [offset+1, offset+limit].
	Range(ctx context.Context, p Period, offset, limit int) ([]Entry, error)
	// Rebuild replaces the boards with the ledger's, counting rows applied
	// meanwhile exactly once.
	Rebuild(ctx context.Context, src Source, now time.Time) error
}

// Agg is one line of a ledger snapshot: a user's rows summed, all-time
// (Hour 0) or within one hour bucket, with the largest row id among them.
type Agg struct {
	UserID int64
	Hour   int64
	Amount int64
	MaxID  int64
}

// Source reads the ledger for a rebuild (sqlstore.XP).
type Source interface {
	// Snapshot calls each, from one consistent read of the ledger, with
	// every user's all-time aggregate, then with every user's aggregate
	// per hour bucket from sinceHour on.
	Snapshot(ctx context.Context, sinceHour int64, each func(Agg) error) error
}

// standing is a user's place on one board.
type standing struct {
	xp  int64
	tie int64
}

func memberKey(user int64, s standing) standingKey {
	return standingKey{xp: s.xp, tie: s.tie, user: user}
}

// checkRange bounds a page.
func checkRange(offset, limit int) error {
	if offset < 0 || limit < 0 || limit > MaxLimit {
		return fmt.Errorf("leaderboard: range %d+%d out of bounds", offset, limit)
	}
	return nil
}

// MaxLimit bounds a page.
const MaxLimit = 100
