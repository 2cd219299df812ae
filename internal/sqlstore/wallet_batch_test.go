package sqlstore_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/plazahq/plaza/internal/apperr"
	"github.com/plazahq/plaza/internal/sqldb"
	"github.com/plazahq/plaza/internal/sqldb/sqldbtest"
	"github.com/plazahq/plaza/internal/sqlstore"
	"github.com/plazahq/plaza/internal/wallet"
)

// batchCall is one call sent into a group-commit batch.
type batchCall struct {
	name  string
	key   *wallet.Key
	fn    func(ctx context.Context, l wallet.Ledger) (wallet.Reply, error)
	entry wallet.Entry
	reply wallet.Reply
	err   error
}

// runInOneBatch holds the store's group committer with a call that waits,
// queues calls behind it one after the other, then lets them all run:
// they form one batch (one shared transaction), in this order. It returns
// how many batches the calls took.
func runInOneBatch(t *testing.T, s *sqlstore.Wallet, calls []*batchCall) int64 {
	t.Helper()
	ctx := context.Background()
	before := s.GroupStats().Batches
	release, holding := make(chan struct{}), make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if _, err := s.Do(ctx, nil, func(ctx context.Context, l wallet.Ledger) (wallet.Reply, error) {
			close(holding)
			<-release
			return wallet.Reply{}, nil
		}); err != nil {
			t.Error(err)
		}
	}()
	<-holding
	for _, c := range calls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.reply, c.err = s.Do(ctx, c.key, c.fn)
		}()
		time.Sleep(20 * time.Millisecond) // queued in this order
	}
	close(release)
	wg.Wait()
	return s.GroupStats().Batches - before - 1
}

func tipCall(name string, key string, from, to, amount int64, after func() error) *batchCall {
	c := &batchCall{name: name}
	if key != "" {
		c.key = &wallet.Key{UserID: from, Key: key, Hash: fmt.Sprint(to, "/", amount)}
	}
	c.fn = func(ctx context.Context, l wallet.Ledger) (wallet.Reply, error) {
		e, err := l.Tip(ctx, from, to, amount, name)
		if err == nil && after != nil {
			err = after()
		}
		c.entry = e
		return wallet.Reply{Status: 201, Body: []byte(fmt.Sprint(e.ID, "/", e.BalanceAfter))}, err
	}
	return c
}

// checkChains checks that every account's postings, in order, carry
// exact running balances (balance_after = the one before + amount) ending
// at the account's balance, and that each successful tip's reply is its
// sender's posting.
func checkChains(t *testing.T, db *sqldb.DB, s *sqlstore.Wallet) {
	t.Helper()
	ctx := context.Background()
	type acc struct{ last int64 }
	running := map[int64]*acc{}
	err := db.Write().Query(ctx, func(rows *sql.Rows) error {
		var id, amount, after int64
		if err := rows.Scan(&id, &amount, &after); err != nil {
			return err
		}
		a := running[id]
		if a == nil {
			a = &acc{}
			running[id] = a
		}
		if a.last+amount != after {
			t.Errorf("account %d: a posting of %d after %d says balance %d", id, amount, a.last, after)
		}
		a.last = after
		return nil
	}, `SELECT account_id, amount, balance_after FROM wallet_postings ORDER BY account_id, id`)
	if err != nil {
		t.Fatal(err)
	}
	if c, err := s.Check(ctx); err != nil || !c.OK {
		t.Fatalf("ledger check: %+v %v", c, err)
	}
}

func fund(t *testing.T, s *sqlstore.Wallet, users []int64, amount int64) {
	t.Helper()
	for _, u := range users {
		if _, err := s.Do(context.Background(), nil, func(ctx context.Context, l wallet.Ledger) (wallet.Reply, error) {
			_, err := l.Adjust(ctx, u, amount, "fund", 0)
			return wallet.Reply{}, err
		}); err != nil {
			t.Fatal(err)
		}
	}
}

var errAfterTip = errors.New("the caller failed after its tip")

