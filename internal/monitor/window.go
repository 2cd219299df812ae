// Package monitor owns what Plaza knows about its own performance: rolling
// windows of request latency and errors for /api/health and its alerts, and
// the Prometheus registry behind /metrics.
package monitor

import (
	"math"
	"sync"
	"sync/atomic"
	"time"
)

// Latencies are counted in logarithmic buckets from 10 µs to ~100 s, 40 per
// decade (each 6 % wider than the last), so a quantile is exact to within
// 6 %, recording is two atomic adds, and a window costs a few KiB.
const (
	bucketsPerDecade = 40
	minLatency       = 10 * time.Microsecond
	numBuckets       = 7 * bucketsPerDecade // 10 µs .. 100 s
	slotWidth        = 5 * time.Second
	numSlots         = 12 // 60 s window
)

func bucketOf(d time.Duration) int {
	if d <= minLatency {
		return 0
	}
	b := int(math.Log10(float64(d)/float64(minLatency)) * bucketsPerDecade)
	return min(b, numBuckets-1)
}

// bucketUpper is the upper bound of bucket b.
func bucketUpper(b int) time.Duration {
	return time.Duration(float64(minLatency) * math.Pow(10, float64(b+1)/bucketsPerDecade))
}

type slot struct {
	epoch   atomic.Int64 // slot start, unix nanos / slotWidth
	count   atomic.Int64
	errors  atomic.Int64
	sum     atomic.Int64 // nanoseconds
	buckets [numBuckets]atomic.Int64
}

// Window is a rolling 60-second record of request latencies and outcomes.
type Window struct {
	now   func() time.Time
	mu    sync.Mutex // only taken when a slot turns over
	slots [numSlots]slot
	total atomic.Int64 // since start
}

// NewWindow returns an empty window.
func NewWindow(now func() time.Time) *Window {
	if now == nil {
		now = time.Now
	}
	return &Window{now: now}
}

func (w *Window) slotFor(t time.Time) *slot {
	epoch := t.UnixNano() / int64(slotWidth)
	s := &w.slots[epoch%numSlots]
	if s.epoch.Load() != epoch {
		w.mu.Lock()
		if s.epoch.Load() != epoch {
			s.count.Store(0)
			s.errors.Store(0)
			s.sum.Store(0)
			for i := range s.buckets {
				s.buckets[i].Store(0)
			}
			s.epoch.Store(epoch)
		}
		w.mu.Unlock()
	}
	return s
}

// Observe records one request; failed counts it toward the error rate.
func (w *Window) Observe(d time.Duration, failed bool) {
	s := w.slotFor(w.now())
	s.buckets[bucketOf(d)].Add(1)
	s.sum.Add(int64(d))
	s.count.Add(1)
	if failed {
		s.errors.Add(1)
	}
	w.total.Add(1)
}

// Snapshot is the window's figures; times in milliseconds.
type Snapshot struct {
	AvgMs     float64
	P50Ms     float64
	P95Ms     float64
	P99Ms     float64
	ErrorRate float64
	Requests  int64 // in the window
	Total     int64 // since start
}

// Snapshot sums the live slots of the last 60 seconds.
func (w *Window) Snapshot() Snapshot {
	now := w.now().UnixNano() / int64(slotWidth)
	var hist [numBuckets]int64
	var count, errs, sum int64
	for i := range w.slots {
		s := &w.slots[i]
		if e := s.epoch.Load(); e <= now-numSlots || e > now {
			continue
		}
		count += s.count.Load()
		errs += s.errors.Load()
		sum += s.sum.Load()
		for b := range hist {
			hist[b] += s.buckets[b].Load()
		}
	}
	snap := Snapshot{Requests: count, Total: w.total.Load()}
	if count == 0 {
		return snap
	}
	snap.AvgMs = float64(sum) / float64(count) / 1e6
	snap.ErrorRate = float64(errs) / float64(count)
	snap.P50Ms = quantile(&hist, count, 0.50)
	snap.P95Ms = quantile(&hist, count, 0.95)
	snap.P99Ms = quantile(&hist, count, 0.99)
	return snap
}

func quantile(hist *[numBuckets]int64, count int64, q float64) float64 {
	rank := int64(math.Ceil(q * float64(count)))
	var seen int64
	for b, n := range hist {
		seen += n
		if seen >= rank {
			return float64(bucketUpper(b)) / 1e6
		}
	}
	return float64(bucketUpper(numBuckets-1)) / 1e6
}
