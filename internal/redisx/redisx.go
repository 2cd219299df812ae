// Package redisx opens Plaza's Redis client from REDIS_URL with the timeouts
// Plaza relies on: every user of Redis (cache, rate limits, pub/sub) treats
// it as optional and must get an answer, or an error, within milliseconds.
package redisx

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/redis/go-redis/v9"
)

// New parses url and returns a client without contacting the server:
// Plaza starts, degraded, when Redis is down.
func New(url string) (*redis.Client, error) {
	opts, err := redis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("redis: REDIS_URL: %w", err)
	}
	tune(opts)
	return redis.NewClient(opts), nil
}

// tune sets generous client-wide timeouts: go-redis uses the earlier of the
// context's deadline and these, so each caller's context decides (the
// cache gives Redis 50 ms, rate limits 10 ms, the real-time broker 2 s).
func tune(opts *redis.Options) {
	opts.DialTimeout = 2 * time.Second
	opts.ReadTimeout = 3 * time.Second
	opts.WriteTimeout = 3 * time.Second
	opts.PoolTimeout = 3 * time.Second
	opts.PoolSize = max(opts.PoolSize, 64)
	opts.MaxRetries = 0 // callers fall back instead of retrying
	opts.ContextTimeoutEnabled = true
}

// Open parses url and checks that the server answers.
func Open(ctx context.Context, url string) (*redis.Client, error) {
	opts, err := redis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("redis: REDIS_URL: %w", err)
	}
	tune(opts)
	c := redis.NewClient(opts)
	pctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	if err := c.Ping(pctx).Err(); err != nil {
		c.Close()
		return nil, fmt.Errorf("redis: cannot reach %s: %w (check REDIS_URL)", opts.Addr, err)
	}
	return c, nil
}

// IsTimeout reports whether err is Redis being slow (a deadline passed)
// rather than unreachable or refusing: a caller may do without it for this
// call and keep using it.
func IsTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}

// slogPrinter adapts go-redis's internal logger to slog.
type slogPrinter struct{ log *slog.Logger }

func (p slogPrinter) Printf(ctx context.Context, format string, v ...any) {
	p.log.DebugContext(ctx, "redis: "+fmt.Sprintf(format, v...))
}

// RouteLibraryLog sends go-redis's own messages (each failed dial while
// Redis is down) to log at debug level. go-redis keeps its logger in a
// package variable, so this is process-wide: call it once, from main.
// Plaza reports Redis outages itself, once, at warn level.
func RouteLibraryLog(log *slog.Logger) { redis.SetLogger(slogPrinter{log}) }
