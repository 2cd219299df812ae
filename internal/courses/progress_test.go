package courses

import (
	"sync"
	"testing"
	"time"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestProgressMemoKeepsAndExpires(t *testing.T) {
	c := &clock{t: time.Unix(1e9, 0)}
	m := newProgressMemo(5*time.Second, c.now)
	_, tk, ok := m.get(1, progressVersion{})
	if ok {
		t.Fatal("hit on an empty memo")
	}
	m.put(1, tk, progressVersion{}, map[int64]int{7: 2})
	if p, _, ok := m.get(1, progressVersion{}); !ok || p[7] != 2 {
		t.Fatalf("after put: %v %v", p, ok)
	}
	if _, _, ok := m.get(2, progressVersion{}); ok {
		t.Fatal("another user hit")
	}
	c.add(5 * time.Second)
	if _, _, ok := m.get(1, progressVersion{}); ok {
		t.Fatal("hit after the ttl")
	}
}

// The user's own write drops their entry, and a read that began before
// the write (so may have read the old rows) stores nothing, even when a
// read that began after it stored first.
func TestProgressMemoOwnWriteIsExact(t *testing.T) {
	c := &clock{t: time.Unix(1e9, 0)}
	m := newProgressMemo(5*time.Second, c.now)
	_, tk, _ := m.get(1, progressVersion{})
	m.put(1, tk, progressVersion{}, map[int64]int{7: 1})

	_, before, _ := m.get(1, progressVersion{}) // a hit, but take a ticket as a racing miss would
	_, before2, _ := m.get(2, progressVersion{})
	m.wrote(1)
	if _, _, ok := m.get(1, progressVersion{}); ok {
		t.Fatal("entry kept after the user's write")
	}
	_, after, _ := m.get(1, progressVersion{})
	m.put(1, after, progressVersion{}, map[int64]int{7: 2})
	m.put(1, before, progressVersion{}, map[int64]int{7: 1}) // the slow read ends last
	if p, _, ok := m.get(1, progressVersion{}); !ok || p[7] != 2 {
		t.Fatalf("a read from before the write overwrote the new progress: %v %v", p, ok)
	}
	// Another user's write does not reject user 2's read.
	m.put(2, before2, progressVersion{}, map[int64]int{})
	if _, _, ok := m.get(2, progressVersion{}); !ok {
		t.Fatal("user 2's read rejected by user 1's write")
	}

	// The write is remembered for as long as a read may take, across sweeps.
	_, slow, _ := m.get(3, progressVersion{})
	m.wrote(3)
	c.add(10 * time.Second)
	m.wrote(4) // sweeps
	m.put(3, slow, progressVersion{}, map[int64]int{9: 9})
	if _, _, ok := m.get(3, progressVersion{}); ok {
		t.Fatal("a read from before user 3's write stored after a sweep")
	}
	c.add(maxRead)
	m.put(3, slow, progressVersion{}, map[int64]int{9: 9})
	if _, _, ok := m.get(3, progressVersion{}); ok {
		t.Fatal("a read older than maxRead stored")
	}
}

func TestProgressMemoWroteAll(t *testing.T) {
	c := &clock{t: time.Unix(1e9, 0)}
	m := newProgressMemo(5*time.Second, c.now)
	_, tk, _ := m.get(1, progressVersion{})
	m.put(1, tk, progressVersion{}, map[int64]int{7: 3})
	_, racing, _ := m.get(2, progressVersion{})
	m.wroteAll()
	if _, _, ok := m.get(1, progressVersion{}); ok {
		t.Fatal("entry kept after wroteAll")
	}
	m.put(2, racing, progressVersion{}, map[int64]int{7: 3})
	if _, _, ok := m.get(2, progressVersion{}); ok {
		t.Fatal("a read from before wroteAll stored")
	}
	var nilMemo *progressMemo
	nilMemo.wrote(1) // the memo off: no-ops
	nilMemo.wroteAll()
}

func TestProgressMemoConcurrent(t *testing.T) {
	m := newProgressMemo(time.Second, time.Now)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 2000; i++ {
				u := int64(i % 17)
				if _, tk, ok := m.get(u, progressVersion{}); !ok {
					m.put(u, tk, progressVersion{}, map[int64]int{1: i})
				}
				if i%50 == g {
					m.wrote(u)
				}
				if i == 1000 && g == 0 {
					m.wroteAll()
				}
			}
		}(g)
	}
	wg.Wait()
}
