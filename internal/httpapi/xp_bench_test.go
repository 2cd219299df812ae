package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
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
)

// BenchmarkPostMessageXP measures POST /api/community/channels/{id}/messages
// on SQLite with message XP off (PLAZA_XP_MESSAGE=0), with the default
// rules (the daily cap of 20 is soon reached, so most posts only check it)
// and with no cap (every post writes a ledger row and moves users.xp).
// Sub-benchmarks alternate within each -count round.
//
//	go test ./internal/httpapi -run '^$' -bench PostMessageXP -benchtime 2000x -count 5
func BenchmarkPostMessageXP(b *testing.B) {
	for _, c := range []struct {
		name string
		env  map[string]string
	}{
		{"off", map[string]string{"PLAZA_XP_MESSAGE": "0"}},
		{"default", nil},
		{"nocap", map[string]string{"PLAZA_XP_MESSAGE_DAILY_CAP": "0"}},
	} {
		b.Run(c.name, func(b *testing.B) {
			url, token := benchServer(b, c.env)
			body := []byte(`{"body":"hello, bench"}`)
			b.ResetTimer()
			for range b.N {
				req, _ := http.NewRequest("POST", url, bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+token)
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode != 201 {
					b.Fatalf("status %d", res.StatusCode)
				}
			}
		})
	}
}

// benchServer starts an instance on a fresh SQLite database with env set
// and no rate limits, and returns a channel's messages URL and a token.
func benchServer(b *testing.B, env map[string]string) (string, string) {
	db := sqldbtest.OpenSQLite(b, sqldb.Config{})
	dir := b.TempDir()
	vars := map[string]string{"PLAZA_DATA_DIR": dir}
	for k, v := range env {
		vars[k] = v
	}
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
	hcfg, deps := a.HTTP("bench")
	hcfg.Tiers = map[string]ratelimit.Tier{"api": {Name: "api", Limit: 1 << 30, Window: time.Minute}}
	api, err := httpapi.New(hcfg, deps)
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(api)
	b.Cleanup(func() {
		srv.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		a.Stop(ctx)
	})
	ctx := context.Background()
	if _, err := a.Accounts.CreateAdmin(ctx, account.RegisterInput{Email: "b@example.com", Username: "bench", Password: pw}); err != nil {
		b.Fatal(err)
	}
	token, _, _, err := a.Accounts.Login(ctx, account.LoginInput{Login: "bench", Password: pw})
	if err != nil {
		b.Fatal(err)
	}
	req, _ := http.NewRequest("POST", srv.URL+"/api/community/channels", bytes.NewReader([]byte(`{"name":"Bench"}`)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer res.Body.Close()
	var ch struct{ ID int64 }
	if err := json.NewDecoder(res.Body).Decode(&ch); err != nil || ch.ID == 0 {
		b.Fatalf("channel: %d %v", res.StatusCode, err)
	}
	return fmt.Sprintf("%s/api/community/channels/%d/messages", srv.URL, ch.ID), token
}
