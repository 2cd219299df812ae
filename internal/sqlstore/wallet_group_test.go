package sqlstore_test

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"testing"

	"github.com/plazahq/plaza/internal/apperr"
	"github.com/plazahq/plaza/internal/sqldb"
	"github.com/plazahq/plaza/internal/sqldb/sqldbtest"
	"github.com/plazahq/plaza/internal/sqlstore"
	"github.com/plazahq/plaza/internal/wallet"
)

// TestWalletGroupCommitTips: 64 clients send tips at once through the
// group committer, one hot wallet and 16 cold ones funded with 50 credits
// each, so many tips overdraw; some keys are sent twice at once with the
// same body (one effect, the other replayed with the same reply) and some
// twice with different bodies (at most one effect, the other refused).
// After the run every balance is exactly what the successful tips say,
// each effect is one tip transaction, and the ledger check passes.
func TestWalletGroupCommitTips(t *testing.T) {
	sqldbtest.ForEach(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		s := sqlstore.NewWallet(db, nil)
		users := walletUsers(t, db, "grp", 17)
		hot, cold := users[0], users[1:]
		const funds = 50
		for _, u := range cold {
			if _, err := s.Do(ctx, nil, func(ctx context.Context, l wallet.Ledger) (wallet.Reply, error) {
				_, err := l.Adjust(ctx, u, funds, "fund", 0)
				return wallet.Reply{}, err
			}); err != nil {
				t.Fatal(err)
			}
		}
		type result struct {
			from, to, amount int64
			reply            wallet.Reply
			err              error
		}
		var (
			mu      sync.Mutex
			results = map[string][]result{} // by key
			wg      sync.WaitGroup
			start   = make(chan struct{})
		)
		tip := func(key string, from, to, amount int64) {
			defer wg.Done()
			<-start
			k := &wallet.Key{UserID: from, Key: key, Hash: fmt.Sprint(to, "/", amount)}
			r, err := s.Do(ctx, k, func(ctx context.Context, l wallet.Ledger) (wallet.Reply, error) {
				e, err := l.Tip(ctx, from, to, amount, "")
				return wallet.Reply{Status: 201, Body: []byte(strconv.FormatInt(e.ID, 10))}, err
			})
			mu.Lock()
			results[key] = append(results[key], result{from, to, amount, r, err})
			mu.Unlock()
		}
		for c := range 64 {
			for j := range 8 {
				from := cold[c%len(cold)]
				to := hot
				if j%3 == 2 {
					to = cold[(c+j+1)%len(cold)]
					if to == from {
						to = hot
					}
				}
				amount := int64(1 + (c*7+j)%9)
				key := fmt.Sprintf("k-%d-%d", c, j)
				wg.Add(1)
				go tip(key, from, to, amount)
				switch j {
				case 3: // the same request twice at once
					wg.Add(1)
					go tip(key, from, to, amount)
				case 5: // the same key with another body
					wg.Add(1)
					go tip(key, from, to, amount+1)
				}
			}
		}
		close(start)
		wg.Wait()

		balance := map[int64]int64{}
		for _, u := range cold {
			balance[u] = funds
		}
		var effects, refusedFunds, replays, reused int
		for key, rs := range results {
			fresh := 0
			for _, r := range rs {
				switch {
				case r.err == nil && !r.reply.Replayed:
					fresh++
					effects++
					balance[r.from] -= r.amount
					balance[r.to] += r.amount
				case r.err == nil:
					replays++
				case apperr.Is(r.err, wallet.InsufficientFunds):
					refusedFunds++
				case apperr.Is(r.err, wallet.IdempotencyKeyReused):
					reused++
				default:
					t.Errorf("key %s: unexpected error %v", key, r.err)
				}
			}
			if fresh > 1 {
				t.Errorf("key %s had %d effects", key, fresh)
			}
			for _, r := range rs {
				if r.err == nil && r.reply.Replayed {
					var orig *result
					for i := range rs {
						if rs[i].err == nil && !rs[i].reply.Replayed {
							orig = &rs[i]
						}
					}
					if orig == nil || string(orig.reply.Body) != string(r.reply.Body) || orig.amount != r.amount {
						t.Errorf("key %s: replay %q without a matching first reply", key, r.reply.Body)
					}
				}
			}
		}
		if refusedFunds == 0 || replays == 0 || reused == 0 {
			t.Errorf("the run did not exercise everything: %d refused for funds, %d replays, %d reused keys", refusedFunds, replays, reused)
		}
		got, err := s.Balances(ctx, users)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range users {
			if got[u] != balance[u] {
				t.Errorf("user %d holds %d, the successful tips say %d", u, got[u], balance[u])
			}
		}
		var tips int
		if err := db.Write().QueryRow(ctx, []any{&tips}, `SELECT COUNT(*) FROM wallet_transactions WHERE kind = 'tip'`); err != nil {
			t.Fatal(err)
		}
		if tips != effects {
			t.Errorf("%d tip transactions for %d effects", tips, effects)
		}
		c, err := s.Check(ctx)
		if err != nil || !c.OK {
			t.Fatalf("ledger check: %+v %v", c, err)
		}
		t.Logf("%d effects, %d refused for funds, %d replays, %d reused keys", effects, refusedFunds, replays, reused)
	})
}

