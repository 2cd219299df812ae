package cache

import (
	"sync/atomic"
	"time"
)

type tierStats struct {
	localHits, remoteHits, misses atomic.Int64
	window                        *ratioWindow
}

func newTierStats(now func() time.Time) *tierStats {
	return &tierStats{window: &ratioWindow{now: now}}
}

func (s *tierStats) hit(remote bool) {
	if remote {
		s.remoteHits.Add(1)
	} else {
		s.localHits.Add(1)
	}
	s.window.add(true)
}

func (s *tierStats) miss() {
	s.misses.Add(1)
	s.window.add(false)
}

// ratioWindow counts hits and lookups over the last minute in 5-second
// slots, so the health alert reflects now, not the whole uptime.
type ratioWindow struct {
	now   func() time.Time
	slots [12]struct{ epoch, hits, total atomic.Int64 }
}

func (w *ratioWindow) add(hit bool) {
	epoch := w.now().Unix() / 5
	s := &w.slots[epoch%12]
	if old := s.epoch.Load(); old != epoch && s.epoch.CompareAndSwap(old, epoch) {
		s.hits.Store(0)
		s.total.Store(0)
	}
	if hit {
		s.hits.Add(1)
	}
	s.total.Add(1)
}

func (w *ratioWindow) sums() (hits, total int64) {
	now := w.now().Unix() / 5
	for i := range w.slots {
		s := &w.slots[i]
		if e := s.epoch.Load(); e > now-12 && e <= now {
			hits += s.hits.Load()
			total += s.total.Load()
		}
	}
	return hits, total
}
