package sqlstore

import (
	"database/sql"
	"sync"
	"time"

	"github.com/plazahq/plaza/internal/sqldb"
)

// checkThrottle spaces out the achievement checks that a user's posts
// enqueue. Every post may meet a rule (first message, 100 messages, a
// streak), so each one enqueues a check of its author; checks of one user
// coalesce only while one waits, and a worker takes a due check within
// milliseconds, so a member posting steadily paid for a check (its key
// released, the rules' counts read, the job completed: three writes and
// several queries) after nearly every post, more than the post itself.
//
// The first post of a quiet user is checked at once, as before. A post
// that follows within the window of the user's last check is checked at
// that window's end, in one job with the others there (the later ones find
// it waiting and coalesce into it), so a member posting steadily costs one
// check a window. No post goes unchecked: each still enqueues a check, due
// at most one window after it was made (or, with Community.CheckInline on
// SQLite, the first post of a window is checked in its own transaction). The state is this process's alone
// and only moves a job's due time, so losing it (a restart, another
// instance) costs an early check, never a missed one.
//
// A post also skips the check's insert (on SQLite, a tenth of a capped
// post's CPU, nearly always a no-op into the waiting check) when this
// instance made the user's waiting check itself, saw it commit, and it is
// not due yet (waiting). That check runs after the post: it is due later,
// workers take only jobs that are due, and on SQLite nothing is taken
// while the post's transaction holds the writer, so a check that was not
// due when the post looked is still waiting when the post commits. MySQL
// cannot say whether its insert made the row (jobs.InsertOnePrepared), so
// there every post inserts as before.
type checkThrottle struct {
	window time.Duration
	mu     sync.Mutex
	last   map[int64]time.Time // when the user's last check enqueued by a post is due
	made   map[int64]time.Time // when the user's check that this instance made, committed, is due
}

// maxThrottled bounds the users remembered; past it, those quiet for a
// window are forgotten.
const maxThrottled = 50_000

func newCheckThrottle(window time.Duration) *checkThrottle {
	return &checkThrottle{window: window, last: map[int64]time.Time{}, made: map[int64]time.Time{}}
}

// due returns when the check enqueued by user's post at now should run.
func (t *checkThrottle) due(user int64, now time.Time) time.Time {
	if t == nil || t.window <= 0 {
		return now
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if last, ok := t.last[user]; ok {
		if now.Before(last) {
			return last // that check is still waiting: share it
		}
		if end := last.Add(t.window); now.Before(end) {
			t.last[user] = end // checked within the window: at its end
			return end
		}
	}
	if len(t.last) >= maxThrottled {
		for u, last := range t.last {
			if !now.Before(last.Add(t.window)) {
				delete(t.last, u)
			}
		}
		for u, at := range t.made {
			if !now.Before(at) {
				delete(t.made, u)
			}
		}
	}
	t.last[user] = now
	return now
}

// waiting reports whether a check of user that this instance made is
// known to wait, not due before now (the wall clock, as the job queue's
// workers use).
func (t *checkThrottle) waiting(user int64, now time.Time) bool {
	if t == nil {
		return false
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	at, ok := t.made[user]
	return ok && now.Before(at)
}

// madeCheck records, once tx commits, that its insert made user's check
// due at at.
func (t *checkThrottle) madeCheck(db *sqldb.DB, tx *sql.Tx, user int64, at time.Time) {
	if t == nil {
		return
	}
	_ = db.AfterCommit(tx, func() {
		t.mu.Lock()
		defer t.mu.Unlock()
		if len(t.made) >= maxThrottled {
			now := time.Now()
			for u, due := range t.made {
				if !now.Before(due) {
					delete(t.made, u)
				}
			}
		}
		t.made[user] = at
	})
}