// TestWalletBatchRefusedInTheMiddle: one batch of tips to a hot wallet
// with refused calls among them (too few credits, a banned recipient, a
// call that fails after its tip, a key used twice in the batch). Each
// refused call gets its own error and changes nothing; every other tip is
// applied once, with exact balanceAfter values on both sides (the batch
// remembers the hot wallet's balance, and must forget it when a call
// rolls back).
func TestWalletBatchRefusedInTheMiddle(t *testing.T) {
	sqldbtest.ForEach(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		s := sqlstore.NewWallet(db, nil)
		u := walletUsers(t, db, "mid", 8)
		hot, a, b, c, d, e, banned, poor := u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7]
		fund(t, s, []int64{hot, a, b, c, d, e, banned}, 100)
		fund(t, s, []int64{poor}, 3)
		if _, err := db.Write().Exec(ctx, `UPDATE users SET banned_at = ? WHERE id = ?`, time.Now().UnixMilli(), banned); err != nil {
			t.Fatal(err)
		}
		calls := []*batchCall{
			tipCall("a1", "k-a1", a, hot, 5, nil),
			tipCall("poor", "k-poor", poor, hot, 4, nil), // insufficient funds
			tipCall("b1", "k-b1", b, hot, 7, nil),
			tipCall("ban", "k-ban", c, banned, 1, nil),                             // banned recipient
			tipCall("c1", "k-c1", c, hot, 11, func() error { return errAfterTip }), // its tip is rolled back
			tipCall("d1", "k-d1", d, hot, 13, nil),
			tipCall("d1again", "k-d1", d, hot, 13, nil), // the same key in the same batch: replayed
			tipCall("hotout", "k-hot", hot, e, 17, nil), // the hot wallet sends
			tipCall("e1", "k-e1", e, hot, 19, nil),      // e received in this batch, then sends
			tipCall("a2", "", a, b, 2, nil),             // cold to cold
			tipCall("b2", "", b, hot, 3, nil),
		}
		batches := runInOneBatch(t, s, calls)
		byName := map[string]*batchCall{}
		for _, c := range calls {
			byName[c.name] = c
		}
		for _, n := range []string{"a1", "b1", "d1", "hotout", "e1", "a2", "b2"} {
			if byName[n].err != nil || byName[n].reply.Replayed {
				t.Errorf("%s: %+v %v, want a fresh success", n, byName[n].reply, byName[n].err)
			}
		}
		if err := byName["poor"].err; !apperr.Is(err, wallet.InsufficientFunds) {
			t.Errorf("poor: %v, want insufficient_funds", err)
		}
		if err := byName["ban"].err; !apperr.Is(err, apperr.Validation) {
			t.Errorf("ban: %v, want the banned recipient's validation error", err)
		}
		if err := byName["c1"].err; !errors.Is(err, errAfterTip) {
			t.Errorf("c1: %v, want the caller's error", err)
		}
		if r := byName["d1again"]; r.err != nil || !r.reply.Replayed || string(r.reply.Body) != string(byName["d1"].reply.Body) {
			t.Errorf("d1again: %+v %v, want d1's reply replayed (%s)", r.reply, r.err, byName["d1"].reply.Body)
		}
		// The senders' balanceAfter values, in batch order.
		want := map[string]int64{"a1": 95, "b1": 93, "d1": 87, "hotout": 100 + 5 + 7 + 13 - 17, "e1": 100 + 17 - 19, "a2": 93, "b2": 92}
		for n, w := range want {
			if got := byName[n].entry.BalanceAfter; got != w {
				t.Errorf("%s: balanceAfter %d, want %d", n, got, w)
			}
		}
		got, err := s.Balances(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		wantBal := map[int64]int64{hot: 100 + 5 + 7 + 13 - 17 + 19 + 3, a: 93, b: 92, c: 100, d: 87, e: 98, banned: 100, poor: 3}
		for id, w := range wantBal {
			if got[id] != w {
				t.Errorf("user %d holds %d, want %d", id, got[id], w)
			}
		}
		checkChains(t, db, s)
		if batches > 3 { // one, and the refused ones again on the careful path
			t.Errorf("the calls took %d batches; the test means them to share one", batches)
		}
	})
}

