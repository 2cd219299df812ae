package sqlstore_test

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/plazahq/plaza/internal/sqldb"
	"github.com/plazahq/plaza/internal/sqldb/sqldbtest"
	"github.com/plazahq/plaza/internal/sqlstore"
	"github.com/plazahq/plaza/internal/wallet"
)

// BenchmarkTips measures tips per second from parallel clients, each with
// its own Idempotency-Key: half go to one hot wallet, half between cold
// ones. The ledger check runs after and must pass. Rerun with
// scripts/bench-wallet.sh (PLAZA_TEST_MYSQL_DSN for the MariaDB figure).
func BenchmarkTips(b *testing.B) {
	for _, e := range sqldbtest.Engines() {
		b.Run(e.Name, func(b *testing.B) {
			db := e.Open(b, sqldb.Config{PoolSize: 32})
			grouped := sqlstore.NewWallet(db, nil)
			// Before and after side by side, on one database: each tip in
			// its own transaction, then tips gathered by group commit.
			b.Run("single", func(b *testing.B) { benchTips(b, db, grouped.WithoutGroupCommit()) })
			b.Run("group", func(b *testing.B) { benchTips(b, db, grouped) })
		})
	}
}

// benchClients is how many goroutines send tips at once.
const benchClients = 64

var benchRun atomic.Int64

func benchTips(b *testing.B, db *sqldb.DB, s *sqlstore.Wallet) {
	ctx := context.Background()
	users := walletUsers(b, db, fmt.Sprintf("bench%dx", benchRun.Add(1)), 201)
	hot, cold := users[0], users[1:]
	for _, u := range cold {
		if _, err := s.Do(ctx, nil, func(ctx context.Context, l wallet.Ledger) (wallet.Reply, error) {
			_, err := l.Adjust(ctx, u, 1_000_000_000, "bench", 0)
			return wallet.Reply{}, err
		}); err != nil {
			b.Fatal(err)
		}
	}
	var n, failed atomic.Int64
	var firstErr atomic.Value
	b.SetParallelism(benchClients / runtime.GOMAXPROCS(0))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			from := cold[i%int64(len(cold))]
			to := hot
			if i%2 == 0 {
				to = cold[(i*7+3)%int64(len(cold))]
			}
			if to == from {
				to = hot
			}
			key := &wallet.Key{UserID: from, Key: fmt.Sprint("bench-", i), Hash: "h"}
			if _, err := s.Do(wallet.Touching(ctx, from, to), key, func(ctx context.Context, l wallet.Ledger) (wallet.Reply, error) {
				e, err := l.Tip(ctx, from, to, 1, "")
				return wallet.Reply{Status: 201, Body: []byte(fmt.Sprint(e.ID))}, err
			}); err != nil {
				failed.Add(1)
				firstErr.CompareAndSwap(nil, err.Error())
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tips/s")
	if failed.Load() > 0 {
		b.Fatalf("%d tips failed; the first: %v", failed.Load(), firstErr.Load())
	}
	c, err := s.Check(ctx)
	if err != nil || !c.OK {
		b.Fatalf("ledger check after the run: %+v %v", c, err)
	}
}
