// Package ratelimit owns Plaza's request limits: the tiers of PRODUCT.md
// decided by GCRA in memory or, shared by every instance, in Redis (falling
// back to the local limiter when Redis does not answer within a few ms), and
// failure windows for logins and MFA codes.
package ratelimit

import (
	"context"
	"time"
)

// Failures is an in-memory sliding-window failure counter: once a key has
// limit failures within window it is blocked until the oldest one ages out.
// Successful attempts are never counted. Entries that can
// no longer block anybody are swept once per window, so memory stays
// bounded by the number of keys that failed within about two windows.
type Failures struct {
	limit  int
	window time.Duration
	now    func() time.Time
	keys   shards[[]time.Time] // key -> its failures in the window, oldest first
	sweep  sweeper
}

// NewFailures blocks a key after limit failures within window.
func NewFailures(limit int, window time.Duration, now func() time.Time) *Failures {
	f := &Failures{limit: limit, window: window, now: now, sweep: sweeper{every: window}}
	f.keys.init()
	return f
}

// live drops the failures of times that fell out of the window.
func (f *Failures) live(times []time.Time, now time.Time) []time.Time {
	cut := now.Add(-f.window)
	i := 0
	for i < len(times) && !times[i].After(cut) {
		i++
	}
	return times[i:]
}

// Blocked reports whether key is blocked and, if so, for how long. A limit
// of 0 (PLAZA_RATE_LOGIN=off or PLAZA_RATE_LOGIN_IP=off) blocks nothing.
func (f *Failures) Blocked(_ context.Context, key string) (time.Duration, bool) {
	if f.limit <= 0 {
		return 0, false
	}
	now := f.now()
	s := f.keys.of(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	times := f.live(s.m[key], now)
	if len(times) == 0 {
		delete(s.m, key)
		return 0, false
	}
	s.m[key] = times
	if len(times) < f.limit {
		return 0, false
	}
	return times[len(times)-f.limit].Add(f.window).Sub(now), true
}

// Fail records one failure for key.
func (f *Failures) Fail(_ context.Context, key string) {
	if f.limit <= 0 {
		return
	}
	now := f.now()
	s := f.keys.of(key)
	s.mu.Lock()
	times := append(f.live(s.m[key], now), now)
	if len(times) > f.limit {
		times = times[len(times)-f.limit:]
	}
	s.m[key] = times
	s.mu.Unlock()
	if f.sweep.due(now) {
		f.dropExpired(now)
	}
}

// dropExpired drops keys whose failures all aged out.
func (f *Failures) dropExpired(now time.Time) {
	f.keys.drop(func(ts []time.Time) bool { return len(f.live(ts, now)) == 0 })
}

// Len returns how many keys are tracked (for tests and metrics).
func (f *Failures) Len() int { return f.keys.len() }
