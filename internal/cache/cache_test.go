package cache_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plazahq/plaza/internal/cache"
	"github.com/plazahq/plaza/internal/cache/cachetest"
	"github.com/plazahq/plaza/internal/redisx"
	"github.com/plazahq/plaza/internal/redisx/redistest"
	"github.com/redis/go-redis/v9"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func TestMemoryConformance(t *testing.T) {
	m, err := cache.NewMemory(1 << 20)
	if err != nil {
		t.Fatal(err)
	}
	cachetest.Exercise(t, m)
}

func TestRedisConformance(t *testing.T) {
	rc, prefix := redistest.Open(t)
	r, err := cache.NewRedis(context.Background(), rc, prefix)
	if err != nil {
		t.Fatal(err)
	}
	cachetest.Exercise(t, r)
}

// loader counts loads and returns "v<n>".
type loader struct{ n atomic.Int64 }

func (l *loader) load(ctx context.Context) ([]byte, error) {
	n := l.n.Add(1)
	time.Sleep(20 * time.Millisecond)
	return []byte(fmt.Sprint("v", n)), nil
}

func newCache(t *testing.T, rc *redis.Client, prefix string) *cache.Cache {
	c, err := cache.New(context.Background(), cache.Config{Prefix: prefix, LocalTTLCap: time.Minute}, rc, quiet())
	if err != nil {
		t.Fatal(err)
	}
	c.Start()
	t.Cleanup(c.Stop)
	return c
}

func modes(t *testing.T, fn func(t *testing.T, mk func() *cache.Cache)) {
	t.Run("memory", func(t *testing.T) { fn(t, func() *cache.Cache { return newCache(t, nil, "") }) })
	t.Run("redis", func(t *testing.T) {
		rc, prefix := redistest.Open(t)
		fn(t, func() *cache.Cache { return newCache(t, rc, prefix) })
	})
}

func TestConcurrentMissesLoadOnce(t *testing.T) {
	modes(t, func(t *testing.T, mk func() *cache.Cache) {
		c := mk()
		var l loader
		var wg sync.WaitGroup
		for range 100 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				v, err := c.Get(context.Background(), cache.Long, "hot", "", l.load)
				if err != nil || string(v) != "v1" {
					t.Errorf("got %q %v", v, err)
				}
			}()
		}
		wg.Wait()
		if l.n.Load() != 1 {
			t.Fatalf("%d loads for 100 concurrent misses", l.n.Load())
		}
		st := c.Stats()
		if tier := st.Tiers["long"]; tier.Misses+tier.LocalHits+tier.RemoteHits != 100 || st.Lookups != 100 {
			t.Fatalf("stats %+v", st)
		}
	})
}

func TestInvalidation(t *testing.T) {
	modes(t, func(t *testing.T, mk func() *cache.Cache) {
		c := mk()
		ctx := context.Background()
		var l loader
		get := func(key, tag string) string {
			v, err := c.Get(ctx, cache.Long, key, tag, l.load)
			if err != nil {
				t.Fatal(err)
			}
			return string(v)
		}
		first := get("a", "user:1")
		second := get("a", "user:1") // served from the cache: no second load
		if first != "v1" || second != "v1" {
			t.Fatal("second read not served from the cache")
		}
		c.InvalidateTag(ctx, "user:1")
		if got := get("a", "user:1"); got != "v2" {
			t.Fatalf("after tag invalidation: %s", got)
		}
		c.Invalidate(ctx, "a")
		if got := get("a", "user:1"); got != "v3" {
			t.Fatalf("after key invalidation: %s", got)
		}
	})
}

func TestLoadErrorsAreNotCached(t *testing.T) {
	c := newCache(t, nil, "")
	boom := errors.New("boom")
	if _, err := c.Get(context.Background(), cache.Short, "k", "", func(context.Context) ([]byte, error) { return nil, boom }); !errors.Is(err, boom) {
		t.Fatalf("got %v", err)
	}
	v, err := c.Get(context.Background(), cache.Short, "k", "", func(context.Context) ([]byte, error) { return []byte("ok"), nil })
	if err != nil || string(v) != "ok" {
		t.Fatalf("got %q %v", v, err)
	}
}

