package redisx

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// Health is what a part of Plaza that can bypass Redis (the cache, the
// realtime broker) knows about it: the first failed call marks Redis down,
// and only Watch marks it up again, once Redis answers a ping and the part
// has caught up on what it did alone meanwhile.
type Health struct {
	up      atomic.Bool
	lastErr atomic.Value // string
}

// NewHealth starts with Redis up.
func NewHealth() *Health {
	h := &Health{}
	h.up.Store(true)
	return h
}

// Up reports whether Redis should be used now.
func (h *Health) Up() bool { return h.up.Load() }

// Fail records err and marks Redis down; it reports whether this call took
// it down (the caller logs the outage once).
func (h *Health) Fail(err error) bool {
	h.lastErr.Store(err.Error())
	return h.up.CompareAndSwap(true, false)
}

// Down reports whether Redis is being bypassed, and the last error.
func (h *Health) Down() (bool, string) {
	if h.up.Load() {
		return false, ""
	}
	msg, _ := h.lastErr.Load().(string)
	return true, msg
}

// Watch pings rc once a second while Redis is down, until stop closes.
// When it answers, recover runs (within the same timeout) to reconcile
// what happened while Redis was away; if it succeeds Redis is marked up.
func (h *Health) Watch(stop <-chan struct{}, rc *redis.Client, timeout time.Duration, recover func(context.Context) error) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		if h.up.Load() {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		err := rc.Ping(ctx).Err()
		if err == nil {
			err = recover(ctx)
		}
		cancel()
		if err != nil {
			h.lastErr.Store(err.Error())
			continue
		}
		h.up.Store(true)
	}
}
