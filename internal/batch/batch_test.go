package batch_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plazahq/plaza/internal/account"
	"github.com/plazahq/plaza/internal/batch"
	"github.com/plazahq/plaza/internal/sqldb"
	"github.com/plazahq/plaza/internal/sqldb/sqldbtest"
	"github.com/plazahq/plaza/internal/sqlstore"
)

// message stands for any list item that references a user.
type message struct{ ID, SenderID int64 }

// TestRenderingAListCostsOneQuery renders 50 messages by 10 authors
// through the real store: one SQL query for all authors, and none when the
// same loader is asked again.
func TestRenderingAListCostsOneQuery(t *testing.T) {
	sqldbtest.ForEach(t, func(t *testing.T, db *sqldb.DB) {
		store := sqlstore.NewAccounts(db)
		ctx := context.Background()
		var ids []int64
		for i := range 10 {
			u, err := store.CreateUser(ctx, account.NewUser{Email: fmt.Sprintf("a%d@x.io", i), Username: fmt.Sprintf("author%d", i), PasswordHash: "h", Role: account.RoleUser}, nil, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, u.ID)
		}
		var msgs []message
		for i := range 50 {
			msgs = append(msgs, message{ID: int64(i), SenderID: ids[i%10]})
		}

		loader := batch.New(store.UsersByIDs, 500, time.Millisecond)
		before := db.Queries()
		senders := make([]int64, len(msgs))
		for i, m := range msgs {
			senders[i] = m.SenderID
		}
		authors, err := loader.LoadMany(ctx, append(senders, 1<<40)) // plus one that does not exist
		if err != nil {
			t.Fatal(err)
		}
		if got := db.Queries() - before; got != 1 {
			t.Fatalf("%d queries for 50 messages, want 1", got)
		}
		for _, m := range msgs {
			if authors[m.SenderID].ID != m.SenderID {
				t.Fatalf("author of %d missing", m.ID)
			}
		}
		if _, ok := authors[1<<40]; ok {
			t.Fatal("unknown id resolved")
		}
		loader.LoadMany(ctx, senders)
		if _, ok, _ := loader.Load(ctx, 1<<40); ok || db.Queries()-before != 1 {
			t.Fatalf("memo not used: %d queries", db.Queries()-before)
		}

		// The N+1 way, for contrast: one query per message.
		before = db.Queries()
		for _, m := range msgs {
			store.UserByID(ctx, m.SenderID)
		}
		if got := db.Queries() - before; got != 50 {
			t.Fatalf("N+1 made %d queries", got)
		}
	})
}

func TestConcurrentLoadsShareAFetch(t *testing.T) {
	var fetches, keys atomic.Int64
	l := batch.New(func(_ context.Context, ks []int) (map[int]string, error) {
		fetches.Add(1)
		keys.Add(int64(len(ks)))
		out := map[int]string{}
		for _, k := range ks {
			out[k] = fmt.Sprint("v", k)
		}
		return out, nil
	}, 1000, 5*time.Millisecond)
	var wg sync.WaitGroup
	for i := range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, ok, err := l.Load(context.Background(), i%20)
			if err != nil || !ok || v != fmt.Sprint("v", i%20) {
				t.Errorf("Load(%d) = %q %v %v", i%20, v, ok, err)
			}
		}()
	}
	wg.Wait()
	if fetches.Load() > 2 || keys.Load() > 20 {
		t.Fatalf("%d fetches of %d keys for 100 loads of 20 keys", fetches.Load(), keys.Load())
	}
}

func TestMaxBatchSplitsAndErrorsPropagate(t *testing.T) {
	var calls atomic.Int64
	l := batch.New(func(_ context.Context, ks []int) (map[int]int, error) {
		calls.Add(1)
		if len(ks) > 3 {
			return nil, errors.New("batch too large")
		}
		return map[int]int{}, nil
	}, 3, time.Millisecond)
	if _, err := l.LoadMany(context.Background(), []int{1, 2, 3, 4, 5, 6, 7}); err != nil || calls.Load() != 3 {
		t.Fatalf("err %v, %d calls", err, calls.Load())
	}
	boom := batch.New(func(context.Context, []int) (map[int]int, error) { return nil, errors.New("db down") }, 10, time.Millisecond)
	if _, _, err := boom.Load(context.Background(), 1); err == nil {
		t.Fatal("error swallowed")
	}
}

// gate is a fetch that records each call's keys and blocks until released,
// answering every key with the call's number.
type gate struct {
	mu      sync.Mutex
	calls   [][]int
	started chan struct{}
	release chan struct{}
}

func newGate() *gate {
	return &gate{started: make(chan struct{}, 100), release: make(chan struct{}, 100)}
}

