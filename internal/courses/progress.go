package courses

import (
	"context"
	"strconv"
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
// With several instances (the cache shared through Redis), a write on
// another instance drops nothing here. So each entry is stored with the
// reader's progress version, read before the query that filled it: the
// shared versions of the reader's tag (progressTag, moved in Redis by each
// of their writes before it answers, on whichever instance) and of the
// catalog's (moved by every admin edit, a lesson deletion among them). A
// read uses an entry only if both are still the same, checked in Redis on
// every read; concurrent readers' checks share one round trip
// (batch.Coalescer, which never answers a reader from a check that began
// before it asked). A reader thus sees their own writes on every instance
// at once, without waiting for pub/sub, and a write racing a read leaves
// a version the stored entry no longer matches. While Redis does not
// answer, nothing kept is used and every read queries.
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
	ver progressVersion
	exp time.Time // p is fresh until then
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

// progressVersion is what a reader's entry must match to be used: the
// shared versions of their progress tag and of the catalog's (zero without
// Redis, where the memo alone is exact).
type progressVersion struct{ user, catalog int64 }

// get returns user's fresh entry stored under ver, or a ticket for storing
// what the caller is about to read. The returned map is shared: read only.
func (m *progressMemo) get(user int64, ver progressVersion) (map[int64]int, ticket, bool) {
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	if e := m.users[user]; e != nil && e.p != nil && e.ver == ver && now.Before(e.exp) {
		return e.p, ticket{}, true
	}
	return nil, ticket{seq: m.seq, at: now}, false
}

// put stores what a read that began at t read under ver, unless a write
// that could have changed it landed here since.
func (m *progressMemo) put(user int64, t ticket, ver progressVersion, p map[int64]int) {
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
	e.p, e.ver, e.exp = p, ver, now.Add(m.ttl)
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

// progressTag is the cache tag that user's enrollment and progress writes
// move (its version is part of their progressVersion).
func progressTag(user int64) string { return "courses:progress:" + strconv.FormatInt(user, 10) }

// progressWritten follows any write of user's enrollments, once it has
// committed (or failed: an error may hide a commit), before the answer:
// it drops their entry here and, with several instances, moves their
// version in Redis, so no instance uses what it kept from before.
func (s *Service) progressWritten(ctx context.Context, user int64) {
	s.progressMemo.wrote(user)
	if s.progressVersions != nil {
		s.sharedWrite(ctx, progressTag(user))
	}
}

// versionWait is how long a write waits for Redis to take the versions it
// moves (a read gives Redis cache.Config.OpTimeout; a write that answers
// before its version moved could be missed by its author on another
// instance, so it waits longer).
const versionWait = time.Second

// sharedWrite moves tag's version in Redis before the write answers. If
// Redis does not take it, other instances keep what they read before the
// write until it expires (Config.ProgressTTL): logged.
func (s *Service) sharedWrite(ctx context.Context, tag string) {
	if err := s.Cache.InvalidateTagSync(ctx, versionWait, tag); err != nil {
		s.Log.Warn("courses: a write's version did not reach Redis; other instances may list it late", "tag", tag, "err", err)
	}
}

// fetchProgressVersions reads the progress versions of users, and the
// catalog's, in one round trip to Redis.
func (s *Service) fetchProgressVersions(ctx context.Context, users []int64) (map[int64]progressVersion, error) {
	tags := make([]string, len(users)+1)
	tags[0] = tagCatalog
	for i, u := range users {
		tags[i+1] = progressTag(u)
	}
	v, err := s.Cache.TagVersions(ctx, tags)
	if err != nil {
		return nil, err
	}
	out := make(map[int64]progressVersion, len(users))
	for i, u := range users {
		out[u] = progressVersion{user: v[i+1], catalog: v[0]}
	}
	return out, nil
}

// progress returns user's progress: from the memo, or one query.
func (s *Service) progress(ctx context.Context, user int64) (map[int64]int, error) {
	if s.progressMemo == nil {
		return s.Store.Progress(ctx, user)
	}
	var ver progressVersion
	if s.progressVersions != nil {
		v, _, err := s.progressVersions.Load(ctx, user)
		if err != nil { // Redis not answering: other instances' writes cannot be seen
			return s.Store.Progress(ctx, user)
		}
		ver = v
	}
	p, t, ok := s.progressMemo.get(user, ver)
	if ok {
		return p, nil
	}
	p, err := s.Store.Progress(ctx, user)
	if err != nil {
		return nil, err
	}
	s.progressMemo.put(user, t, ver, p)
	return p, nil
}
