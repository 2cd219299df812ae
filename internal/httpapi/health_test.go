package httpapi_test

import (
	"bytes"
	"context"
	"database/sql"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plazahq/plaza/internal/httpapi"
	"github.com/plazahq/plaza/internal/sqldb"
	"github.com/plazahq/plaza/internal/sqldb/sqldbtest"
)

// syncBuffer is a log destination the server's goroutines may share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// A documented refusal (ai_disabled: the feature is off) is a 503 any
// signed-in user can ask for at will: it must not raise the error-rate
// alert nor be logged as an error. A real fault still does both.
func TestRefusalsAreNotFaults(t *testing.T) {
	logs := &syncBuffer{}
	e := newEnv(t, sqldbtest.OpenSQLite(t, sqldb.Config{}), withEnv("PLAZA_RATE_AI", "off"), withHTTP(func(_ *httpapi.Config, d *httpapi.Deps) {
		d.Log = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}))
	tok, _ := e.signup("refused")
	for range 40 {
		r := e.do("POST", "/api/ai/requests", map[string]string{"kind": "chat", "input": "hi"}, tok)
		if r.status != 503 || r.code() != "ai_disabled" {
			t.Fatalf("%d %s", r.status, r.body)
		}
	}
	var h healthDoc
	e.must(200, e.do("GET", "/api/health", nil, "")).json(&h)
	if h.Status != "ok" || h.Performance.ErrorRate != 0 || len(h.Alerts) != 0 {
		t.Fatalf("refusals counted as faults: %+v", h)
	}
	if out := logs.String(); strings.Contains(out, "level=ERROR") || strings.Contains(out, "level=WARN") {
		t.Fatalf("refusals logged as failures:\n%s", out)
	}

	// A fault: the database is gone, a signed-in read fails with a 5xx.
	e.db.Close()
	for range 5 {
		if r := e.do("GET", "/api/auth/sessions", nil, tok); r.status < 500 {
			t.Fatalf("without a database: %d %s", r.status, r.body)
		}
	}
	e.do("GET", "/api/health", nil, "").json(&h)
	if h.Performance.ErrorRate == 0 || !containsAll(h.Alerts, "error rate") {
		t.Fatalf("faults not counted: %+v", h)
	}
	if !strings.Contains(logs.String(), "level=ERROR") {
		t.Fatalf("fault not logged as an error:\n%s", logs.String())
	}
}

// However long the database takes, health answers within its budget and
// says so; the queue probe is given the same deadline.
func TestHealthAnswersWhileTheDatabaseHangs(t *testing.T) {
	db := sqldbtest.OpenSQLite(t, sqldb.Config{})
	e := newEnv(t, db, withHTTP(func(_ *httpapi.Config, d *httpapi.Deps) {
		d.Probes.Queue = func(ctx context.Context) httpapi.QueueHealth {
			<-ctx.Done() // a depth query that never returns before its deadline
			return httpapi.QueueHealth{}
		}
	}))
	// The writer (SQLite has one) is held by a transaction that never ends
	// on its own: the health ping cannot get it.
	hold, holding := make(chan struct{}), make(chan struct{})
	go db.Write().Tx(context.Background(), func(*sql.Tx) error { close(holding); <-hold; return nil })
	<-holding
	defer close(hold)
	for range 3 {
		start := time.Now()
		r := e.do("GET", "/api/health", nil, "")
		if d := time.Since(start); d > time.Second {
			t.Fatalf("health took %v", d)
		}
		var h healthDoc
		r.json(&h)
		if h.Status == "ok" {
			t.Fatalf("health says ok while the database cannot be reached: %d %s", r.status, r.body)
		}
	}
}
