package sqlstore_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/plazahq/plaza/internal/account"
	"github.com/plazahq/plaza/internal/sqldb"
	"github.com/plazahq/plaza/internal/sqldb/sqldbtest"
	"github.com/plazahq/plaza/internal/sqlstore"
	"github.com/plazahq/plaza/internal/wallet/wallettest"
)

// testClock is a clock the suite moves forward.
type testClock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *testClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

func (c *testClock) advance(d time.Duration) {
	c.mu.Lock()
	c.offset += d
	c.mu.Unlock()
}

func walletUsers(t testing.TB, db *sqldb.DB, prefix string, n int) []int64 {
	t.Helper()
	accounts := sqlstore.NewAccounts(db)
	var ids []int64
	for i := range n {
		u, err := accounts.CreateUser(context.Background(), account.NewUser{Email: fmt.Sprintf("%s%d@example.com", prefix, i),
			Username: fmt.Sprintf("%s_%d", prefix, i), PasswordHash: "h", Role: account.RoleUser}, nil, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, u.ID)
	}
	return ids
}

func walletEnv(t *testing.T, db *sqldb.DB, prefix string, n int) wallettest.Env {
	clk := &testClock{}
	return wallettest.Env{Store: sqlstore.NewWallet(db, clk.now), Users: walletUsers(t, db, prefix, n), Advance: clk.advance,
		Ban: func(ctx context.Context, id int64) error {
			_, err := db.Write().Exec(ctx, `UPDATE users SET banned_at = ? WHERE id = ?`, time.Now().UnixMilli(), id)
			return err
		}}
}

func TestWalletConformance(t *testing.T) {
	sqldbtest.ForEach(t, func(t *testing.T, db *sqldb.DB) {
		wallettest.Exercise(t, walletEnv(t, db, "payer", 8))
	})
}

// TestWalletSimulation is the seeded randomized concurrency test; a
// failure prints the seed to replay with PLAZA_WALLET_SIM_SEED.
func TestWalletSimulation(t *testing.T) {
	sqldbtest.ForEach(t, func(t *testing.T, db *sqldb.DB) {
		seed := wallettest.Seed()
		t.Logf("seed %d", seed)
		cfg := wallettest.SimConfig{Workers: 8, Ops: 150}
		if testing.Short() {
			cfg.Ops = 40
		}
		wallettest.Simulate(t, walletEnv(t, db, "sim", 12), seed, cfg)
	})
}