// OnTagInvalidated hears every tag the instance invalidates, in the
// order given, after the local tier dropped its entries; keys and other
// instances' tags are not its own invalidations of a tag.
func TestOnTagInvalidated(t *testing.T) {
	c := newCache(t, nil, "")
	ctx := context.Background()
	var l loader
	if _, err := c.Get(ctx, cache.Long, "a", "user:1", l.load); err != nil {
		t.Fatal(err)
	}
	var heard, heard2 []string
	stale := false
	c.OnTagInvalidated(func(tag string) {
		heard = append(heard, tag)
		v, _ := c.Get(ctx, cache.Long, "a", "user:1", l.load)
		stale = stale || string(v) == "v1"
	})
	c.OnTagInvalidated(func(tag string) { heard2 = append(heard2, tag) })
	c.Invalidate(ctx, "a")
	c.InvalidateTag(ctx, "user:1", "account:1")
	if fmt.Sprint(heard) != "[user:1 account:1]" || fmt.Sprint(heard2) != fmt.Sprint(heard) {
		t.Fatalf("heard %v and %v, want [user:1 account:1] by both", heard, heard2)
	}
	if stale {
		t.Fatal("a hook read the tag's old entry: it ran before the local tier dropped it")
	}
}

// A tag another instance invalidates reaches this one's hooks too.
func TestOnTagInvalidatedAcrossInstances(t *testing.T) {
	rc, prefix := redistest.Open(t)
	a, b := newCache(t, rc, prefix), newCache(t, rc, prefix)
	heard := make(chan string, 100)
	b.OnTagInvalidated(func(tag string) { heard <- tag })
	deadline := time.After(3 * time.Second)
	for { // sent again until B's subscription, started in the background, is up
		a.InvalidateTag(context.Background(), "account:9")
		select {
		case tag := <-heard:
			if tag != "account:9" {
				t.Fatalf("heard %q", tag)
			}
			return
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			t.Fatal("B's hook never heard A's invalidation")
		}
	}
}

