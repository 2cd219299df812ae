package monitor

import (
	"sync"
	"time"
)

// Sample is one reading of the figures /api/health reports, for the
// operations dashboard's charts. Latencies and the error rate cover the
// rolling 60-second window at the time of the sample; RequestsPerSec is the
// rate since the previous sample.
type Sample struct {
	At             time.Time
	RequestsTotal  int64 // since start; the sampler derives RequestsPerSec from it
	RequestsPerSec float64
	P50Ms          float64
	P95Ms          float64
	ErrorRate      float64
	WindowRequests int64
	WSConnections  int
	DBInUse        int
	DBWaiting      int64
	DBMaxOpen      int
	DBExhausted    bool
	CacheHitRate   float64
	CacheLookups   int64
	QueueDepth     int64
}

// Series keeps the last samples of a Sampler in a ring buffer.
type Series struct {
	read  func() Sample
	every time.Duration
	now   func() time.Time

	mu   sync.Mutex
	ring []Sample
	next int // where the next sample goes
	full bool

	stop chan struct{}
	done chan struct{}
}

// NewSeries returns a series that calls read every interval and keeps the
// last keep samples. read must be safe to call from another goroutine.
func NewSeries(read func() Sample, every time.Duration, keep int, now func() time.Time) *Series {
	if now == nil {
		now = time.Now
	}
	if keep < 1 {
		keep = 1
	}
	return &Series{read: read, every: every, now: now, ring: make([]Sample, keep)}
}

// Interval is the time between samples.
func (s *Series) Interval() time.Duration { return s.every }

// Span is how far back the series reaches when full.
func (s *Series) Span() time.Duration { return time.Duration(len(s.ring)) * s.every }

// Start takes a first sample at once and then one every interval until Stop.
func (s *Series) Start() {
	s.mu.Lock()
	if s.stop != nil {
		s.mu.Unlock()
		return
	}
	s.stop, s.done = make(chan struct{}), make(chan struct{})
	stop, done := s.stop, s.done
	s.mu.Unlock()
	s.Record()
	go func() {
		defer close(done)
		t := time.NewTicker(s.every)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				s.Record()
			}
		}
	}()
}

// Stop ends sampling and waits for the sampler to return.
func (s *Series) Stop() {
	s.mu.Lock()
	stop, done := s.stop, s.done
	s.stop, s.done = nil, nil
	s.mu.Unlock()
	if stop != nil {
		close(stop)
		<-done
	}
}

// Record takes one sample now (Start calls it on every tick).
func (s *Series) Record() {
	v := s.read()
	v.At = s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if prev, ok := s.lastLocked(); ok {
		if dt := v.At.Sub(prev.At).Seconds(); dt > 0 && v.RequestsTotal >= prev.RequestsTotal {
			v.RequestsPerSec = float64(v.RequestsTotal-prev.RequestsTotal) / dt
		}
	}
	s.ring[s.next] = v
	s.next = (s.next + 1) % len(s.ring)
	if s.next == 0 {
		s.full = true
	}
}

func (s *Series) lastLocked() (Sample, bool) {
	if !s.full && s.next == 0 {
		return Sample{}, false
	}
	return s.ring[(s.next-1+len(s.ring))%len(s.ring)], true
}

// Last returns the samples of the last d, oldest first.
func (s *Series) Last(d time.Duration) []Sample {
	t := s.now().Add(-d)
	s.mu.Lock()
	defer s.mu.Unlock()
	n, start := s.next, 0
	if s.full {
		n, start = len(s.ring), s.next
	}
	out := make([]Sample, 0, n)
	for i := range n {
		v := s.ring[(start+i)%len(s.ring)]
		if v.At.After(t) {
			out = append(out, v)
		}
	}
	return out
}
