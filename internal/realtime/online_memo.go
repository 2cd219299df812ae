package realtime

import (
	"context"
	"slices"
	"sync"
	"time"
)

// onlineTTL is how long an instance answers "who is online in this room"
// from its last read of shared presence. Every subscribe answers with the
// room's online list, and reading a room of n members costs Redis O(n):
// without the memo, n users arriving in one room cost Redis O(n²) (10,000
// users joining "chat" on two instances kept Redis busy for ~14 s in
// ZRANGE, and the cache's and rate limiter's calls behind them timed out).
// A count up to a second old is what a presence announcement, gathered
// over PresenceWindow, already shows.
const onlineTTL = time.Second

// onlineMemoIDs is how many ids a memo entry keeps: the most any caller
// asks for (a subscribe's online list). Callers asking for more read
// shared presence directly.
const onlineMemoIDs = 100

// onlineMemo keeps each room's online list and count for onlineTTL, with
// one read in flight per room: callers arriving during a read wait for it
// rather than sending their own.
type onlineMemo struct {
	ttl   time.Duration
	now   func() time.Time
	mu    sync.Mutex
	rooms map[string]*onlineEntry
	swept int // entries left by the last sweep
}

type onlineEntry struct {
	done chan struct{} // closed when the read has finished; the fields below are set before
	at   time.Time     // when the read started
	ids  []int64
	n    int
	err  error
}

// onlineLoader reads a room's online users (up to max ids) and count.
type onlineLoader func(ctx context.Context, room string, max int) ([]int64, int, error)

func newOnlineMemo(ttl time.Duration, now func() time.Time) *onlineMemo {
	return &onlineMemo{ttl: ttl, now: now, rooms: map[string]*onlineEntry{}}
}

// get returns up to limit of room's online users and their count, read
// by load at most once per ttl.
func (m *onlineMemo) get(ctx context.Context, room string, limit int, load onlineLoader) ([]int64, int, error) {
	if limit > onlineMemoIDs {
		return load(ctx, room, limit)
	}
	m.mu.Lock()
	now := m.now()
	e := m.rooms[room]
	if e == nil || (e.finished() && m.stale(e, now)) {
		e = &onlineEntry{done: make(chan struct{}), at: now}
		m.put(room, e, now)
		m.mu.Unlock()
		e.ids, e.n, e.err = load(ctx, room, onlineMemoIDs)
		if e.err != nil {
			m.forget(room, e) // the next caller reads again
		}
		close(e.done)
	} else {
		m.mu.Unlock()
		select {
		case <-e.done:
		case <-ctx.Done():
			return nil, 0, ctx.Err()
		}
	}
	if e.err != nil {
		return nil, 0, e.err
	}
	return slices.Clone(e.ids[:min(limit, len(e.ids))]), e.n, nil
}

func (e *onlineEntry) finished() bool {
	select {
	case <-e.done:
		return true
	default:
		return false
	}
}

// stale reports whether a finished entry is too old to answer (or from a
// clock that went back).
func (m *onlineMemo) stale(e *onlineEntry, now time.Time) bool {
	return now.Sub(e.at) >= m.ttl || now.Before(e.at)
}

// put stores e; m.mu is held. Rooms come and go (a user's own room is one
// per connection), so when the map has doubled since the last sweep, the
// finished, stale entries go.
func (m *onlineMemo) put(room string, e *onlineEntry, now time.Time) {
	if len(m.rooms) >= 2*max(m.swept, 256) {
		for r, old := range m.rooms {
			if old.finished() && m.stale(old, now) {
				delete(m.rooms, r)
			}
		}
		m.swept = len(m.rooms)
	}
	m.rooms[room] = e
}

func (m *onlineMemo) forget(room string, e *onlineEntry) {
	m.mu.Lock()
	if m.rooms[room] == e {
		delete(m.rooms, room)
	}
	m.mu.Unlock()
}
