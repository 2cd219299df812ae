package ratelimit

import (
	"context"
	"time"
)

// Memory is the in-process GCRA limiter. A key needs only its theoretical
// arrival time; keys whose time has passed are indistinguishable from new
// ones and are swept once a minute, so memory follows the active keys.
type Memory struct {
	now   func() time.Time
	tats  shards[time.Time] // key -> theoretical arrival time
	sweep sweeper
}

// NewMemory returns an empty limiter.
func NewMemory(now func() time.Time) *Memory {
	if now == nil {
		now = time.Now
	}
	m := &Memory{now: now, sweep: sweeper{every: time.Minute}}
	m.tats.init()
	return m
}

// Allow decides for one request.
func (m *Memory) Allow(_ context.Context, t Tier, key string) (Decision, error) {
	if t.Off() {
		return Decision{Allowed: true}, nil
	}
	now := m.now()
	k := t.Name + "\x00" + key
	s := m.tats.of(k)
	s.mu.Lock()
	d, tat := gcra(t, now, s.m[k])
	if d.Allowed {
		s.m[k] = tat
	}
	s.mu.Unlock()
	if m.sweep.due(now) {
		m.dropExpired(now)
	}
	return d, nil
}

// dropExpired drops keys whose theoretical arrival time has passed.
func (m *Memory) dropExpired(now time.Time) {
	m.tats.drop(func(tat time.Time) bool { return !tat.After(now) })
}

// Len is the number of tracked keys.
func (m *Memory) Len() int { return m.tats.len() }
