package cache

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
)

// maxJournal bounds the invalidations kept for replay. Past it, recovery
// falls back to a new generation (an empty shared cache), which is always
// correct, only costly.
const maxJournal = 4096

// journal holds the invalidations that did not reach Redis (it was slow or
// gone), so they can be applied to Redis and broadcast once it answers,
// instead of starting a new generation, which empties the shared cache for
// every instance (two instances at 10,000 users lost it about every two
// seconds that way). Until an item is replayed, this instance neither reads
// nor stores it in Redis: its Redis copy may be stale.
type journal struct {
	mu       sync.Mutex
	keys     map[string]uint64 // key -> sequence of its last miss
	tags     map[string]uint64
	seq      uint64
	overflow bool         // more than maxJournal missed: only a new generation is safe
	n        atomic.Int64 // len(keys)+len(tags), or 1 with overflow; read without mu
}

// add records items ("k": keys, "t": tags) that Redis may not have seen.
func (j *journal) add(kind string, items []string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.keys == nil {
		j.keys, j.tags = map[string]uint64{}, map[string]uint64{}
	}
	m := j.keys
	if kind == "t" {
		m = j.tags
	}
	j.seq++
	for _, it := range items {
		m[it] = j.seq
	}
	if len(j.keys)+len(j.tags) > maxJournal {
		j.overflow = true
		clear(j.keys)
		clear(j.tags)
	}
	j.count()
}

func (j *journal) count() {
	n := int64(len(j.keys) + len(j.tags))
	if j.overflow {
		n = max(n, 1)
	}
	j.n.Store(n)
}

// empty reports, without locking, whether nothing waits for replay.
func (j *journal) empty() bool { return j.n.Load() == 0 }

// holds reports whether a read of key (tagged tag) must not use Redis:
// the key or its tag waits for replay, or too much was missed to tell.
func (j *journal) holds(key, tag string) bool {
	if j.empty() {
		return false
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.overflow {
		return true
	}
	if _, ok := j.keys[key]; ok {
		return true
	}
	_, ok := j.tags[tag]
	return ok && tag != ""
}

// holdsTag reports whether any of tags waits for replay.
func (j *journal) holdsTag(tags []string) bool {
	if j.empty() {
		return false
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.overflow {
		return true
	}
	for _, t := range tags {
		if _, ok := j.tags[t]; ok {
			return true
		}
	}
	return false
}

// snapshot is what one replay sends.
type snapshot struct {
	keys, tags map[string]uint64
	overflow   bool
}

func (j *journal) snapshot() snapshot {
	j.mu.Lock()
	defer j.mu.Unlock()
	s := snapshot{keys: make(map[string]uint64, len(j.keys)), tags: make(map[string]uint64, len(j.tags)), overflow: j.overflow}
	for k, v := range j.keys {
		s.keys[k] = v
	}
	for k, v := range j.tags {
		s.tags[k] = v
	}
	return s
}

// done drops what s replayed, except items missed again meanwhile (their
// new miss may postdate what the replay did).
func (j *journal) done(s snapshot) {
	j.mu.Lock()
	defer j.mu.Unlock()
	for k, v := range s.keys {
		if j.keys[k] == v {
			delete(j.keys, k)
		}
	}
	for k, v := range s.tags {
		if j.tags[k] == v {
			delete(j.tags, k)
		}
	}
	if s.overflow {
		j.overflow = false
	}
	j.count()
}

// replay applies the missed invalidations to Redis and broadcasts them, so
// other instances drop their local copies too; with too many missed it
// starts a new generation instead. Each step is idempotent: a replay that
// fails part way is simply run again.
func (c *Cache) replay(ctx context.Context) error {
	if c.missed.empty() {
		return nil
	}
	s := c.missed.snapshot()
	if s.overflow {
		if err := c.remote.BumpGeneration(ctx); err != nil {
			return err
		}
		if err := c.rc.Publish(ctx, c.channel(), c.id+"|g|").Err(); err != nil {
			return err
		}
		c.missed.done(s)
		return nil
	}
	keys := make([]string, 0, len(s.keys))
	for k := range s.keys {
		keys = append(keys, k)
	}
	tags := make([]string, 0, len(s.tags))
	for t := range s.tags {
		tags = append(tags, t)
	}
	pipe := c.rc.Pipeline()
	if len(keys) > 0 {
		pipe.Del(ctx, c.remote.fullKeys(keys)...)
		pipe.Publish(ctx, c.channel(), c.id+"|k|"+strings.Join(keys, "\x00"))
	}
	for _, t := range tags {
		pipe.Set(ctx, c.remote.tagKey(t), newVersion(), tagTTL)
	}
	if len(tags) > 0 {
		pipe.Publish(ctx, c.channel(), c.id+"|t|"+strings.Join(tags, "\x00"))
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return err
	}
	c.missed.done(s)
	c.replayed.Add(int64(len(keys) + len(tags)))
	return nil
}
