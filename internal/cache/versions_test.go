package cache_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/plazahq/plaza/internal/cache"
	"github.com/plazahq/plaza/internal/redisx/redistest"
)

// An invalidation on one instance moves the version that every instance
// reads, before InvalidateTag returns: no waiting for pub/sub.
func TestTagVersionsFollowInvalidationAtOnce(t *testing.T) {
	modes(t, func(t *testing.T, mk func() *cache.Cache) {
		a := mk()
		b := a
		if a.Shared() {
			b = mk() // a second instance on the same Redis
		}
		ctx := context.Background()
		tags := []string{"courses", "courses:progress:7", "courses:progress:8"}
		v0, err := b.TagVersions(ctx, tags)
		if err != nil || len(v0) != 3 || v0[0] != 0 || v0[1] != 0 {
			t.Fatalf("before any invalidation: %v %v", v0, err)
		}
		for range 50 {
			a.InvalidateTag(ctx, "courses:progress:7")
			v1, err := b.TagVersions(ctx, tags)
			if err != nil {
				t.Fatal(err)
			}
			if v1[1] == v0[1] || v1[0] != v0[0] || v1[2] != v0[2] {
				t.Fatalf("after invalidating tag 7 on the other instance: %v, before %v", v1, v0)
			}
			if va, _ := a.TagVersions(ctx, tags); va[1] != v1[1] {
				t.Fatalf("instances disagree: %v vs %v", va, v1)
			}
			if err := a.InvalidateTagSync(ctx, time.Second, "courses:progress:8"); err != nil {
				t.Fatal(err)
			}
			v2, _ := b.TagVersions(ctx, tags)
			if v2[2] == v1[2] || v2[1] != v1[1] {
				t.Fatalf("after InvalidateTagSync of tag 8: %v, before %v", v2, v1)
			}
			v0 = v2
		}
	})
}

func TestTagVersionsWhileRedisIsLost(t *testing.T) {
	rc, p, prefix := redistest.Proxied(t)
	c := newCache(t, rc, prefix)
	ctx := context.Background()
	if !c.Shared() {
		t.Fatal("a cache on Redis says it is not shared")
	}
	if _, err := c.TagVersions(ctx, []string{"x"}); err != nil {
		t.Fatal(err)
	}
	p.Cut()
	// No version is read; once the cache knows Redis is gone (the failed
	// call if Redis refused it, else the heartbeat within about a second)
	// the answer comes at once.
	if _, err := c.TagVersions(ctx, []string{"x"}); err == nil {
		t.Fatal("versions read with Redis cut")
	}
	deadline := time.Now().Add(3 * time.Second)
	for {
		if down, _ := c.RemoteDown(); down {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("Redis cut and not known down")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := c.TagVersions(ctx, []string{"x"}); !errors.Is(err, cache.ErrSharedDown) {
		t.Fatalf("with Redis known down: %v", err)
	}
	start := time.Now()
	if err := c.InvalidateTagSync(ctx, 5*time.Second, "x"); err == nil {
		t.Fatal("InvalidateTagSync says the version moved with Redis cut")
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("InvalidateTagSync waited %v with Redis known down", d)
	}
	if newCache(t, nil, "").Shared() {
		t.Fatal("an in-process cache says it is shared")
	}
}
