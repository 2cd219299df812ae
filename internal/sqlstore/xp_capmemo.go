package sqlstore

import (
	"database/sql"
	"time"

	"github.com/plazahq/plaza/internal/gamification"
)

// capMemo remembers which users have reached a reason's daily XP cap on
// the current UTC day, so a capped award (every post of a busy member
// after their first few of the day) skips the ledger sum and the user
// row lock instead of reading them again only to award nothing.
//
// It is exact because the sum it stands for only grows: the ledger is
// append-only (a revocation is a new row of another reason), so once a
// committed transaction has seen a user's XP for a reason at or above the
// cap on a day, every later transaction on any instance would see it too.
// Entries are added only after the transaction that saw the cap commits
// (a rolled-back one saw nothing), and only for the day they were seen;
// a new day starts empty.
type capMemo struct {
	days dayMemo[capKey, int64] // the cap that was found reached
}

type capKey struct {
	user   int64
	reason gamification.Reason
}

// utcDay is the start of now's UTC day in unix ms, the ledger's bound.
func utcDay(now time.Time) int64 { return ms(now.UTC().Truncate(24 * time.Hour)) }

// reached reports whether a committed award found user's XP for reason at
// or above limit on now's UTC day.
func (m *capMemo) reached(user int64, reason gamification.Reason, limit int64, now time.Time) bool {
	if limit <= 0 {
		return false
	}
	// A cap at or below the one found reached is reached too (the sum is
	// at least the larger one).
	c, ok := m.days.get(utcDay(now), capKey{user, reason})
	return ok && limit <= c
}

// rememberCapped records, once tx commits, that user's XP for reason reached
// limit on day. A transaction the database did not start has no commit to
// wait for: nothing is remembered.
func (x *XP) rememberCapped(tx *sql.Tx, user int64, reason gamification.Reason, limit, day int64) {
	x.caps.days.rememberAfterCommit(x.db, tx, day, capKey{user, reason}, func(c int64) int64 { return max(c, limit) })
}

// CappedToday reports that user's XP for reason is known to have reached
// limit, its daily cap, on now's UTC day: an award for reason with that
// cap would award nothing, and callers may skip it (and the user's row
// lock it would take). False means not known, not "not capped".
func (x *XP) CappedToday(user int64, reason gamification.Reason, limit int64, now time.Time) bool {
	return x.caps.reached(user, reason, limit, now)
}
