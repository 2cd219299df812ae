package courses

import (
	"context"
	"sync"
	"time"
)

// progressMemo keeps each signed-in reader's progress (course -> completed
// lessons) for a few seconds, so a catalog read by someone who read it a
// moment ago costs no query. It is exact for the user's own writes: every
// write that changes a user's enrollments (enroll, complete) goes through
// this Service and drops their entry before answering, and a read that was
// already under way when a write landed does not store what it read. A
// write that changes everyone's counts (a lesson deleted) drops every entry.
//
// The entries live in this process: with several instances (Redis) a write
// on one would not reach another's entries, so the app turns the memo off
// there and each read queries.
type progressMemo struct {
	ttl time.Duration
	now func() time.Time

	mu      sync.Mutex
	seq     uint64 // counts writes
	allSeq  uint64 // seq of the last write that changed every user's counts
	users   map[int64]*progressEntry
	sweepAt time.Time
}

type progressEntry struct {
	p   map[int64]int // nil: none stored (dropped by a write)
	exp time.Time     // p is fresh until then
	// wrote is the write count at the user's last write, remembered until
	// wroteKeep so that a read that began before it stores nothing.
	wrote     uint64
	wroteKeep time.Time
}

// maxRead is how long a read may take and still store what it read; a
// tombstone lives at least this long, so a slow read that began before a
// write never outlives the tombstone that rejects it.
const maxRead = 30 * time.Second

func newProgressMemo(ttl time.Duration, now func() time.Time) *progressMemo {
	return &progressMemo{ttl: ttl, now: now, users: map[int64]*progressEntry{}}
}

// ticket is what a read that missed carries to put: when it began.
type ticket struct {
	seq uint64
	at  time.Time
}

// get returns user's fresh entry, or a ticket for storing what the caller
// is about to read. The returned map is shared: read only.
func (m *progressMemo) get(user int64) (map[int64]int, ticket, bool) {
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	if e := m.users[user]; e != nil && e.p != nil && now.Before(e.exp) {
		return e.p, ticket{}, true
	}
	return nil, ticket{seq: m.seq, at: now}, false
}

// put stores what a read that began at t read, unless a write that could
// have changed it landed since.
func (m *progressMemo) put(user int64, t ticket, p map[int64]int) {
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.allSeq > t.seq || now.Sub(t.at) > maxRead {
		return
	}
	e := m.users[user]
	if e == nil {
		e = &progressEntry{}
		m.users[user] = e
	} else if e.wrote > t.seq {
		return
	}
	e.p, e.exp = p, now.Add(m.ttl)
	m.sweep(now)
}

// wrote drops user's entry: call it after any write of their enrollments
// has committed (or failed: an error may hide a commit), before answering.
func (m *progressMemo) wrote(user int64) {
	if m == nil {
		return
	}
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.seq++
	// A read under way began at most maxRead ago: while it may still
	// put, the write is remembered.
	m.users[user] = &progressEntry{wrote: m.seq, wroteKeep: now.Add(maxRead + time.Second)}
	m.sweep(now)
}

// wroteAll drops every entry (a write changed many users' counts).
func (m *progressMemo) wroteAll() {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.seq++
	m.allSeq = m.seq
	clear(m.users)
}

// sweep drops expired entries and tombstones, at most once per ttl; m.mu
// is held.
func (m *progressMemo) sweep(now time.Time) {
	if now.Before(m.sweepAt) {
		return
	}
	m.sweepAt = now.Add(m.ttl)
	for u, e := range m.users {
		if !now.Before(e.exp) && !now.Before(e.wroteKeep) {
			delete(m.users, u)
		}
	}
}

// progress returns user's progress: from the memo, or one query.
func (s *Service) progress(ctx context.Context, user int64) (map[int64]int, error) {
	if s.progressMemo == nil {
		return s.Store.Progress(ctx, user)
	}
	p, t, ok := s.progressMemo.get(user)
	if ok {
		return p, nil
	}
	p, err := s.Store.Progress(ctx, user)
	if err != nil {
		return nil, err
	}
	s.progressMemo.put(user, t, p)
	return p, nil
}
