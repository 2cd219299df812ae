package ratelimit

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"
)

// breaker skips Redis for a second after it failed to answer in time, so a
// dead Redis costs each request nothing rather than a timeout.
type breaker struct {
	openUntil atomic.Int64
	log       *slog.Logger
	what      string
}

func (b *breaker) closed() bool { return time.Now().UnixNano() >= b.openUntil.Load() }

func (b *breaker) trip(err error) {
	if b.closed() {
		b.log.Warn(b.what+": Redis did not answer; using the local limiter", "err", err)
	}
	b.openUntil.Store(time.Now().Add(time.Second).UnixNano())
}

// Down reports whether Redis is being skipped.
func (b *breaker) Down() bool { return !b.closed() }

// Fallback asks the shared Redis limiter and, if it does not answer within
// Timeout, decides with the local one: limits then hold per instance
// instead of across instances, and requests never wait on Redis.
type Fallback struct {
	Shared  Limiter
	Local   Limiter
	Timeout time.Duration
	breaker
}

// NewFallback returns a limiter that prefers shared, within timeout.
func NewFallback(shared, local Limiter, timeout time.Duration, log *slog.Logger) *Fallback {
	return &Fallback{Shared: shared, Local: local, Timeout: timeout, breaker: breaker{log: log, what: "rate limit"}}
}

// Allow decides for one request.
func (f *Fallback) Allow(ctx context.Context, t Tier, key string) (Decision, error) {
	if f.closed() {
		rctx, cancel := context.WithTimeout(ctx, f.Timeout)
		d, err := f.Shared.Allow(rctx, t, key)
		cancel()
		if err == nil {
			return d, nil
		}
		f.trip(err)
	}
	return f.Local.Allow(ctx, t, key)
}

// FailureFallback is Fallback for failure windows.
type FailureFallback struct {
	Shared  *RedisFailures
	Local   *Failures
	Timeout time.Duration
	breaker
}

// NewFailureFallback returns a failure window that prefers shared.
func NewFailureFallback(shared *RedisFailures, local *Failures, timeout time.Duration, log *slog.Logger) *FailureFallback {
	return &FailureFallback{Shared: shared, Local: local, Timeout: timeout, breaker: breaker{log: log, what: "login limit"}}
}

// Blocked consults Redis, or the local window if Redis does not answer.
func (f *FailureFallback) Blocked(ctx context.Context, key string) (time.Duration, bool) {
	if f.closed() {
		rctx, cancel := context.WithTimeout(ctx, f.Timeout)
		d, b, err := f.Shared.Blocked(rctx, key)
		cancel()
		if err == nil {
			return d, b
		}
		f.trip(err)
	}
	return f.Local.Blocked(ctx, key)
}

// Fail records the failure locally always (so an outage loses nothing) and
// in Redis when it answers.
func (f *FailureFallback) Fail(ctx context.Context, key string) {
	f.Local.Fail(ctx, key)
	if f.closed() {
		rctx, cancel := context.WithTimeout(ctx, f.Timeout)
		err := f.Shared.Fail(rctx, key)
		cancel()
		if err != nil {
			f.trip(err)
		}
	}
}