// Two instances share Redis: B reads what A loaded, and A's invalidation
// reaches B's local tier through pub/sub.
func TestCrossInstance(t *testing.T) {
	rc, prefix := redistest.Open(t)
	a, b := newCache(t, rc, prefix), newCache(t, rc, prefix)
	ctx := context.Background()
	var l loader
	if v, _ := a.Get(ctx, cache.Long, "p", "user:7", l.load); string(v) != "v1" {
		t.Fatal(string(v))
	}
	if v, _ := b.Get(ctx, cache.Long, "p", "user:7", l.load); string(v) != "v1" || l.n.Load() != 1 {
		t.Fatalf("B loaded again: %s after %d loads", v, l.n.Load())
	}
	if st := b.Stats().Tiers["long"]; st.RemoteHits != 1 {
		t.Fatalf("B stats %+v", st)
	}
	a.InvalidateTag(ctx, "user:7")
	deadline := time.Now().Add(3 * time.Second)
	for {
		v, _ := b.Get(ctx, cache.Long, "p", "user:7", l.load)
		if string(v) != "v1" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("B still serves the invalidated value")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Redis stops answering mid-test: reads keep working on the local tier and
// the database, invalidations still apply locally, health can tell, and
// after Redis returns nothing invalidated meanwhile is served from it,
// while everything else in the shared cache is still there (the missed
// invalidation is replayed, not paid for with an empty cache).
func TestRedisLostAndRecovered(t *testing.T) {
	rc, p, prefix := redistest.Proxied(t)
	direct, _ := redistest.Open(t)
	c := newCache(t, rc, prefix)
	other := newCache(t, direct, prefix) // an instance that never loses Redis
	ctx := context.Background()
	var l loader
	get := func(cc *cache.Cache) string {
		v, err := cc.Get(ctx, cache.Long, "p", "user:3", l.load)
		if err != nil {
			t.Fatalf("read failed: %v", err)
		}
		return string(v)
	}
	if get(c) != "v1" {
		t.Fatal("first load")
	}
	var other4 loader // an entry no write touches
	if v, _ := c.Get(ctx, cache.Long, "q", "user:4", other4.load); string(v) != "v1" {
		t.Fatal("first load of q")
	}
	p.Cut()
	start := time.Now()
	for range 20 {
		if get(c) != "v1" { // the local tier still answers
			t.Fatal("local tier lost")
		}
	}
	c.InvalidateTag(ctx, "user:3") // cannot reach Redis: applied locally, remembered
	if v := get(c); v != "v2" {
		t.Fatalf("after a local invalidation while Redis is down: %s", v)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("reads while Redis is down took %v", d)
	}
	// A lost Redis and a slow one look alike to the client (go-redis
	// redials until the deadline): the heartbeat tells them apart by two
	// pings in a row that time out.
	deadline := time.Now().Add(3 * time.Second)
	for {
		if down, why := c.RemoteDown(); down && why != "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("RemoteDown does not report the outage")
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("marked down %v after the cut", time.Since(start))
	// Meanwhile Redis still holds v1 for the other instance ...
	if get(other) != "v1" {
		t.Fatal("other instance")
	}
	p.Restore()
	deadline = time.Now().Add(5 * time.Second)
	for {
		if down, _ := c.RemoteDown(); !down {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("cache did not reconnect")
		}
		time.Sleep(50 * time.Millisecond)
	}
	// ... but the missed invalidation was replayed: nobody reads v1 again.
	deadline = time.Now().Add(3 * time.Second)
	for get(other) == "v1" {
		if time.Now().After(deadline) {
			t.Fatal("other instance still serves a value invalidated while Redis was down")
		}
		time.Sleep(20 * time.Millisecond)
	}
	// The rest of the shared cache survived: both instances read q from
	// Redis (c's local tier was flushed) without loading it again.
	for _, cc := range []*cache.Cache{c, other} {
		if v, _ := cc.Get(ctx, cache.Long, "q", "user:4", other4.load); string(v) != "v1" || other4.n.Load() != 1 {
			t.Fatalf("q after recovery: %s after %d loads; the shared cache was emptied", v, other4.n.Load())
		}
	}
	if st := c.Stats(); st.Replayed != 1 || st.Unreplayed != 0 {
		t.Fatalf("replayed %d, waiting %d; want 1 and 0", st.Replayed, st.Unreplayed)
	}
}

func BenchmarkGetHitMemory(b *testing.B) {
	c, _ := cache.New(context.Background(), cache.Config{}, nil, quiet())
	ctx := context.Background()
	load := func(context.Context) ([]byte, error) { return []byte(`{"id":1}`), nil }
	c.Get(ctx, cache.Long, "k", "user:1", load)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			c.Get(ctx, cache.Long, "k", "user:1", load)
		}
	})
}

// Two instances share Redis through one proxy and Redis is lost: an entry
// that grants access (a session), invalidated on A, is no longer served by
// B within about a second, not after the local tier's 10 s: B notices the
// loss by itself (its reads are all local hits), flushes what it can no
// longer trust, and keeps Revocable entries only IsolatedTTL meanwhile.
func TestRevocableEntriesWhileRedisIsLost(t *testing.T) {
	ctx := context.Background()
	rcA, p, prefix := redistest.Proxied(t)
	u := redistest.URL(t)
	opts, err := redis.ParseURL(u)
	if err != nil {
		t.Fatal(err)
	}
	rcB, err := redisx.Open(ctx, strings.Replace(u, opts.Addr, p.Addr(), 1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rcB.Close() })
	mk := func(rc *redis.Client) *cache.Cache {
		c, err := cache.New(ctx, cache.Config{Prefix: prefix}, rc, quiet()) // the default 10 s local cap
		if err != nil {
			t.Fatal(err)
		}
		c.Start()
		t.Cleanup(c.Stop)
		return c
	}
	a, b := mk(rcA), mk(rcB)
	var l loader
	get := func(c *cache.Cache) string {
		v, err := c.Get(ctx, cache.Sessions, "session:s1", "user:9", l.load)
		if err != nil {
			t.Fatal(err)
		}
		return string(v)
	}
	// B serves the session from its local tier for as long as it may.
	waitChange := func(old string, bound time.Duration) time.Duration {
		t.Helper()
		start := time.Now()
		for get(b) == old {
			if time.Since(start) > bound {
				t.Fatalf("B still serves the revoked entry after %v", time.Since(start))
			}
			time.Sleep(20 * time.Millisecond)
		}
		return time.Since(start)
	}
	get(a)
	old := get(b)
	p.Cut()
	a.InvalidateTag(ctx, "user:9") // revoked on A; the broadcast cannot leave
	d := waitChange(old, 2500*time.Millisecond)
	t.Logf("revocation honoured on B %v after Redis was lost", d)

	// While Redis stays away, B keeps such entries about IsolatedTTL.
	old = get(b)
	a.InvalidateTag(ctx, "user:9")
	d = waitChange(old, 1500*time.Millisecond)
	t.Logf("second revocation honoured on B after %v", d)
}

