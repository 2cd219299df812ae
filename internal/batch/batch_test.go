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
