package monitor

import (
	"math"
	"sync"
	"testing"
	"time"
)

type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

func TestWindowQuantiles(t *testing.T) {
	c := &fakeClock{time.Unix(1000, 0)}
	w := NewWindow(c.now)
	for i := 1; i <= 1000; i++ { // 1..1000 ms
		w.Observe(time.Duration(i)*time.Millisecond, i%100 == 0)
	}
	s := w.Snapshot()
	for _, tc := range []struct {
		name      string
		got, want float64
	}{{"p50", s.P50Ms, 500}, {"p95", s.P95Ms, 950}, {"p99", s.P99Ms, 990}, {"avg", s.AvgMs, 500.5}} {
		if math.Abs(tc.got-tc.want)/tc.want > 0.07 {
			t.Errorf("%s = %.1f, want %.1f ± 7%%", tc.name, tc.got, tc.want)
		}
	}
	if s.Requests != 1000 || s.ErrorRate != 0.01 || s.Total != 1000 {
		t.Fatalf("%+v", s)
	}
}

func TestWindowForgetsOldSlots(t *testing.T) {
	c := &fakeClock{time.Unix(1000, 0)}
	w := NewWindow(c.now)
	w.Observe(time.Second, true)
	c.t = c.t.Add(30 * time.Second)
	w.Observe(time.Millisecond, false)
	if s := w.Snapshot(); s.Requests != 2 {
		t.Fatalf("within 60s: %+v", s)
	}
	c.t = c.t.Add(40 * time.Second)
	s := w.Snapshot()
	if s.Requests != 1 || s.ErrorRate != 0 || s.P99Ms > 1.1 {
		t.Fatalf("after the slow failure aged out: %+v", s)
	}
	c.t = c.t.Add(2 * time.Minute)
	if s := w.Snapshot(); s.Requests != 0 || s.Total != 2 {
		t.Fatalf("empty window: %+v", s)
	}
}

func TestWindowConcurrent(t *testing.T) {
	w := NewWindow(nil)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 10000 {
				w.Observe(time.Duration(i)*time.Microsecond, false)
				if i%1000 == 0 {
					w.Snapshot()
				}
			}
		}()
	}
	wg.Wait()
	if s := w.Snapshot(); s.Total != 80000 {
		t.Fatalf("total %d", s.Total)
	}
}

func BenchmarkObserve(b *testing.B) {
	w := NewWindow(nil)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			w.Observe(3*time.Millisecond, false)
		}
	})
}

func BenchmarkSnapshot(b *testing.B) {
	w := NewWindow(nil)
	for i := range 100000 {
		w.Observe(time.Duration(i)*time.Microsecond, false)
	}
	for b.Loop() {
		w.Snapshot()
	}
}
