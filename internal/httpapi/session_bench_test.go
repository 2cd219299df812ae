package httpapi_test

import (
	"context"
	"testing"

	"github.com/plazahq/plaza/internal/account"
	"github.com/plazahq/plaza/internal/app"
	"github.com/plazahq/plaza/internal/config"
	"github.com/plazahq/plaza/internal/mail"
	"github.com/plazahq/plaza/internal/sqldb"
	"github.com/plazahq/plaza/internal/sqldb/sqldbtest"
)

// BenchmarkSessionCheck compares the two session checks a WebSocket makes:
// ValidSession (cached; before every subscribe) and CheckSession (a query;
// after a revocation is announced, and at expiry).
//
//	go test ./internal/httpapi -run '^$' -bench SessionCheck -benchtime 2000x -count 5
func BenchmarkSessionCheck(b *testing.B) {
	db := sqldbtest.OpenSQLite(b, sqldb.Config{})
	dir := b.TempDir()
	cfg, err := config.FromEnv(func(k string) string { return map[string]string{"PLAZA_DATA_DIR": dir}[k] })
	if err != nil {
		b.Fatal(err)
	}
	box, _ := mail.NewMailbox(dir, "Plaza <no-reply@test>", sqldbtest.Quiet())
	a, err := app.New(context.Background(), app.Options{Config: cfg, DB: db, Mailer: box, Log: sqldbtest.Quiet(), HashParams: fastHash, HistorySize: 10})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	if _, err := a.Accounts.CreateAdmin(ctx, account.RegisterInput{Email: "b@example.com", Username: "bench", Password: pw}); err != nil {
		b.Fatal(err)
	}
	token, _, _, err := a.Accounts.Login(ctx, account.LoginInput{Login: "bench", Password: pw})
	if err != nil {
		b.Fatal(err)
	}
	b.Run("ValidSession", func(b *testing.B) {
		for range b.N {
			if _, err := a.Accounts.ValidSession(ctx, token); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("CheckSession", func(b *testing.B) {
		for range b.N {
			if _, err := a.Accounts.CheckSession(ctx, token); err != nil {
				b.Fatal(err)
			}
		}
	})
}
