package music_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/plazahq/plaza/internal/account"
	"github.com/plazahq/plaza/internal/gamification"
	"github.com/plazahq/plaza/internal/music"
	"github.com/plazahq/plaza/internal/sqldb"
	"github.com/plazahq/plaza/internal/sqldb/sqldbtest"
	"github.com/plazahq/plaza/internal/sqlstore"
)

// creatorWithMixes creates a creator named name and n mixes of theirs.
func creatorWithMixes(t *testing.T, db *sqldb.DB, s *sqlstore.Music, name string, n int) (int64, []int64) {
	t.Helper()
	ctx := context.Background()
	u, err := sqlstore.NewAccounts(db).CreateUser(ctx, account.NewUser{Email: name + "@example.com", Username: name, PasswordHash: "h", Role: account.RoleCreator}, nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for i := range n {
		m, err := s.CreateMix(ctx, music.Mix{CreatorID: u.ID, Title: fmt.Sprint(name, " mix ", i), Genres: []string{"house"}, DurationSec: 60,
			AudioPath: "/uploads/audio/ab/x.mp3", CreatedAt: time.Now(), UpdatedAt: time.Now()})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, m.ID)
	}
	return u.ID, ids
}

// ledger returns the user's XP total and the sum and count of their play
// rows in the ledger.
func ledger(t *testing.T, db *sqldb.DB, user int64) (total, plays int64, rows int) {
	t.Helper()
	l, err := sqlstore.NewXP(db, nil).Ledger(context.Background(), user, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range l.Items {
		if e.Reason == gamification.ReasonPlay {
			plays += e.Amount
			rows++
		}
	}
	return l.XP, plays, rows
}

// recordingStore passes flushes to the real store and keeps what it was
// asked; fail makes the next calls fail, before (lost: after) the write.
type recordingStore struct {
	*sqlstore.Music
	mu      sync.Mutex
	flushes []music.PlayFlush
	fail    int
	lost    bool
}

func (r *recordingStore) AddPlays(ctx context.Context, f music.PlayFlush) (music.PlayFlushResult, error) {
	r.mu.Lock()
	r.flushes = append(r.flushes, f)
	fail, lost := r.fail > 0, r.lost
	if fail {
		r.fail--
	}
	r.mu.Unlock()
	if fail && !lost {
		return music.PlayFlushResult{}, errors.New("injected: the flush failed")
	}
	res, err := r.Music.AddPlays(ctx, f)
	if fail && err == nil {
		return music.PlayFlushResult{}, errors.New("injected: the commit's answer was lost")
	}
	return res, err
}

func (r *recordingStore) last() music.PlayFlush {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.flushes[len(r.flushes)-1]
}

func xpCounter(t *testing.T, s music.PlayStore, now func() time.Time, xp, dailyCap int64) *music.Counter {
	t.Helper()
	d, err := music.NewMemoryDedupe(0, 0, now)
	if err != nil {
		t.Fatal(err)
	}
	c, err := music.NewCounter(s, d, music.CounterConfig{FlushInterval: time.Hour, Now: now, XP: xp, XPDailyCap: dailyCap})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestCounterPlayXP follows one creator through a day of plays: their own
// plays earn nothing, other listeners' earn 1 each at flush time (not
// before), up to the cap, after which the counter stops collecting them;
// failed flushes and a flush whose commit answer was lost award nothing
// twice; the next UTC day starts again.
func TestCounterPlayXP(t *testing.T) {
	sqldbtest.ForEach(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		ms := sqlstore.NewMusic(db, nil)
		dj, mixes := creatorWithMixes(t, db, ms, "dj", 2)
		st := &recordingStore{Music: ms}
		clk := &fakeClock{t: time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)}
		c := xpCounter(t, st, clk.Now, 1, 5)
		play := func(mix int64, listener string) {
			t.Helper()
			if err := c.Play(ctx, mix, listener); err != nil {
				t.Fatal(err)
			}
		}
		want := func(what string, xp int64, rows int) {
			t.Helper()
			total, plays, n := ledger(t, db, dj)
			if total != xp || plays != xp || n != rows {
				t.Fatalf("%s: xp %d, play XP %d in %d rows; want %d in %d", what, total, plays, n, xp, rows)
			}
		}

		play(mixes[0], fmt.Sprint("u:", dj)) // their own play: counted, no XP
		play(mixes[0], "u:9001")
		play(mixes[0], "u:9001") // the same listener again: not counted
		play(mixes[1], "u:9001")
		play(mixes[1], "ip:203.0.113.7")
		want("before the flush", 0, 0)
		if err := c.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		want("after the flush", 3, 3)
		if got := plays(t, ms, mixes[0]); got != 2 {
			t.Fatalf("mix plays %d, want 2 (their own play counts as a play)", got)
		}

		// A flush that fails keeps the refs; the retry awards them once.
		play(mixes[0], "u:9002")
		st.fail = 1
		if err := c.Flush(ctx); err == nil {
			t.Fatal("injected failure not reported")
		}
		want("after a failed flush", 3, 3)
		if err := c.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		want("after the retry", 4, 4)

		// A flush that committed but reported failure: retried with the
		// same refs, which the ledger already holds.
		play(mixes[1], "u:9002")
		st.fail, st.lost = 1, true
		if err := c.Flush(ctx); err == nil {
			t.Fatal("injected failure not reported")
		}
		want("after a lost commit", 5, 5)
		if err := c.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		want("after its retry", 5, 5)
		// (The counter's figure misses the award whose answer was lost.)
		if got := c.Stats().XPAwarded; got != 4 {
			t.Fatalf("stats say %d XP awarded, want 4", got)
		}

		// The cap (5) is reached: more listeners count as plays, earn
		// nothing, and are no longer even sent to the store.
		for i := range 10 {
			play(mixes[0], fmt.Sprint("u:", 9100+i))
		}
		if err := c.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		want("past the cap", 5, 5)
		if f := st.last(); len(f.XP) != 0 {
			t.Fatalf("the counter still asked for XP for a capped creator: %+v", f.XP)
		}
		if got := plays(t, ms, mixes[0]); got != 13 {
			t.Fatalf("mix plays %d, want 13", got)
		}

		// A new UTC day: XP again.
		clk.Advance(24 * time.Hour)
		play(mixes[0], "u:9001")
		if err := c.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		want("the next day", 6, 6)
	})
}