// TestWalletBatchCommitFails: a batch whose write of its gathered rows
// fails (a key that another transaction recorded meanwhile: the batch's
// multi-row INSERT of keys hits it) rolls back whole; every call then runs
// again alone, so each good tip is applied exactly once and the call with
// the taken key is answered with the recorded reply.
func TestWalletBatchCommitFails(t *testing.T) {
	sqldbtest.ForEach(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		s := sqlstore.NewWallet(db, nil)
		u := walletUsers(t, db, "cf", 6)
		hot := u[0]
		fund(t, s, u[1:], 100)
		taken := u[3]
		if _, err := db.Write().Exec(ctx, `INSERT INTO idempotency_keys (user_id, idem_key, request_hash, status, body, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
			taken, "k-taken", fmt.Sprint(hot, "/", 9), 201, "recorded", time.Now().UnixMilli()); err != nil {
			t.Fatal(err)
		}
		calls := []*batchCall{
			tipCall("t1", "k-1", u[1], hot, 1, nil),
			tipCall("t2", "k-2", u[2], hot, 2, nil),
			tipCall("taken", "k-taken", taken, hot, 9, nil),
			tipCall("t4", "k-4", u[4], hot, 4, nil),
			tipCall("t5", "", u[5], hot, 5, nil),
		}
		runInOneBatch(t, s, calls)
		for _, c := range calls {
			switch {
			case c.name == "taken":
				if c.err != nil || !c.reply.Replayed || string(c.reply.Body) != "recorded" {
					t.Errorf("taken: %+v %v, want the recorded reply", c.reply, c.err)
				}
			case c.err != nil || c.reply.Replayed:
				t.Errorf("%s: %+v %v, want a fresh success", c.name, c.reply, c.err)
			}
		}
		got, err := s.Balances(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		for id, w := range map[int64]int64{hot: 1 + 2 + 4 + 5, u[1]: 99, u[2]: 98, taken: 100, u[4]: 96, u[5]: 95} {
			if got[id] != w {
				t.Errorf("user %d holds %d, want %d", id, got[id], w)
			}
		}
		var tips int
		if err := db.Write().QueryRow(ctx, []any{&tips}, `SELECT COUNT(*) FROM wallet_transactions WHERE kind = 'tip'`); err != nil {
			t.Fatal(err)
		}
		if tips != 4 {
			t.Errorf("%d tip transactions, want 4", tips)
		}
		checkChains(t, db, s)
	})
}

// TestWalletConcurrentRefundsOpenDebt: users who spent the credits they
// bought are refunded all at once while tips keep arriving to them, each
// refund opening the user's debt account. On MariaDB the debt account was
// opened inside the refund's transaction after a locking read of the
// missing row, the pattern that deadlocks (1213) when several transactions
// open rows in one gap. Every refund and tip must succeed, through
// transactions of their own, one group committer, and two (two instances
// of Plaza on one database), and the debts are exact.
func TestWalletConcurrentRefundsOpenDebt(t *testing.T) {
	for _, e := range sqldbtest.Engines() {
		t.Run(e.Name, func(t *testing.T) {
			db := e.Open(t, sqldb.Config{PoolSize: 32})
			ctx := context.Background()
			grouped := sqlstore.NewWallet(db, nil)
			other := sqlstore.NewWallet(db, nil) // a second instance's store
			rounds := []struct {
				name   string
				stores []*sqlstore.Wallet
			}{
				{"single", []*sqlstore.Wallet{grouped.WithoutGroupCommit()}},
				{"group", []*sqlstore.Wallet{grouped}},
				{"two groups", []*sqlstore.Wallet{grouped, other}},
			}
			for r, round := range rounds {
				buyers := walletUsers(t, db, fmt.Sprint("refund", r), 24)
				sink := walletUsers(t, db, fmt.Sprint("sink", r), 1)[0]
				for i, b := range buyers {
					p := wallet.Payment{PaymentIntent: fmt.Sprint("pi_", r, "_", i), SessionID: fmt.Sprint("cs_", r, "_", i), UserID: b,
						Item: "credits", Pack: "small", Credits: 100, AmountCents: 1000}
					if ok, err := grouped.CompletePayment(ctx, fmt.Sprint("evt_p", r, "_", i), "checkout.session.completed", p, nil); err != nil || !ok {
						t.Fatalf("payment: %v %v", ok, err)
					}
					if _, err := grouped.Do(ctx, nil, func(ctx context.Context, l wallet.Ledger) (wallet.Reply, error) {
						_, err := l.Tip(ctx, b, sink, 100, "")
						return wallet.Reply{}, err
					}); err != nil {
						t.Fatal(err)
					}
				}
				var wg sync.WaitGroup
				start := make(chan struct{})
				errs := make(chan error, 2*len(buyers))
				for i, b := range buyers {
					s := round.stores[i%len(round.stores)]
					wg.Add(2)
					go func() {
						defer wg.Done()
						<-start
						_, _, err := s.RefundPayment(ctx, fmt.Sprint("evt_r", r, "_", i), "charge.refunded", fmt.Sprint("pi_", r, "_", i), 1000, nil)
						errs <- err
					}()
					go func() {
						defer wg.Done()
						<-start
						_, err := s.Do(ctx, nil, func(ctx context.Context, l wallet.Ledger) (wallet.Reply, error) {
							_, err := l.Tip(ctx, sink, b, 30, "")
							return wallet.Reply{}, err
						})
						errs <- err
					}()
				}
				close(start)
				wg.Wait()
				close(errs)
				for err := range errs {
					if err != nil {
						t.Errorf("%s: %v", round.name, err)
					}
				}
				// Each buyer got 30 and owes 100 back, in whichever order:
				// 70 of debt, nothing left in the wallet.
				for _, b := range buyers {
					if bal, err := grouped.Balance(ctx, b); err != nil || bal.Balance != 0 || bal.Debt != 70 {
						t.Errorf("%s: user %d: %+v %v, want balance 0 debt 70", round.name, b, bal, err)
					}
				}
			}
			checkChains(t, db, grouped)
		})
	}
}
