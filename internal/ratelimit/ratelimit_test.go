package ratelimit_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/plazahq/plaza/internal/ratelimit"
	"github.com/plazahq/plaza/internal/redisx/redistest"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// TestLimiterConformance: both limiters allow a burst of Limit, refuse the
// next with a Retry-After of about one interval, refill, and keep keys and
// tiers apart.
func TestLimiterConformance(t *testing.T) {
	ctx := context.Background()
	rc, prefix := redistest.Open(t)
	for name, l := range map[string]ratelimit.Limiter{"memory": ratelimit.NewMemory(nil), "redis": ratelimit.NewRedis(rc, prefix)} {
		t.Run(name, func(t *testing.T) {
			tier := ratelimit.Tier{Name: "t", Limit: 5, Window: time.Second} // one every 200ms
			key := fmt.Sprint("k-", time.Now().UnixNano())
			for i := range 5 {
				d, err := l.Allow(ctx, tier, key)
				if err != nil || !d.Allowed || d.Remaining != 4-i || d.Limit != 5 {
					t.Fatalf("request %d: %+v %v", i, d, err)
				}
			}
			d, _ := l.Allow(ctx, tier, key)
			if d.Allowed || d.Remaining != 0 || d.RetryAfter <= 0 || d.RetryAfter > 210*time.Millisecond {
				t.Fatalf("6th: %+v", d)
			}
			if d, _ := l.Allow(ctx, tier, key+"-other"); !d.Allowed {
				t.Fatal("keys share an allowance")
			}
			if d, _ := l.Allow(ctx, ratelimit.Tier{Name: "u", Limit: 5, Window: time.Second}, key); !d.Allowed {
				t.Fatal("tiers share an allowance")
			}
			time.Sleep(250 * time.Millisecond)
			if d, _ := l.Allow(ctx, tier, key); !d.Allowed {
				t.Fatalf("not refilled after one interval: %+v", d)
			}
			if d, _ := l.Allow(ctx, ratelimit.Tier{Name: "off"}, key); !d.Allowed {
				t.Fatal("an off tier refused")
			}
		})
	}
}

func TestMemorySweepsIdleKeys(t *testing.T) {
	now := time.Unix(0, 0)
	m := ratelimit.NewMemory(func() time.Time { return now })
	tier := ratelimit.Tier{Name: "t", Limit: 10, Window: time.Second}
	for i := range 1000 {
		m.Allow(context.Background(), tier, fmt.Sprint(i))
	}
	now = now.Add(2 * time.Minute)
	m.Allow(context.Background(), tier, "x")
	if m.Len() != 1 {
		t.Fatalf("%d keys kept", m.Len())
	}
}

