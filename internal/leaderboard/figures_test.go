package leaderboard_test

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/plazahq/plaza/internal/gamification"
	"github.com/plazahq/plaza/internal/leaderboard"
	"github.com/plazahq/plaza/internal/redisx/redistest"
)

// synthetic is a ledger snapshot made up for the figures: users users, each
// with a year of awards summed, and per hour of the last 30 days one
// aggregate for every tenth user.
type synthetic struct {
	users int
	now   time.Time
}

func (s synthetic) Snapshot(_ context.Context, sinceHour int64, each func(leaderboard.Agg) error) error {
	id := int64(0)
	for u := 1; u <= s.users; u++ {
		id += 40
		if err := each(leaderboard.Agg{UserID: int64(u), Amount: int64(u*7919%50000 + 1), MaxID: id}); err != nil {
			return err
		}
	}
	nowHour := s.now.UnixMilli() / 3_600_000
	for u := 1; u <= s.users; u += 10 {
		h := sinceHour + int64(u)%(nowHour-sinceHour+1)
		if err := each(leaderboard.Agg{UserID: int64(u), Hour: h, Amount: int64(u%40 + 1), MaxID: int64(u) * 40}); err != nil {
			return err
		}
	}
	return nil
}

func pct(d []time.Duration, p float64) time.Duration {
	slices.Sort(d)
	return d[int(float64(len(d)-1)*p)]
}

// TestFigures prints the in-process index's figures for BENCHMARKS.md:
// PLAZA_BENCH=1 go test ./internal/leaderboard -run TestFigures -v
// (PLAZA_BENCH_USERS sets the size, default 1,000,000).
func TestFigures(t *testing.T) {
	if os.Getenv("PLAZA_BENCH") == "" {
		t.Skip("PLAZA_BENCH not set")
	}
	n := 1_000_000
	if v, err := strconv.Atoi(os.Getenv("PLAZA_BENCH_USERS")); err == nil {
		n = v
	}
	now := time.Now()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	m := leaderboard.NewMemory(now)
	start := time.Now()
	if err := m.Rebuild(context.Background(), synthetic{users: n, now: now}, now); err != nil {
		t.Fatal(err)
	}
	rebuild := time.Since(start)
	runtime.GC()
	runtime.ReadMemStats(&after)
	ctx := context.Background()
	var heads, pages []time.Duration
	for i := range 20000 {
		user := int64(i*7919%n + 1)
		s := time.Now()
		h, err := m.Head(ctx, leaderboard.AllTime, user, now)
		heads = append(heads, time.Since(s))
		if err != nil || h.Me == nil {
			t.Fatal(err, h)
		}
		s = time.Now()
		if _, err := m.Range(ctx, leaderboard.AllTime, max(0, h.Me.Rank-26), 50); err != nil {
			t.Fatal(err)
		}
		pages = append(pages, time.Since(s))
	}
	var applies []time.Duration
	for i := range 20000 {
		s := time.Now()
		m.Apply(ctx, gamification.Posted{ID: int64(n*40 + i + 1), UserID: int64(i*31%n + 1), Amount: 3, At: now})
		applies = append(applies, time.Since(s))
	}
	fmt.Printf("in-process index, %d users: heap %.0f MiB (%.0f B/user), rebuild %v\n", n,
		float64(after.HeapAlloc-before.HeapAlloc)/(1<<20), float64(after.HeapAlloc-before.HeapAlloc)/float64(n), rebuild.Round(time.Millisecond))
	fmt.Printf("rank (head with me) p50 %v p99 %v; page of 50 around me p50 %v p99 %v; apply p50 %v p99 %v\n",
		pct(heads, .5), pct(heads, .99), pct(pages, .5), pct(pages, .99), pct(applies, .5), pct(applies, .99))
	runtime.KeepAlive(m)
}

// BenchmarkApply is the cost of one award reaching the index (the
// after-commit hook's work): go test ./internal/leaderboard -bench Apply -run ^$
func BenchmarkApply(b *testing.B) {
	now := time.Now()
	run := func(b *testing.B, idx leaderboard.Index) {
		if err := idx.Rebuild(context.Background(), synthetic{users: 10000, now: now}, now); err != nil {
			b.Fatal(err)
		}
		b.ResetTimer()
		for i := range b.N {
			if err := idx.Apply(context.Background(), gamification.Posted{ID: int64(10_000_000 + i), UserID: int64(i%10000 + 1), Amount: 2, At: now}); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("memory", func(b *testing.B) { run(b, leaderboard.NewMemory(now)) })
	b.Run("redis", func(b *testing.B) {
		c, prefix := redistest.Open(b)
		run(b, leaderboard.NewRedis(c, prefix))
	})
}
