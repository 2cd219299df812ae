package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/plazahq/plaza/internal/account"
	"github.com/plazahq/plaza/internal/app"
	"github.com/plazahq/plaza/internal/config"
	"github.com/plazahq/plaza/internal/httpapi"
	"github.com/plazahq/plaza/internal/mail"
	"github.com/plazahq/plaza/internal/sqldb"
	"github.com/plazahq/plaza/internal/sqldb/sqldbtest"
)

// BenchmarkChannelRoutes is the per-request cost of the load test's most
// frequent routes, through the whole handler (middleware, session, rate
// limit, compression) but without a network: the newest page of a
// channel read by a signed-in member who accepts gzip, a post to it (with
// the session reload its XP award causes), a post followed by reads (the
// page changed: what a post costs its readers), a profile, opening a
// direct thread that exists and a message in it. cpu-ns/op is the
// process's CPU time (user and system, every goroutine: the database's
// too) per iteration; ns/op is wall time on a shared machine.
//
//	go test ./internal/httpapi -run '^$' -bench ChannelRoutes -benchtime 2000x -count 5
func BenchmarkChannelRoutes(b *testing.B) {
	db := sqldbtest.OpenSQLite(b, sqldb.Config{})
	dir := b.TempDir()
	vars := map[string]string{"PLAZA_DATA_DIR": dir, "PLAZA_RATE_API": "1000000000/1m", "PLAZA_JOB_WORKERS": "1"}
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
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		a.Stop(ctx)
	})
	api, err := httpapi.New(a.HTTP("bench"))
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
	peer, err := a.Accounts.CreateAdmin(ctx, account.RegisterInput{Email: "p@example.com", Username: "peer", Password: pw})
	if err != nil {
		b.Fatal(err)
	}
	do := func(method, path string, body any) *httptest.ResponseRecorder {
		var rd *bytes.Reader
		if body != nil {
			j, _ := json.Marshal(body)
			rd = bytes.NewReader(j)
		} else {
			rd = bytes.NewReader(nil)
		}
		req := httptest.NewRequest(method, path, rd)
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Accept-Encoding", "gzip")
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		w := httptest.NewRecorder()
		api.ServeHTTP(w, req)
		if w.Code >= 300 {
			b.Fatalf("%s %s: %d %s", method, path, w.Code, w.Body)
		}
		return w
	}
	var ch struct{ ID int64 }
	json.Unmarshal(do("POST", "/api/community/channels", map[string]any{"name": "General"}).Body.Bytes(), &ch)
	msgs := fmt.Sprintf("/api/community/channels/%d/messages", ch.ID)
	for i := range 60 {
		do("POST", msgs, map[string]string{"body": fmt.Sprintf("lt:%d hello from the load test", i)})
	}
	post := map[string]string{"body": "lt:1764662400000000000 hello from the load test"}
	var thread struct{ ID int64 }
	json.Unmarshal(do("POST", "/api/messages/threads", map[string]int64{"userId": peer.ID}).Body.Bytes(), &thread)
	threadMsgs := fmt.Sprintf("/api/messages/threads/%d/messages", thread.ID)
	profile := fmt.Sprintf("/api/users/%d", peer.ID)
	run := func(name string, op func()) {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			cpu0 := httpapi.CPUTime(b)
			for range b.N {
				op()
			}
			b.ReportMetric(float64(httpapi.CPUTime(b)-cpu0)/float64(b.N), "cpu-ns/op")
		})
	}
	run("GET newest page", func() { do("GET", msgs+"?limit=50", nil) })
	run("POST message", func() { do("POST", msgs, post) })
	run("POST then 2 GETs", func() {
		do("POST", msgs, post)
		do("GET", msgs+"?limit=50", nil)
		do("GET", msgs+"?limit=50", nil)
	})
	run("GET user profile", func() { do("GET", profile, nil) })
	run("POST open thread", func() { do("POST", "/api/messages/threads", map[string]int64{"userId": peer.ID}) })
	run("POST thread message", func() { do("POST", threadMsgs, post) })
	var first struct{ Items []struct{ ID int64 } }
	json.Unmarshal(do("GET", msgs+"?limit=1", nil).Body.Bytes(), &first)
	reaction := fmt.Sprintf("/api/community/messages/%d/reactions/%%F0%%9F%%94%%A5", first.Items[0].ID)
	run("PUT and DELETE reaction", func() {
		do("PUT", reaction, nil)
		do("DELETE", reaction, nil)
	})
}