func (g *gate) fetch(_ context.Context, keys []int) (map[int]int, error) {
	g.mu.Lock()
	g.calls = append(g.calls, append([]int(nil), keys...))
	n := len(g.calls)
	g.mu.Unlock()
	g.started <- struct{}{}
	<-g.release
	out := map[int]int{}
	for _, k := range keys {
		if k >= 0 { // negative keys have no value
			out[k] = n
		}
	}
	return out, nil
}

// Callers that ask while a fetch runs share the next fetch, and none of
// them is answered by the fetch that was already under way when it asked.
func TestCoalescerGathersWhileAFetchRuns(t *testing.T) {
	g := newGate()
	c := batch.NewCoalescer(g.fetch, 0, 1)
	ctx := context.Background()
	first := make(chan int)
	go func() {
		v, _, _ := c.Load(ctx, 1)
		first <- v
	}()
	<-g.started // fetch 1 runs, for key 1 alone
	var wg sync.WaitGroup
	got := make([]int, 10)
	for i := range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, ok, err := c.Load(ctx, i%5) // key 1 again among them
			if err != nil || !ok {
				t.Errorf("load %d: %v %v", i, ok, err)
			}
			got[i] = v
		}()
	}
	// Let the ten gather behind fetch 1 before it ends.
	for deadline := time.Now().Add(5 * time.Second); ; {
		if c.Waiting() == 5 || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Millisecond)
	}
	g.release <- struct{}{}
	if v := <-first; v != 1 {
		t.Fatalf("first caller answered by fetch %d", v)
	}
	<-g.started
	g.release <- struct{}{}
	wg.Wait()
	for i, v := range got {
		if v != 2 {
			t.Fatalf("caller %d answered by fetch %d, want 2 (the one after it asked)", i, v)
		}
	}
	if len(g.calls) != 2 || len(g.calls[1]) != 5 {
		t.Fatalf("fetches %v, want [1] then the five keys once each", g.calls)
	}

	// Alone again: one fetch per call, of its key, at once.
	g.release <- struct{}{}
	if v, ok, err := c.Load(ctx, -1); ok || err != nil || v != 0 {
		t.Fatalf("a key without a value: %v %v %v", v, ok, err)
	}
	<-g.started
	if len(g.calls) != 3 || len(g.calls[2]) != 1 {
		t.Fatalf("fetches %v", g.calls)
	}
}

func TestCoalescerBatchLimitErrorsAndCancel(t *testing.T) {
	g := newGate()
	c := batch.NewCoalescer(g.fetch, 2, 1)
	ctx := context.Background()
	go c.Load(ctx, 100)
	<-g.started
	var wg sync.WaitGroup
	for i := range 5 {
		wg.Add(1)
		go func() { defer wg.Done(); c.Load(ctx, i) }()
	}
	for deadline := time.Now().Add(5 * time.Second); c.Waiting() < 5 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	for range 4 {
		g.release <- struct{}{}
	}
	wg.Wait()
	g.mu.Lock()
	if len(g.calls) != 4 || len(g.calls[1]) != 2 || len(g.calls[2]) != 2 || len(g.calls[3]) != 1 {
		t.Fatalf("fetches %v, want [100] then batches of at most 2", g.calls)
	}
	g.mu.Unlock()

	boom := batch.NewCoalescer(func(context.Context, []int) (map[int]int, error) { return nil, errors.New("redis down") }, 0, 1)
	if _, _, err := boom.Load(ctx, 1); err == nil {
		t.Fatal("fetch error not returned")
	}

	// A caller whose context ends stops waiting; the fetch still ends.
	g2 := newGate()
	c2 := batch.NewCoalescer(g2.fetch, 0, 1)
	cctx, cancel := context.WithCancel(ctx)
	errc := make(chan error)
	go func() { _, _, err := c2.Load(cctx, 1); errc <- err }()
	<-g2.started
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled caller: %v", err)
	}
	g2.release <- struct{}{}
	g2.release <- struct{}{}
	if v, _, _ := c2.Load(ctx, 1); v != 2 {
		t.Fatalf("after the cancelled one: fetch %d", v)
	}
}

func TestCoalescerConcurrent(t *testing.T) {
	var fetches, keys atomic.Int64
	c := batch.NewCoalescer(func(_ context.Context, ks []int) (map[int]int, error) {
		fetches.Add(1)
		keys.Add(int64(len(ks)))
		out := map[int]int{}
		for _, k := range ks {
			out[k] = k * 2
		}
		time.Sleep(100 * time.Microsecond)
		return out, nil
	}, 8, 2)
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 300 {
				k := (g*300 + i) % 37
				if v, ok, err := c.Load(context.Background(), k); err != nil || !ok || v != k*2 {
					t.Errorf("load %d: %v %v %v", k, v, ok, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	t.Logf("%d loads in %d fetches (%d keys)", 16*300, fetches.Load(), keys.Load())
	if fetches.Load() >= 16*300 {
		t.Fatalf("%d fetches for %d concurrent loads: nothing coalesced", fetches.Load(), 16*300)
	}
}
