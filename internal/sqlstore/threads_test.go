package sqlstore_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plazahq/plaza/internal/community"
	"github.com/plazahq/plaza/internal/gamification"
	"github.com/plazahq/plaza/internal/jobs"
	"github.com/plazahq/plaza/internal/sqldb"
	"github.com/plazahq/plaza/internal/sqldb/sqldbtest"
	"github.com/plazahq/plaza/internal/sqlstore"
)

// TestThreadPostsPrepared: a thread opened from either side is one
// thread, and a run of DMs (the first ones through the statements' text,
// the later ones through the writer's prepared statements) each moves the
// thread forward, marks it read for its sender, notifies the recipient
// and queues its job, on both engines.
func TestThreadPostsPrepared(t *testing.T) {
	sqldbtest.ForEach(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		s := sqlstore.NewCommunity(db, nil, gamification.DefaultRules)
		u := mkUsers(t, db, "dmprep", 2)
		now := time.Now()
		th, created, err := s.ThreadBetween(ctx, u[1], u[0], now)
		if err != nil || !created || th.UserA != min(u[0], u[1]) || th.UserB != max(u[0], u[1]) {
			t.Fatalf("ThreadBetween = %+v, created %v, %v", th, created, err)
		}
		again, created, err := s.ThreadBetween(ctx, u[0], u[1], now)
		if err != nil || created || again.ID != th.ID {
			t.Fatalf("ThreadBetween again = %+v, created %v, %v; want thread %d, not created", again, created, err, th.ID)
		}
		const n = 12
		var last int64
		for i := range n {
			from, to := u[i%2], u[(i+1)%2]
			m, err := s.PostThreadMessage(ctx, community.ThreadMessage{ThreadID: th.ID, SenderID: from, Body: fmt.Sprint("dm ", i), CreatedAt: now.Add(time.Duration(i) * time.Millisecond)},
				to, jobs.Job{Kind: "dmprep.digest", UniqueKey: fmt.Sprint("dmprep:", i)})
			if err != nil {
				t.Fatal(i, err)
			}
			if m.ID <= last {
				t.Fatalf("message %d: id %d after %d", i, m.ID, last)
			}
			last = m.ID
			got, err := s.Thread(ctx, th.ID)
			if err != nil || got.LastMessageID != m.ID {
				t.Fatalf("after message %d: thread %+v, %v; want last message %d", i, got, err, m.ID)
			}
			// The sender has read up to its own message; the recipient has
			// one unread.
			for _, who := range []struct {
				user   int64
				unread int
			}{{from, 0}, {to, 1}} {
				list, err := s.ThreadsOf(ctx, who.user, community.Page{Limit: 10})
				if err != nil || len(list) != 1 || list[0].Unread != who.unread {
					t.Fatalf("after message %d: ThreadsOf(%d) = %+v, %v; want one thread with %d unread", i, who.user, list, err, who.unread)
				}
			}
			if i == n/2 {
				time.Sleep(50 * time.Millisecond) // the writer prepares in the background: the rest run prepared
			}
		}
		var notes, queued int
		if err := db.Read().QueryRow(ctx, []any{&notes}, `SELECT COUNT(*) FROM notifications WHERE kind = 'dm' AND context_id = ?`, th.ID); err != nil {
			t.Fatal(err)
		}
		if err := db.Read().QueryRow(ctx, []any{&queued}, `SELECT COUNT(*) FROM jobs WHERE kind = 'dmprep.digest'`); err != nil {
			t.Fatal(err)
		}
		if notes != n || queued != n {
			t.Errorf("%d dm notifications and %d jobs, want %d of each", notes, queued, n)
		}
		msgs, err := s.ThreadMessages(ctx, th.ID, community.Page{Limit: 50})
		if err != nil || len(msgs) != n || msgs[0].ID != last {
			t.Errorf("ThreadMessages: %d messages (newest %v), %v; want %d, newest %d", len(msgs), msgs, err, n, last)
		}
	})
}

// TestDirectMessagesShareTheWriteGroup: DMs and thread openings that
// arrive together are exact on both engines (one thread however many
// open it at once from either side, every DM stored once, the thread's
// last message the newest) and on SQLite share the write group's
// transactions: 24 of them queued while the writer is busy take a few
// batches, not 24 transactions.
func TestDirectMessagesShareTheWriteGroup(t *testing.T) {
	sqldbtest.ForEach(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		s := sqlstore.NewCommunity(db, nil, gamification.DefaultRules)
		u := mkUsers(t, db, "dmgroup", 2)
		v := mkUsers(t, db, "dmgroupopen", 2) // a pair with no thread yet
		first, _, err := s.ThreadBetween(ctx, u[0], u[1], time.Now())
		if err != nil {
			t.Fatal(err)
		}
		before := sharedGroupStats(db)
		release := holdWriter(t, db) // the writes queue behind it
		var wg sync.WaitGroup
		const n = 12
		var opened, posted sync.Map
		var created atomic.Int64
		for i := range n {
			wg.Go(func() {
				th, made, err := s.ThreadBetween(ctx, v[i%2], v[(i+1)%2], time.Now())
				if err != nil {
					t.Error(err)
					return
				}
				if made {
					created.Add(1)
				}
				opened.Store(th.ID, true)
			})
			wg.Go(func() {
				m, err := s.PostThreadMessage(ctx, community.ThreadMessage{ThreadID: first.ID, SenderID: u[i%2], Body: fmt.Sprint("together ", i), CreatedAt: time.Now()}, u[(i+1)%2])
				if err != nil {
					t.Error(err)
					return
				}
				posted.Store(m.ID, true)
			})
		}
		time.Sleep(200 * time.Millisecond) // the writes queue behind the writer
		release()
		wg.Wait()
		threads, ids := 0, []int64{}
		opened.Range(func(any, any) bool { threads++; return true })
		posted.Range(func(k, _ any) bool { ids = append(ids, k.(int64)); return true })
		if threads != 1 || created.Load() != 1 {
			t.Errorf("%d openings of one pair gave %d threads, %d created; want 1 and 1", n, threads, created.Load())
		}
		if len(ids) != n {
			t.Fatalf("%d DMs stored with %d distinct ids", n, len(ids))
		}
		got, err := s.Thread(ctx, first.ID)
		if err != nil || got.LastMessageID != slices.Max(ids) {
			t.Errorf("thread %+v (%v), want last message %d", got, err, slices.Max(ids))
		}
		if db.Dialect != sqldb.SQLite {
			return
		}
		st := sharedGroupStats(db)
		if calls, batches := st.Calls-before.Calls, st.Batches-before.Batches; calls != 2*n || batches > 4 {
			t.Errorf("%d DMs and openings queued together took %d calls in %d transactions, want %d in at most 4", 2*n, calls, batches, 2*n)
		}
	})
}
