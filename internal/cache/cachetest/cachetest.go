// Package cachetest is the conformance suite every cache.Backend passes.
package cachetest

import (
	"context"
	"testing"
	"time"

	"github.com/plazahq/plaza/internal/cache"
)

// Exercise checks b's contract.
func Exercise(t *testing.T, b cache.Backend) {
	ctx := context.Background()
	get := func(key, tag string) (string, bool) {
		t.Helper()
		v, ok, err := b.Get(ctx, key, tag)
		if err != nil {
			t.Fatal(err)
		}
		return string(v), ok
	}

	t.Run("SetGetDelete", func(t *testing.T) {
		if err := b.Set(ctx, "k1", "", 0, []byte("v1"), time.Minute); err != nil {
			t.Fatal(err)
		}
		if v, ok := get("k1", ""); !ok || v != "v1" {
			t.Fatalf("get = %q %v", v, ok)
		}
		if _, ok := get("missing", ""); ok {
			t.Fatal("hit on a missing key")
		}
		b.Delete(ctx, "k1", "never-set")
		if _, ok := get("k1", ""); ok {
			t.Fatal("hit after delete")
		}
	})

	t.Run("EmptyValue", func(t *testing.T) {
		b.Set(ctx, "empty", "", 0, []byte{}, time.Minute)
		if v, ok := get("empty", ""); !ok || v != "" {
			t.Fatalf("get = %q %v", v, ok)
		}
	})

	t.Run("TagInvalidation", func(t *testing.T) {
		ver, err := b.TagVersion(ctx, "user:1")
		if err != nil {
			t.Fatal(err)
		}
		b.Set(ctx, "profile:1", "user:1", ver, []byte("p"), time.Minute)
		b.Set(ctx, "me:1", "user:1", ver, []byte("m"), time.Minute)
		b.Set(ctx, "profile:2", "user:2", 0, []byte("q"), time.Minute)
		if _, ok := get("profile:1", "user:1"); !ok {
			t.Fatal("miss before invalidation")
		}
		if err := b.InvalidateTag(ctx, "user:1"); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"profile:1", "me:1"} {
			if _, ok := get(k, "user:1"); ok {
				t.Fatalf("%s served after its tag was invalidated", k)
			}
		}
		if v, ok := get("profile:2", "user:2"); !ok || v != "q" {
			t.Fatal("other tag affected")
		}
		// A value loaded before the invalidation but stored after it is stale.
		b.Set(ctx, "profile:1", "user:1", ver, []byte("old"), time.Minute)
		if _, ok := get("profile:1", "user:1"); ok {
			t.Fatal("value stamped with the old version served")
		}
		nv, _ := b.TagVersion(ctx, "user:1")
		b.Set(ctx, "profile:1", "user:1", nv, []byte("new"), time.Minute)
		if v, ok := get("profile:1", "user:1"); !ok || v != "new" {
			t.Fatalf("fresh value: %q %v", v, ok)
		}
		// Reading under another tag than the one stored is a miss.
		if _, ok := get("profile:1", "user:9"); ok {
			t.Fatal("hit under the wrong tag")
		}
	})

	t.Run("TTL", func(t *testing.T) {
		b.Set(ctx, "short", "", 0, []byte("x"), 1100*time.Millisecond)
		if _, ok := get("short", ""); !ok {
			t.Fatal("miss before expiry")
		}
		time.Sleep(1500 * time.Millisecond)
		if _, ok := get("short", ""); ok {
			t.Fatal("hit after expiry")
		}
	})
}
