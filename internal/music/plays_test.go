package music_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/plazahq/plaza/internal/account"
	"github.com/plazahq/plaza/internal/apperr"
	"github.com/plazahq/plaza/internal/music"
	"github.com/plazahq/plaza/internal/redisx/redistest"
	"github.com/plazahq/plaza/internal/sqldb"
	"github.com/plazahq/plaza/internal/sqldb/sqldbtest"
	"github.com/plazahq/plaza/internal/sqlstore"
)

// fakeClock is a clock the test moves by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestMemoryDedupeWindow(t *testing.T) {
	clk := &fakeClock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	d, err := music.NewMemoryDedupe(1000, 30*time.Minute, clk.Now)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	first := func(key string) bool {
		t.Helper()
		got, err := d.First(ctx, []string{key}, 30*time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		return got[0]
	}
	steps := []struct {
		advance time.Duration
		key     string
		want    bool
	}{
		{0, "1|u:7", true},
		{0, "1|u:7", false},
		{0, "2|u:7", true}, // another mix
		{0, "1|u:8", true}, // another listener
		{29 * time.Minute, "1|u:7", false},
		{time.Minute - time.Nanosecond, "1|u:7", false},
		{time.Nanosecond, "1|u:7", true}, // 30 minutes after the first
		{time.Minute, "1|u:7", false},    // a new window started
		{30 * time.Minute, "1|u:7", true},
	}
	for i, s := range steps {
		clk.Advance(s.advance)
		if got := first(s.key); got != s.want {
			t.Fatalf("step %d (%s after +%v): first = %v, want %v", i, s.key, s.advance, got, s.want)
		}
	}
	// Several keys at once: each decided on its own, duplicates within
	// one call count once.
	got, _ := d.First(ctx, []string{"9|a", "9|a", "1|u:7"}, 30*time.Minute)
	if want := []bool{true, false, false}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("batch = %v, want %v", got, want)
	}
}

// mixes creates a creator and n mixes and returns the store and their ids.
func mixes(t *testing.T, db *sqldb.DB, n int) (*sqlstore.Music, []int64) {
	t.Helper()
	ctx := context.Background()
	u, err := sqlstore.NewAccounts(db).CreateUser(ctx, account.NewUser{Email: "dj@example.com", Username: "dj", PasswordHash: "h", Role: account.RoleCreator}, nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	s := sqlstore.NewMusic(db, nil)
	var ids []int64
	for i := range n {
		m, err := s.CreateMix(ctx, music.Mix{CreatorID: u.ID, Title: fmt.Sprint("mix ", i), Genres: []string{"house"}, DurationSec: 60,
			AudioPath: "/uploads/audio/ab/x.mp3", CreatedAt: time.Now(), UpdatedAt: time.Now()})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, m.ID)
	}
	return s, ids
}

