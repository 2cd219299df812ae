package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/plazahq/plaza/internal/sqldb"
	"github.com/plazahq/plaza/internal/sqldb/sqldbtest"
)

// TestServeWhenTheDatabaseHangs runs the real server on MariaDB behind a
// proxy that black-holes it (connections stay open, nothing answers): a
// request that needs the database fails with 503 unavailable within
// DB_QUERY_TIMEOUT instead of the driver's 30 s, health answers within a
// second and does not say ok, and both recover when the database answers.
func TestServeWhenTheDatabaseHangs(t *testing.T) {
	_, proxied, p := sqldbtest.ProxiedMySQL(t)
	const limit = time.Second
	in := startInstance(t, map[string]string{"DATABASE_URL": proxied, "DB_QUERY_TIMEOUT": limit.String(), "PLAZA_CACHE": "off"})
	if code := in.call(t, "GET", "/api/community/channels", "", nil, nil); code != 200 {
		t.Fatalf("before: %d", code)
	}
	p.Blackhole()
	for i := range 2 {
		start := time.Now()
		res, err := http.Get(in.base + "/api/community/channels")
		if err != nil {
			t.Fatal(err)
		}
		var body struct{ Error struct{ Code string } }
		json.NewDecoder(res.Body).Decode(&body)
		res.Body.Close()
		d := time.Since(start)
		if res.StatusCode != 503 || body.Error.Code != "unavailable" || res.Header.Get("Retry-After") == "" {
			t.Fatalf("request %d on a hung database: %d %q", i, res.StatusCode, body.Error.Code)
		}
		if d > limit+time.Second {
			t.Fatalf("request %d took %v to fail; DB_QUERY_TIMEOUT is %v", i, d, limit)
		}
	}
	for i := range 3 {
		start := time.Now()
		h, err := getHealth(in.base)
		if d := time.Since(start); err != nil || d > time.Second || h.Status == "ok" {
			t.Fatalf("health %d on a hung database: %+v %v after %v", i, h, err, d)
		}
	}
	p.Release()
	waitHealth(t, in.base, func(h health) bool { return h.Status == "ok" })
	if code := in.call(t, "GET", "/api/community/channels", "", nil, nil); code != 200 {
		t.Fatalf("after: %d", code)
	}
}

// `plaza serve --no-migrate` on an empty or older database refuses to
// start, in one line naming the command that fixes it; once migrated it
// serves.
func TestServeNoMigrateRefusesASchemaBehind(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"PLAZA_DATA_DIR": dir, "PLAZA_ADDR": freeAddr(t), "PLAZA_LOG_LEVEL": "error"}
	serveNoMigrate := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		return run(ctx, []string{"serve", "--no-migrate"}, envMap(env), nil, io.Discard, io.Discard)
	}
	check := func(what string) {
		t.Helper()
		err := serveNoMigrate()
		if exitCode(err) == 0 || err == nil || !strings.Contains(err.Error(), "plaza migrate") || strings.Contains(err.Error(), "\n") {
			t.Fatalf("%s: exit %d, %v", what, exitCode(err), err)
		}
	}
	check("empty database")
	if _, err := os.Stat(filepath.Join(dir, "plaza.db")); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := run(context.Background(), []string{"migrate"}, envMap(env), nil, &out, &out); err != nil {
		t.Fatalf("migrate: %v\n%s", err, out.String())
	}
	// An older database: the last migration's record is gone (its table
	// stays, so the record is put back afterwards rather than migrating).
	db, err := sqldb.Open(context.Background(), sqldb.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	var latest int64
	db.Write().QueryRow(context.Background(), []any{&latest}, "SELECT MAX(version_id) FROM goose_db_version")
	if _, err := db.Write().Exec(context.Background(), "DELETE FROM goose_db_version WHERE version_id = ?", latest); err != nil {
		t.Fatal(err)
	}
	check("older database")
	if _, err := db.Write().Exec(context.Background(), "INSERT INTO goose_db_version (version_id, is_applied) VALUES (?, 1)", latest); err != nil {
		t.Fatal(err)
	}
	db.Close()
	in := startInstance(t, map[string]string{"PLAZA_DATA_DIR": dir, "PLAZA_AUTO_MIGRATE": "false"})
	waitHealth(t, in.base, func(h health) bool { return h.Status == "ok" }) // current schema: serves without migrating
}