func TestParseTier(t *testing.T) {
	for in, want := range map[string]ratelimit.Tier{"100/1m": {"x", 100, time.Minute}, "5/15m": {"x", 5, 15 * time.Minute}, "off": {Name: "x"}, "0": {Name: "x"}} {
		got, err := ratelimit.ParseTier("x", in)
		if err != nil || got != want {
			t.Errorf("ParseTier(%q) = %+v, %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "100", "x/1m", "10/fast", "-1/1m", "10/1ms"} {
		if _, err := ratelimit.ParseTier("x", bad); err == nil {
			t.Errorf("ParseTier(%q) accepted", bad)
		}
	}
}

func TestFailureWindows(t *testing.T) {
	ctx := context.Background()
	rc, prefix := redistest.Open(t)
	tier := ratelimit.Tier{Name: "login", Limit: 3, Window: time.Second}
	type window interface {
		Blocked(context.Context, string) (time.Duration, bool)
		Fail(context.Context, string)
	}
	for name, w := range map[string]window{
		"memory": ratelimit.NewFailures(3, time.Second, time.Now),
		"redis":  ratelimit.NewFailureFallback(ratelimit.NewRedisFailures(rc, prefix, tier), ratelimit.NewFailures(3, time.Second, time.Now), 50*time.Millisecond, quiet()),
	} {
		t.Run(name, func(t *testing.T) {
			for range 3 {
				if _, b := w.Blocked(ctx, "acct"); b {
					t.Fatal("blocked early")
				}
				w.Fail(ctx, "acct")
			}
			wait, b := w.Blocked(ctx, "acct")
			if !b || wait <= 0 || wait > time.Second {
				t.Fatalf("Blocked = %v %v", wait, b)
			}
			if _, b := w.Blocked(ctx, "other"); b {
				t.Fatal("keys share failures")
			}
			time.Sleep(wait + 50*time.Millisecond)
			if _, b := w.Blocked(ctx, "acct"); b {
				t.Fatal("still blocked after the window")
			}
		})
	}
	// Shared: a second instance sees the first one's failures.
	a := ratelimit.NewRedisFailures(rc, prefix, tier)
	b := ratelimit.NewRedisFailures(rc, prefix, tier)
	for range 3 {
		a.Fail(ctx, "shared")
	}
	if _, blocked, err := b.Blocked(ctx, "shared"); err != nil || !blocked {
		t.Fatalf("other instance: blocked=%v err=%v", blocked, err)
	}
}

// Redis stops answering: decisions come from the local limiter at once,
// and the shared limiter is used again when Redis is back.
func TestFallbackWhenRedisIsLost(t *testing.T) {
	rc, p, prefix := redistest.Proxied(t)
	f := ratelimit.NewFallback(ratelimit.NewRedis(rc, prefix), ratelimit.NewMemory(nil), 20*time.Millisecond, quiet())
	tier := ratelimit.Tier{Name: "api", Limit: 3, Window: time.Minute}
	ctx := context.Background()
	for range 3 {
		f.Allow(ctx, tier, "u1")
	}
	if d, _ := f.Allow(ctx, tier, "u1"); d.Allowed {
		t.Fatal("shared limit not applied")
	}
	p.Cut()
	start := time.Now()
	for i := range 3 { // the local limiter has its own, fresh allowance
		if d, err := f.Allow(ctx, tier, "u1"); err != nil || !d.Allowed {
			t.Fatalf("local decision %d: %+v %v", i, d, err)
		}
	}
	if d, _ := f.Allow(ctx, tier, "u1"); d.Allowed {
		t.Fatal("local limit not applied")
	}
	if el := time.Since(start); el > 500*time.Millisecond {
		t.Fatalf("decisions while Redis is down took %v", el)
	}
	if !f.Down() {
		t.Fatal("Down() = false during the outage")
	}
	p.Restore()
	time.Sleep(1100 * time.Millisecond) // the breaker retries after a second
	if d, _ := f.Allow(ctx, tier, "u1"); d.Allowed || f.Down() {
		t.Fatalf("after recovery the shared (exhausted) limit should apply again: %+v down=%v", d, f.Down())
	}
}

func BenchmarkAllowMemory(b *testing.B) {
	m := ratelimit.NewMemory(nil)
	tier := ratelimit.Tier{Name: "api", Limit: 1 << 30, Window: time.Minute}
	ctx := context.Background()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			m.Allow(ctx, tier, fmt.Sprint("user:", i%1000))
			i++
		}
	})
}

func BenchmarkAllowRedis(b *testing.B) {
	rc, prefix := redistest.Open(b)
	r := ratelimit.NewRedis(rc, prefix)
	tier := ratelimit.Tier{Name: "api", Limit: 1 << 30, Window: time.Minute}
	ctx := context.Background()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, err := r.Allow(ctx, tier, fmt.Sprint("user:", i%1000)); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}

// PLAZA_RATE_LOGIN=off: failure windows with no limit never block (and do
// not fall over on the first failure).
func TestFailureWindowsOff(t *testing.T) {
	ctx := context.Background()
	rc, prefix := redistest.Open(t)
	off := ratelimit.Tier{Name: "login"}
	for name, w := range map[string]interface {
		Blocked(context.Context, string) (time.Duration, bool)
		Fail(context.Context, string)
	}{
		"memory": ratelimit.NewFailures(off.Limit, off.Window, time.Now),
		"redis":  ratelimit.NewFailureFallback(ratelimit.NewRedisFailures(rc, prefix, off), ratelimit.NewFailures(0, 0, time.Now), 50*time.Millisecond, quiet()),
	} {
		for range 10 {
			w.Fail(ctx, "k")
		}
		if _, b := w.Blocked(ctx, "k"); b {
			t.Errorf("%s: blocked with the tier off", name)
		}
	}
}