// TestWalletNewWalletConcurrentTips: 64 senders tip one user who has no
// wallet yet, all at once, with each tip in a transaction of its own (the
// store without group commit) and then through the group committer. On
// MariaDB this was error 1213: each transaction's UPDATE of the missing
// wallet row left a gap lock where the row goes, and each one's INSERT
// of the wallet waited for the others'. Every tip must succeed, and the
// new wallet holds exactly what was sent.
func TestWalletNewWalletConcurrentTips(t *testing.T) {
	for _, e := range sqldbtest.Engines() {
		t.Run(e.Name, func(t *testing.T) { newWalletConcurrentTips(t, e.Open(t, sqldb.Config{PoolSize: 32})) })
	}
}

func newWalletConcurrentTips(t *testing.T, db *sqldb.DB) {
	{
		ctx := context.Background()
		grouped := sqlstore.NewWallet(db, nil)
		senders := walletUsers(t, db, "open", 64)
		for _, u := range senders {
			if _, err := grouped.Do(ctx, nil, func(ctx context.Context, l wallet.Ledger) (wallet.Reply, error) {
				_, err := l.Adjust(ctx, u, 100, "fund", 0)
				return wallet.Reply{}, err
			}); err != nil {
				t.Fatal(err)
			}
		}
		for round, s := range []*sqlstore.Wallet{grouped.WithoutGroupCommit(), grouped} {
			to := walletUsers(t, db, fmt.Sprint("fresh", round), 1)[0]
			var wg sync.WaitGroup
			errs := make(chan error, len(senders))
			start := make(chan struct{})
			for i, from := range senders {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					key := &wallet.Key{UserID: from, Key: fmt.Sprint("open-", round, "-", i), Hash: "h"}
					_, err := s.Do(ctx, key, func(ctx context.Context, l wallet.Ledger) (wallet.Reply, error) {
						_, err := l.Tip(ctx, from, to, 2, "")
						return wallet.Reply{Status: 201}, err
					})
					errs <- err
				}()
			}
			close(start)
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Errorf("round %d: %v", round, err)
				}
			}
			if b, err := s.Balance(ctx, to); err != nil || b.Balance != 2*int64(len(senders)) {
				t.Errorf("round %d: the new wallet holds %+v (%v), want %d", round, b, err, 2*len(senders))
			}
		}
		if c, err := grouped.Check(ctx); err != nil || !c.OK {
			t.Fatalf("ledger check: %+v %v", c, err)
		}
	}
}
