package ratelimit

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"
)

func TestFailuresSlidingWindow(t *testing.T) {
	now := time.Unix(0, 0)
	f := NewFailures(3, time.Minute, func() time.Time { return now })
	ctx := context.Background()
	for i := range 3 {
		if _, b := f.Blocked(ctx, "k"); b {
			t.Fatalf("blocked after %d failures", i)
		}
		f.Fail(ctx, "k")
		now = now.Add(10 * time.Second)
	}
	wait, b := f.Blocked(ctx, "k")
	if !b || wait != 30*time.Second { // first failure at 0s ages out at 60s; now is 30s
		t.Fatalf("Blocked = %v, %v", wait, b)
	}
	if _, b := f.Blocked(ctx, "other"); b {
		t.Fatal("keys leak into each other")
	}
	now = now.Add(30 * time.Second)
	if _, b := f.Blocked(ctx, "k"); b {
		t.Fatal("still blocked after the oldest failure aged out")
	}
}

func TestFailuresForgetOldKeys(t *testing.T) {
	now := time.Unix(0, 0)
	f := NewFailures(5, time.Minute, func() time.Time { return now })
	ctx := context.Background()
	for i := range 5000 {
		f.Fail(ctx, fmt.Sprint("ip-", i))
	}
	now = now.Add(2 * time.Minute)
	for i := range 40000 {
		f.Fail(ctx, fmt.Sprint("new-", i%10))
	}
	if n := f.Len(); n > 10 {
		t.Fatalf("%d keys tracked, want only the 10 live ones", n)
	}
}

func TestFailuresConcurrent(t *testing.T) {
	f := NewFailures(1000, time.Minute, time.Now)
	ctx := context.Background()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 500 {
				f.Fail(ctx, fmt.Sprint("k", (g*i)%7))
				f.Blocked(ctx, "k1")
			}
		}()
	}
	wg.Wait()
}
