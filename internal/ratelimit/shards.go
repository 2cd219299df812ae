package ratelimit

import (
	"hash/maphash"
	"sync"
	"sync/atomic"
	"time"
)

// shards is a map split over independently locked shards, so concurrent
// requests for different keys rarely wait on each other. Both in-memory
// limiters keep their per-key state in one.
type shards[V any] struct {
	seed maphash.Seed
	all  [shardCount]shard[V]
}

const shardCount = 64

type shard[V any] struct {
	mu sync.Mutex
	m  map[string]V
}

// init makes the maps; call it once before use.
func (s *shards[V]) init() {
	s.seed = maphash.MakeSeed()
	for i := range s.all {
		s.all[i].m = map[string]V{}
	}
}

// of returns the shard that holds key; the caller locks it.
func (s *shards[V]) of(key string) *shard[V] {
	return &s.all[maphash.String(s.seed, key)%shardCount]
}

// drop deletes every entry for which dead reports true, a shard at a time.
func (s *shards[V]) drop(dead func(V) bool) {
	for i := range s.all {
		sh := &s.all[i]
		sh.mu.Lock()
		for k, v := range sh.m {
			if dead(v) {
				delete(sh.m, k)
			}
		}
		sh.mu.Unlock()
	}
}

// len is the number of entries.
func (s *shards[V]) len() int {
	n := 0
	for i := range s.all {
		s.all[i].mu.Lock()
		n += len(s.all[i].m)
		s.all[i].mu.Unlock()
	}
	return n
}

// sweeper says when a periodic clean-up is due: at most once per every,
// to whichever caller asks first.
type sweeper struct {
	every time.Duration
	last  atomic.Int64 // unix nanos
}

func (s *sweeper) due(now time.Time) bool {
	last := s.last.Load()
	return now.UnixNano()-last >= int64(s.every) && s.last.CompareAndSwap(last, now.UnixNano())
}
