// Package redistest gives tests a real Redis client from
// PLAZA_TEST_REDIS_URL and a key prefix of their own, whose keys are deleted
// when the test ends. Without the variable the test is skipped, except under
// CI=true, where it fails.
package redistest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/plazahq/plaza/internal/netfault"
	"github.com/plazahq/plaza/internal/redisx"
	"github.com/plazahq/plaza/internal/testenv"
	"github.com/redis/go-redis/v9"
)

// URL returns PLAZA_TEST_REDIS_URL or skips (fails under CI=true).
func URL(t testing.TB) string {
	t.Helper()
	return testenv.Lookup(t, "PLAZA_TEST_REDIS_URL", "Redis")
}

// Open returns a client and a unique key prefix, cleaned up after the test.
func Open(t testing.TB) (*redis.Client, string) {
	t.Helper()
	c, err := redisx.Open(context.Background(), URL(t))
	if err != nil {
		t.Fatal(err)
	}
	return c, Prefix(t, c)
}

// Proxied returns a client that reaches the test Redis through a proxy the
// test can cut and restore, and a unique key prefix.
func Proxied(t testing.TB) (*redis.Client, *netfault.Proxy, string) {
	t.Helper()
	u := URL(t)
	opts, err := redis.ParseURL(u)
	if err != nil {
		t.Fatal(err)
	}
	p := netfault.New(t, opts.Addr)
	c, err := redisx.Open(context.Background(), strings.Replace(u, opts.Addr, p.Addr(), 1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	// The prefix's keys are deleted through a direct client, which still
	// works at the end of the test if the proxy was left cut.
	_, prefix := Open(t)
	return c, p, prefix
}

// Prefix returns a unique key prefix whose keys are deleted after the test.
func Prefix(t testing.TB, c *redis.Client) string {
	t.Helper()
	b := make([]byte, 6)
	rand.Read(b)
	prefix := "plaza-test-" + hex.EncodeToString(b) + ":"
	t.Cleanup(func() {
		ctx := context.Background()
		iter := c.Scan(ctx, 0, prefix+"*", 1000).Iterator()
		for iter.Next(ctx) {
			c.Del(ctx, iter.Val())
		}
		c.Close()
	})
	return prefix
}