// Redis is slow for a moment (its answers held back, then delivered): a read
// that times out goes to the loader for that call, an invalidation that
// times out is sent again, and Redis stays in use: nothing is flushed and
// no instance loses its shared cache. Only a Redis that stays silent is
// marked down, by the heartbeat.
func TestSlowRedisIsNotDropped(t *testing.T) {
	rc, p, prefix := redistest.Proxied(t)
	direct, _ := redistest.Open(t)
	ctx := context.Background()
	a, err := cache.New(ctx, cache.Config{Prefix: prefix, LocalTTLCap: time.Minute, OpTimeout: 200 * time.Millisecond}, rc, quiet())
	if err != nil {
		t.Fatal(err)
	}
	a.Start()
	t.Cleanup(a.Stop)
	b := newCache(t, direct, prefix) // an instance whose Redis answers
	var l loader
	get := func(c *cache.Cache, key string) string {
		v, err := c.Get(ctx, cache.Long, key, "user:3", l.load)
		if err != nil {
			t.Fatal(err)
		}
		return string(v)
	}
	if get(a, "p") != "v1" || get(b, "p") != "v1" {
		t.Fatal("first load is not shared")
	}

	// A read of an entry A does not hold times out: loaded, and Redis kept.
	p.Blackhole()
	if v := get(a, "q"); v != "v2" {
		t.Fatalf("read while Redis is slow: %s", v)
	}
	p.Release()
	if down, why := a.RemoteDown(); down {
		t.Fatalf("one slow read marked Redis down: %s", why)
	}
	if get(a, "p") != "v1" {
		t.Fatal("a slow read flushed the local tier")
	}
	if st := a.Stats(); st.RedisTimeouts < 1 {
		t.Fatalf("timeouts not counted: %+v", st)
	}

	// An invalidation whose first try times out goes through on a later one.
	p.Blackhole()
	time.AfterFunc(300*time.Millisecond, p.Release)
	a.InvalidateTag(ctx, "user:3")
	if down, why := a.RemoteDown(); down {
		t.Fatalf("a slow invalidation marked Redis down: %s", why)
	}
	deadline := time.Now().Add(3 * time.Second)
	for get(b, "p") == "v1" {
		if time.Now().After(deadline) {
			t.Fatal("the invalidation sent again did not reach the other instance")
		}
		time.Sleep(20 * time.Millisecond)
	}
	// The shared cache was not dropped: what B loaded, A reads from Redis.
	loads := l.n.Load()
	if v := get(a, "p"); v != fmt.Sprint("v", loads) || l.n.Load() != loads {
		t.Fatalf("A read %s after %d loads, want B's v%d from Redis", v, l.n.Load(), loads)
	}

	// A Redis that stays silent is marked down by the heartbeat.
	p.Blackhole()
	t.Cleanup(p.Release)
	deadline = time.Now().Add(3 * time.Second)
	for {
		if down, _ := a.RemoteDown(); down {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a silent Redis was not marked down")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
