package sqlstore

import (
	"sync"
	"time"
)

// checkThrottle spaces out the achievement checks that a user's posts
// enqueue. Every post may meet a rule (first message, 100 messages, a
// streak), so each one enqueues a check of its author; checks of one user
// coalesce only while one waits, and a worker takes a due check within
// milliseconds, so a member posting steadily paid for a check (its key
// released, the rules' counts read, the job completed: three writes and
// several queries) after nearly every post, more than the post itself.
//
// The first post of a quiet user is checked at once, as before; posts that
// follow within the window are checked together at its end, in one job
// (the later ones find it waiting and coalesce into it). No post goes
// unchecked: each still enqueues a check, due at most one window after it
// was made. The state is this process's alone and only moves a job's due
// time, so losing it (a restart, another instance) costs an early check,
// never a missed one.
type checkThrottle struct {
	window time.Duration
	mu     sync.Mutex
	next   map[int64]time.Time // a user's checks are not due before this
}

// maxThrottled bounds the users remembered; past it, those whose window
// has ended are forgotten.
const maxThrottled = 50_000

func newCheckThrottle(window time.Duration) *checkThrottle {
	return &checkThrottle{window: window, next: map[int64]time.Time{}}
}

// due returns when the check enqueued by user's post at now should run.
func (t *checkThrottle) due(user int64, now time.Time) time.Time {
	if t == nil || t.window <= 0 {
		return now
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if next, ok := t.next[user]; ok && now.Before(next) {
		return next // the window's check, shared with the posts before
	}
	if len(t.next) >= maxThrottled {
		for u, next := range t.next {
			if !now.Before(next) {
				delete(t.next, u)
			}
		}
	}
	t.next[user] = now.Add(t.window)
	return now
}
