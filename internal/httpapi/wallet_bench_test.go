package httpapi_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plazahq/plaza/internal/account"
	"github.com/plazahq/plaza/internal/app"
	"github.com/plazahq/plaza/internal/config"
	"github.com/plazahq/plaza/internal/httpapi"
	"github.com/plazahq/plaza/internal/mail"
	"github.com/plazahq/plaza/internal/ratelimit"
	"github.com/plazahq/plaza/internal/sqldb"
	"github.com/plazahq/plaza/internal/sqldb/sqldbtest"
	"github.com/plazahq/plaza/internal/wallet"
)

// BenchmarkTipsHTTP measures POST /api/wallet/tips through the real
// routes (auth, Idempotency-Key, body decoding, the ledger write, the
// cache invalidation), 64 clients at once, half the tips to one hot
// wallet and half between 64 cold ones; the ledger check runs after and
// must pass. The api and payment rate tiers are lifted (hcfg.Tiers, as
// PLAZA_RATE_PAYMENT=off does): 10 tips a minute per user would measure
// the limiter. "single" runs each tip in its own transaction (the store
// without group commit), "group" with it, side by side on one database.
//
//	scripts/bench-wallet.sh   (PLAZA_TEST_MYSQL_DSN for MariaDB)
func BenchmarkTipsHTTP(b *testing.B) {
	for _, e := range sqldbtest.Engines() {
		b.Run(e.Name, func(b *testing.B) {
			db := e.Open(b, sqldb.Config{PoolSize: 32})
			a, srv := tipBenchServer(b, db)
			ctx := context.Background()
			const cold = 64
			var ids []int64
			var tokens []string
			for i := range cold + 1 {
				name := fmt.Sprintf("tipper%d", i)
				u, err := a.Accounts.CreateAdmin(ctx, account.RegisterInput{Email: name + "@example.com", Username: name, Password: pw})
				if err != nil {
					b.Fatal(err)
				}
				tok, _, _, err := a.Accounts.Login(ctx, account.LoginInput{Login: name, Password: pw})
				if err != nil {
					b.Fatal(err)
				}
				ids, tokens = append(ids, u.ID), append(tokens, tok)
				if _, err := a.Wallet.Do(ctx, nil, func(ctx context.Context, l wallet.Ledger) (wallet.Reply, error) {
					_, err := l.Adjust(ctx, u.ID, 1_000_000_000, "bench", 0)
					return wallet.Reply{}, err
				}); err != nil {
					b.Fatal(err)
				}
			}
			// One app per mode (an app's API is built once), on one database.
			handlers := map[string]http.Handler{"group": tipBenchAPI(b, a, false)}
			a2, _ := tipBenchServer(b, db)
			handlers["single"] = tipBenchAPI(b, a2, true)
			client := &http.Client{Transport: &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 256}}
			var seq atomic.Int64
			for _, mode := range []string{"single", "group"} {
				b.Run(mode, func(b *testing.B) {
					srv.Config.Handler = handlers[mode]
					var failed atomic.Int64
					b.SetParallelism(64 / runtime.GOMAXPROCS(0))
					b.ResetTimer()
					b.RunParallel(func(pb *testing.PB) {
						for pb.Next() {
							i := seq.Add(1)
							from := 1 + i%cold
							to := int64(0)
							if i%2 == 0 {
								to = 1 + (i*7+3)%cold
								if to == from {
									to = 0
								}
							}
							body := fmt.Appendf(nil, `{"toUserId":%d,"amount":1}`, ids[to])
							req, _ := http.NewRequest("POST", srv.URL+"/api/wallet/tips", bytes.NewReader(body))
							req.Header.Set("Content-Type", "application/json")
							req.Header.Set("Authorization", "Bearer "+tokens[from])
							req.Header.Set("Idempotency-Key", fmt.Sprint("bench-", i))
							res, err := client.Do(req)
							if err != nil {
								failed.Add(1)
								continue
							}
							io.Copy(io.Discard, res.Body) //nolint:errcheck // drained for reuse
							res.Body.Close()
							if res.StatusCode != 201 {
								failed.Add(1)
							}
						}
					})
					b.StopTimer()
					b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tips/s")
					if failed.Load() > 0 {
						b.Fatalf("%d of %d tips failed", failed.Load(), b.N)
					}
					if c, err := a.Wallet.Check(ctx); err != nil || !c.OK {
						b.Fatalf("ledger check after the run: %+v %v", c, err)
					}
				})
			}
		})
	}
}

// tipBenchServer starts an instance on db with payments' rate tier off.
func tipBenchServer(b *testing.B, db *sqldb.DB) (*app.App, *httptest.Server) {
	dir := b.TempDir()
	vars := map[string]string{"PLAZA_DATA_DIR": dir, "PLAZA_RATE_PAYMENT": "off"}
	cfg, err := config.FromEnv(func(k string) string { return vars[k] })
	if err != nil {
		b.Fatal(err)
	}
	box, _ := mail.NewMailbox(dir, "Plaza <no-reply@test>", sqldbtest.Quiet())
	a, err := app.New(context.Background(), app.Options{Config: cfg, DB: db, Mailer: box, Log: sqldbtest.Quiet(), HashParams: fastHash, HistorySize: 10})
	if err != nil {
		b.Fatal(err)
	}
	if err := a.Start(); err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(http.NotFoundHandler())
	b.Cleanup(func() {
		srv.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		a.Stop(ctx)
	})
	return a, srv
}

// tipBenchAPI is the API with the rate tiers lifted; single: the wallet
// store without group commit.
func tipBenchAPI(b *testing.B, a *app.App, single bool) http.Handler {
	hcfg, deps := a.HTTP("bench")
	hcfg.Tiers = map[string]ratelimit.Tier{
		"api":     {Name: "api", Limit: 1 << 30, Window: time.Minute},
		"payment": {Name: "payment", Limit: 1 << 30, Window: time.Minute},
	}
	if single {
		deps.Wallet.Store = a.Wallet.WithoutGroupCommit()
	}
	api, err := httpapi.New(hcfg, deps)
	if err != nil {
		b.Fatal(err)
	}
	return api
}
