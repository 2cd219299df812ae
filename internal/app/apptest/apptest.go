// Package apptest builds the whole application for tests, as plaza serve
// does, without its HTTP server.
package apptest

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/plazahq/plaza/internal/account"
	"github.com/plazahq/plaza/internal/app"
	"github.com/plazahq/plaza/internal/config"
	"github.com/plazahq/plaza/internal/mail"
	"github.com/plazahq/plaza/internal/sqldb"
	"github.com/plazahq/plaza/internal/sqldb/sqldbtest"
)

// New builds the services on db with no job workers (what a call
// enqueues stays in the queue for the test to see), a cheap password
// hash, rollups run by hand, and mail written under a temporary folder.
// It is not started.
func New(t testing.TB, db *sqldb.DB) *app.App {
	t.Helper()
	dir := t.TempDir()
	log := sqldbtest.Quiet()
	box, err := mail.NewMailbox(filepath.Join(dir, "mail"), "Plaza <no-reply@test>", log)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.FromEnv(func(k string) string {
		return map[string]string{"PLAZA_DATA_DIR": dir, "PLAZA_JOB_WORKERS": "0"}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.New(context.Background(), app.Options{Config: cfg, DB: db, Mailer: box, Log: log,
		HashParams: account.HashParams{Memory: 64, Time: 1, Threads: 1}, ManualRollups: true})
	if err != nil {
		t.Fatal(err)
	}
	return a
}