// TestCounterPlayXPParallel runs three counters (three instances) on one
// database, each with several goroutines playing two creators' mixes for
// many listeners and flushing as they go: each creator ends with exactly
// the cap's XP (50 rows of 1), a third creator whose listeners are only
// themselves gets nothing, and users.xp is the sum of the ledger.
func TestCounterPlayXPParallel(t *testing.T) {
	sqldbtest.ForEach(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		ms := sqlstore.NewMusic(db, nil)
		a, mixesA := creatorWithMixes(t, db, ms, "dj_a", 3)
		b, mixesB := creatorWithMixes(t, db, ms, "dj_b", 2)
		self, mixesSelf := creatorWithMixes(t, db, ms, "dj_self", 1)
		all := append(append(append([]int64{}, mixesA...), mixesB...), mixesSelf...)
		const instances, workers, listeners = 3, 4, 40
		var counters []*music.Counter
		var wg sync.WaitGroup
		for range instances {
			c := xpCounter(t, ms, time.Now, 1, 50)
			counters = append(counters, c)
			for w := range workers {
				wg.Go(func() {
					// Every worker of an instance plays every mix for the
					// same listeners: each (mix, listener) counts once per
					// instance (each has a dedupe of its own here).
					for l := range listeners {
						for _, id := range all {
							listener := fmt.Sprintf("u:%d", 10000+l)
							if id == mixesSelf[0] {
								listener = fmt.Sprint("u:", self)
							}
							if err := c.Play(ctx, id, listener); err != nil {
								t.Error(err)
								return
							}
						}
						if l%10 == w {
							if err := c.Flush(ctx); err != nil {
								t.Error(err)
							}
						}
					}
				})
			}
		}
		wg.Wait()
		var awarded int64
		for _, c := range counters {
			if err := c.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			awarded += c.Stats().XPAwarded
		}
		for _, tc := range []struct {
			name string
			user int64
			want int64
		}{{"a", a, 50}, {"b", b, 50}, {"self", self, 0}} {
			total, plays, rows := ledger(t, db, tc.user)
			if total != tc.want || plays != tc.want || rows != int(tc.want) {
				t.Errorf("creator %s: xp %d, play XP %d in %d rows; want %d", tc.name, total, plays, rows, tc.want)
			}
		}
		if awarded != 100 {
			t.Errorf("the counters report %d XP awarded, want 100", awarded)
		}
		for _, id := range all {
			want := int64(instances * listeners)
			if id == mixesSelf[0] {
				want = instances // one listener, counted once per instance
			}
			if got := plays(t, ms, id); got != want {
				t.Errorf("mix %d: %d plays, want %d", id, got, want)
			}
		}
	})
}

// BenchmarkCounterPlay is the play hot path (the mix's creator cached,
// in-process dedupe, every play a new listener so every play counts), with
// play XP off (what a play cost before plays earned XP), on with the
// creator at the day's cap (the steady state of a popular creator), and on
// while refs are still being kept.
func BenchmarkCounterPlay(b *testing.B) {
	db := sqldbtest.OpenSQLite(b, sqldb.Config{})
	ms := sqlstore.NewMusic(db, nil)
	ctx := context.Background()
	u, err := sqlstore.NewAccounts(db).CreateUser(ctx, account.NewUser{Email: "dj@example.com", Username: "dj", PasswordHash: "h", Role: account.RoleCreator}, nil, time.Now())
	if err != nil {
		b.Fatal(err)
	}
	m, err := ms.CreateMix(ctx, music.Mix{CreatorID: u.ID, Title: "m", Genres: []string{"house"}, DurationSec: 60, AudioPath: "/uploads/audio/ab/x.mp3", CreatedAt: time.Now(), UpdatedAt: time.Now()})
	if err != nil {
		b.Fatal(err)
	}
	for _, tc := range []struct {
		name      string
		xp, cap   int64
		preCapped bool
	}{{"xp-off", 0, 0, false}, {"xp-on-capped", 1, 50, true}, {"xp-on-keeping-refs", 1, 1 << 40, false}} {
		b.Run(tc.name, func(b *testing.B) {
			d, _ := music.NewMemoryDedupe(b.N+10, 0, nil)
			c, err := music.NewCounter(ms, d, music.CounterConfig{FlushInterval: time.Hour, XP: tc.xp, XPDailyCap: tc.cap})
			if err != nil {
				b.Fatal(err)
			}
			if tc.preCapped { // reach the cap and flush, as a popular creator would
				for i := range 60 {
					c.Play(ctx, m.ID, fmt.Sprint("ip:pre", i))
				}
				if err := c.Flush(ctx); err != nil {
					b.Fatal(err)
				}
			}
			listeners := make([]string, b.N)
			for i := range listeners {
				listeners[i] = fmt.Sprint("ip:10.", i)
			}
			b.ResetTimer()
			for i := range b.N {
				if err := c.Play(ctx, m.ID, listeners[i]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
