package monitor

import (
	"testing"
	"time"
)

func TestSeriesKeepsTheLastSamplesAndDerivesTheRate(t *testing.T) {
	clock := time.Unix(1_700_000_000, 0)
	total := int64(0)
	s := NewSeries(func() Sample { return Sample{RequestsTotal: total, QueueDepth: total} }, 2*time.Second, 3,
		func() time.Time { return clock })
	if got := s.Last(time.Hour); len(got) != 0 {
		t.Fatalf("empty series returned %d samples", len(got))
	}
	for i := range 5 {
		total = int64(i * 10) // 10 requests per 2 s
		s.Record()
		clock = clock.Add(2 * time.Second)
	}
	got := s.Last(time.Hour)
	if len(got) != 3 {
		t.Fatalf("kept %d samples, want 3", len(got))
	}
	for i, v := range got {
		if want := int64((i + 2) * 10); v.QueueDepth != want {
			t.Errorf("sample %d: depth %d, want %d (oldest first)", i, v.QueueDepth, want)
		}
		if v.RequestsPerSec != 5 {
			t.Errorf("sample %d: %v requests/s, want 5", i, v.RequestsPerSec)
		}
	}
	if recent := s.Last(clock.Sub(got[1].At) - time.Nanosecond); len(recent) != 1 || recent[0].QueueDepth != 40 {
		t.Errorf("Since(second) = %+v, want only the last sample", recent)
	}
	if s.Span() != 6*time.Second {
		t.Errorf("span %v, want 6s", s.Span())
	}
}

func TestSeriesStartSamplesAtOnceAndStopWaits(t *testing.T) {
	calls := make(chan struct{}, 100)
	s := NewSeries(func() Sample { calls <- struct{}{}; return Sample{} }, time.Millisecond, 10, nil)
	s.Start()
	if len(s.Last(time.Hour)) == 0 {
		t.Fatal("Start did not take a first sample")
	}
	<-calls
	<-calls // a tick came
	s.Stop()
	n := len(calls)
	time.Sleep(5 * time.Millisecond)
	if len(calls) != n {
		t.Fatal("sampling went on after Stop")
	}
	s.Stop() // a second Stop is harmless
}