func plays(t *testing.T, s *sqlstore.Music, id int64) int64 {
	t.Helper()
	m, err := s.Mix(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return m.Plays
}

func memoryCounter(t *testing.T, s music.PlayStore, now func() time.Time) *music.Counter {
	t.Helper()
	d, err := music.NewMemoryDedupe(0, 0, now)
	if err != nil {
		t.Fatal(err)
	}
	c, err := music.NewCounter(s, d, music.CounterConfig{FlushInterval: time.Hour, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestCounterParallel plays from many goroutines while flushes run, and
// checks that the database ends with exactly the plays that count: each
// listener once per mix, however often they played it.
func TestCounterParallel(t *testing.T) {
	sqldbtest.ForEach(t, func(t *testing.T, db *sqldb.DB) {
		s, ids := mixes(t, db, 5)
		c := memoryCounter(t, s, time.Now)
		ctx := context.Background()
		const workers, listeners = 8, 300
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() {
				// Every worker plays every mix for the same listeners, so
				// each (mix, listener) is played 8 times across workers.
				for l := range listeners {
					for _, id := range ids {
						if err := c.Play(ctx, id, fmt.Sprintf("ip:10.0.%d.%d", l/256, l%256)); err != nil {
							t.Error(err)
							return
						}
					}
					if l%50 == w {
						if err := c.Flush(ctx); err != nil {
							t.Error(err)
						}
					}
				}
			})
		}
		wg.Wait()
		if err := c.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		for _, id := range ids {
			if got := plays(t, s, id); got != listeners {
				t.Errorf("mix %d: %d plays, want %d", id, got, listeners)
			}
		}
		st := c.Stats()
		if st.Accepted != workers*listeners*int64(len(ids)) || st.Counted != listeners*int64(len(ids)) || st.Pending != 0 {
			t.Errorf("stats %+v", st)
		}
		if st.RowsWritten > st.Flushes*int64(len(ids)) || st.Flushes == 0 {
			t.Errorf("more rows written than flushes x mixes: %+v", st)
		}
	})
}

func TestCounterRules(t *testing.T) {
	db := sqldbtest.OpenSQLite(t, sqldb.Config{})
	s, ids := mixes(t, db, 2)
	clk := &fakeClock{t: time.Now()}
	c := memoryCounter(t, s, clk.Now)
	ctx := context.Background()

	if err := c.Play(ctx, 1<<40, "u:1"); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("unknown mix: %v", err)
	}
	for range 3 {
		if err := c.Play(ctx, ids[0], "u:1"); err != nil {
			t.Fatal(err)
		}
	}
	if got := c.Pending(); got[ids[0]] != 1 || len(got) != 1 {
		t.Fatalf("pending %v: three plays in a window count once", got)
	}
	if got := plays(t, s, ids[0]); got != 0 {
		t.Fatalf("a play wrote to the database before the flush: %d", got)
	}

	// A flush that fails keeps the counts for the next one.
	dead, cancel := context.WithCancel(ctx)
	cancel()
	if err := c.Flush(dead); err == nil {
		t.Fatal("flush on a cancelled context succeeded")
	}
	if got := c.Pending(); got[ids[0]] != 1 {
		t.Fatalf("failed flush lost the counts: %v", got)
	}
	clk.Advance(30 * time.Minute)
	c.Play(ctx, ids[0], "u:1") // a new window
	c.Play(ctx, ids[1], "u:1")
	if err := c.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if a, b := plays(t, s, ids[0]), plays(t, s, ids[1]); a != 2 || b != 1 {
		t.Fatalf("plays %d, %d; want 2, 1", a, b)
	}
	if st := c.Stats(); st.FlushFailures != 1 || st.Flushes != 1 || st.RowsWritten != 2 {
		t.Fatalf("stats %+v", st)
	}
}

func TestCounterStopFlushes(t *testing.T) {
	db := sqldbtest.OpenSQLite(t, sqldb.Config{})
	s, ids := mixes(t, db, 1)
	d, _ := music.NewMemoryDedupe(0, 0, nil)
	var flushed []int64
	c, err := music.NewCounter(s, d, music.CounterConfig{FlushInterval: 20 * time.Millisecond,
		OnFlush: func(_ context.Context, ids []int64) { flushed = append(flushed, ids...) }})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	c.Start(ctx)
	c.Play(ctx, ids[0], "u:1")
	deadline := time.Now().Add(5 * time.Second)
	for plays(t, s, ids[0]) != 1 {
		if time.Now().After(deadline) {
			t.Fatal("the flusher did not write the play")
		}
		time.Sleep(10 * time.Millisecond)
	}
	c.Play(ctx, ids[0], "u:2")
	if err := c.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if got := plays(t, s, ids[0]); got != 2 {
		t.Fatalf("Stop did not flush: %d plays", got)
	}
	if len(flushed) != 2 || flushed[0] != ids[0] {
		t.Fatalf("OnFlush saw %v", flushed)
	}
}

// TestRedisDedupeSharedByInstances plays the same listeners on two
// instances (each with its own Redis client and counter, one database):
// every listen counts once in all.
func TestRedisDedupeSharedByInstances(t *testing.T) {
	sqldbtest.ForEach(t, func(t *testing.T, db *sqldb.DB) {
		s, ids := mixes(t, db, 3)
		ctx := context.Background()
		_, prefix := redistest.Open(t)
		var counters []*music.Counter
		for range 2 {
			rc, _ := redistest.Open(t) // a client of its own; its prefix is unused
			shared := music.NewRedisDedupe(rc, prefix)
			t.Cleanup(shared.Close)
			local, _ := music.NewMemoryDedupe(0, 0, nil)
			c, err := music.NewCounter(s, &music.FallbackDedupe{Shared: shared, Local: local, Timeout: time.Second}, music.CounterConfig{FlushInterval: time.Hour})
			if err != nil {
				t.Fatal(err)
			}
			counters = append(counters, c)
		}
		const listeners = 400
		var wg sync.WaitGroup
		for _, c := range counters {
			for w := range 4 {
				wg.Go(func() {
					for l := w; l < listeners; l += 2 { // workers overlap: each listener is played twice per instance
						for _, id := range ids {
							if err := c.Play(ctx, id, fmt.Sprintf("u:%d", l)); err != nil {
								t.Error(err)
								return
							}
						}
					}
				})
			}
		}
		wg.Wait()
		for _, c := range counters {
			if err := c.Flush(ctx); err != nil {
				t.Fatal(err)
			}
		}
		for _, id := range ids {
			if got := plays(t, s, id); got != listeners {
				t.Errorf("mix %d: %d plays over two instances, want %d", id, got, listeners)
			}
		}
		// Each play counted once over both instances (without the shared
		// dedupe each would count every listener: twice the total). Which
		// instance counts a play is whichever plays it first: on a busy
		// machine one instance's workers may finish before the other's
		// start, so neither share is asserted.
		a, b := counters[0].Stats(), counters[1].Stats()
		if a.Counted+b.Counted != listeners*int64(len(ids)) {
			t.Errorf("counted %d + %d, want %d in all", a.Counted, b.Counted, listeners*len(ids))
		}
	})
}

func TestRedisDedupeKeyExpires(t *testing.T) {
	rc, prefix := redistest.Open(t)
	d := music.NewRedisDedupe(rc, prefix)
	defer d.Close()
	ctx := context.Background()
	got, err := d.First(ctx, []string{"5|u:1", "5|u:1", "5|u:2"}, 30*time.Minute)
	// One of the two plays of u:1 is the first (which one depends on the
	// order the pipeline runs them in); u:2's is first.
	if err != nil || len(got) != 3 || got[0] == got[1] || !got[2] {
		t.Fatalf("First = %v %v; want exactly one of the u:1 plays first, and u:2's", got, err)
	}
	ttl, err := rc.TTL(ctx, prefix+"plays:seen:5|u:1").Result()
	if err != nil || ttl <= 29*time.Minute || ttl > 30*time.Minute {
		t.Fatalf("TTL %v %v, want 30 minutes", ttl, err)
	}
}

// TestRedisDownFallsBack cuts Redis: plays go on, deduplicated locally,
// without waiting on Redis, and shared again once it is back.
func TestRedisDownFallsBack(t *testing.T) {
	rc, proxy, prefix := redistest.Proxied(t)
	shared := music.NewRedisDedupe(rc, prefix)
	defer shared.Close()
	local, _ := music.NewMemoryDedupe(0, 0, nil)
	f := &music.FallbackDedupe{Shared: shared, Local: local, Timeout: 50 * time.Millisecond}
	ctx := context.Background()
	first := func(key string) bool {
		t.Helper()
		got, err := f.First(ctx, []string{key}, 30*time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		return got[0]
	}
	if !first("1|u:1") || first("1|u:1") {
		t.Fatal("with Redis up")
	}
	proxy.Cut()
	start := time.Now()
	if first("1|u:1") || !first("1|u:2") || first("1|u:2") {
		t.Fatal("with Redis down, local dedupe should decide")
	}
	if !f.Down() {
		t.Fatal("not marked down")
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("plays waited %v on a dead Redis", d)
	}
	proxy.Restore()
	deadline := time.Now().Add(5 * time.Second)
	for f.Down() {
		if time.Now().After(deadline) {
			t.Fatal("still down")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !first("1|u:3") || first("1|u:3") {
		t.Fatal("after Redis returned")
	}
}
