package sqlstore_test

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"

	"github.com/plazahq/plaza/internal/sqldb"
	"github.com/plazahq/plaza/internal/sqldb/sqldbtest"
	"github.com/plazahq/plaza/internal/sqlstore"
	"github.com/plazahq/plaza/internal/wallet"
)

// TestWalletTwoInstancesNoDeadlock: two instances of Plaza (two stores,
// each with its own group committer) on one database take tips at once,
// among 20 senders who also tip each other and one hot wallet. Each
// batch locks the wallets its calls name (wallet.Touching) in user-id
// order before any of them runs, so two batches never wait on each other
// in a circle: on MariaDB no transaction may be a deadlock's victim. The
// money stays exact: every balance is known, every balance_after chain
// holds.
func TestWalletTwoInstancesNoDeadlock(t *testing.T) {
	for _, e := range sqldbtest.Engines() {
		t.Run(e.Name, func(t *testing.T) {
			db := e.Open(t, sqldb.Config{PoolSize: 32})
			ctx := context.Background()
			a, b := sqlstore.NewWallet(db, nil), sqlstore.NewWallet(db, nil)
			users := walletUsers(t, db, "inst", 21)
			senders := users[1:] // users[0] is the hot wallet
			fund(t, a, senders, 10_000)
			const clients, each = 64, 40
			before := db.Write().Stats().Deadlocks
			var wg sync.WaitGroup
			start := make(chan struct{})
			sent := make([]int64, len(users)) // by index in users: net credits out
			var mu sync.Mutex
			for c := range clients {
				s := []*sqlstore.Wallet{a, b}[c%2]
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					for i := range each {
						fi := 1 + (c+i)%len(senders)
						ti := 0 // half to the hot wallet, half to another sender
						if i%2 == 1 {
							ti = 1 + (c*7+i*3)%len(senders)
							if ti == fi {
								ti = 0
							}
						}
						from, to := users[fi], users[ti]
						key := &wallet.Key{UserID: from, Key: fmt.Sprint("inst-", c, "-", i), Hash: "h"}
						_, err := s.Do(wallet.Touching(ctx, from, to), key, func(ctx context.Context, l wallet.Ledger) (wallet.Reply, error) {
							_, err := l.Tip(ctx, from, to, 1, "")
							return wallet.Reply{Status: 201}, err
						})
						if err != nil {
							t.Errorf("tip %d -> %d: %v", from, to, err)
							return
						}
						mu.Lock()
						sent[fi]++
						sent[ti]--
						mu.Unlock()
					}
				}()
			}
			close(start)
			wg.Wait()
			if os.Getenv("PLAZA_TEST_INNODB_STATUS") != "" && e.Name != "sqlite" {
				var typ, name, status string
				if err := db.Write().QueryRow(ctx, []any{&typ, &name, &status}, `SHOW ENGINE INNODB STATUS`); err == nil {
					t.Logf("%s", status)
				}
			}
			if n := db.Write().Stats().Deadlocks - before; n != 0 {
				t.Errorf("%d transactions were a deadlock's victim, want 0", n)
			}
			bals, err := a.Balances(ctx, users)
			if err != nil {
				t.Fatal(err)
			}
			for i, u := range users {
				want := -sent[i]
				if i > 0 {
					want += 10_000
				}
				if bals[u] != want {
					t.Errorf("user %d: balance %d, want %d", u, bals[u], want)
				}
			}
			checkChains(t, db, a)
		})
	}
}
