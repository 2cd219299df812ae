// Package sqldbtest opens real, migrated databases for tests: SQLite in a
// temporary directory always, and MySQL/MariaDB when PLAZA_TEST_MYSQL_DSN
// names a server. Each MySQL test gets a database of its own, dropped after,
// so runs never collide. Under CI=true an unreachable server fails the test
// instead of skipping it.
package sqldbtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"io"
	"log/slog"
	"net/url"
	"testing"
	"time"

	"github.com/plazahq/plaza/internal/netfault"
	"github.com/plazahq/plaza/internal/sqldb"
	"github.com/plazahq/plaza/internal/testenv"
)

// Engine opens a fresh database of one dialect.
type Engine struct {
	Name string
	Open func(t testing.TB, cfg sqldb.Config) *sqldb.DB
}

// Engines returns SQLite, plus MySQL when configured.
func Engines() []Engine {
	return []Engine{{"sqlite", OpenSQLite}, {"mysql", OpenMySQL}}
}

// ForEach runs fn as a subtest against every engine.
func ForEach(t *testing.T, fn func(t *testing.T, db *sqldb.DB)) {
	for _, e := range Engines() {
		t.Run(e.Name, func(t *testing.T) {
			fn(t, e.Open(t, sqldb.Config{}))
		})
	}
}

// Quiet is a logger that discards everything.
func Quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// OpenSQLite opens a migrated SQLite database in a temporary directory.
func OpenSQLite(t testing.TB, cfg sqldb.Config) *sqldb.DB {
	t.Helper()
	cfg.DataDir = t.TempDir()
	cfg.URL = ""
	return open(t, cfg)
}

// MySQLURL returns PLAZA_TEST_MYSQL_DSN, skipping the test when it is unset
// (failing under CI=true).
func MySQLURL(t testing.TB) string {
	t.Helper()
	return testenv.Lookup(t, "PLAZA_TEST_MYSQL_DSN", "MySQL")
}

// CreateMySQLDatabase creates an empty database on the PLAZA_TEST_MYSQL_DSN
// server, drops it when the test ends, and returns its mysql:// URL.
func CreateMySQLDatabase(t testing.TB) string {
	t.Helper()
	base := MySQLURL(t)
	dsn, err := sqldb.MySQLDSN(base)
	if err != nil {
		t.Fatal(err)
	}
	admin, err := sql.Open("mysql", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := admin.PingContext(ctx); err != nil {
		t.Fatalf("MySQL at PLAZA_TEST_MYSQL_DSN is unreachable: %v", err)
	}
	b := make([]byte, 6)
	rand.Read(b)
	name := "plaza_test_" + hex.EncodeToString(b)
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name+" CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		db, err := sql.Open("mysql", dsn)
		if err != nil {
			t.Error(err)
			return
		}
		defer db.Close()
		if _, err := db.Exec("DROP DATABASE IF EXISTS " + name); err != nil {
			t.Errorf("drop %s: %v", name, err)
		}
	})
	u, _ := url.Parse(base)
	u.Path = "/" + name
	return u.String()
}

// OpenMySQL opens a migrated database of its own on the test server.
func OpenMySQL(t testing.TB, cfg sqldb.Config) *sqldb.DB {
	t.Helper()
	cfg.URL = CreateMySQLDatabase(t)
	return open(t, cfg)
}

func open(t testing.TB, cfg sqldb.Config) *sqldb.DB {
	t.Helper()
	ctx := context.Background()
	db, err := sqldb.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx, Quiet()); err != nil {
		t.Fatal(err)
	}
	return db
}

// ProxiedMySQL creates a database of its own on the test server and
// returns its URL, a URL reaching it through a proxy the test can cut and
// restore (netfault), and the proxy.
func ProxiedMySQL(t testing.TB) (direct, proxied string, p *netfault.Proxy) {
	t.Helper()
	direct = CreateMySQLDatabase(t)
	u, err := url.Parse(direct)
	if err != nil {
		t.Fatal(err)
	}
	p = netfault.New(t, u.Host)
	u.Host = p.Addr()
	return direct, u.String(), p
}
