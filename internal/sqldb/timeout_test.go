package sqldb_test

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/plazahq/plaza/internal/apperr"
	"github.com/plazahq/plaza/internal/sqldb"
	"github.com/plazahq/plaza/internal/sqldb/sqldbtest"
)

// A MariaDB that stops answering (connections open, nothing comes back)
// costs each call QueryTimeout and a 503, not the driver's 30 s read
// timeout; when it answers again, so does the pool.
func TestHungDatabaseFailsWithinQueryTimeout(t *testing.T) {
	_, proxied, p := sqldbtest.ProxiedMySQL(t)
	const limit = 400 * time.Millisecond
	db, err := sqldb.Open(context.Background(), sqldb.Config{URL: proxied, PoolSize: 4, QueryTimeout: limit})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	var one int
	if err := db.Write().QueryRow(ctx, []any{&one}, "SELECT 1"); err != nil {
		t.Fatal(err)
	}
	p.Blackhole()
	calls := map[string]func() error{
		"query row": func() error { return db.Write().QueryRow(ctx, []any{&one}, "SELECT 1") },
		"exec":      func() error { _, err := db.Write().Exec(ctx, "DO 1"); return err },
		"query": func() error {
			return db.Read().Query(ctx, func(*sql.Rows) error { return nil }, "SELECT 1")
		},
		"transaction": func() error {
			return db.Write().Tx(ctx, func(tx *sql.Tx) error { _, err := tx.ExecContext(ctx, "DO 1"); return err })
		},
	}
	for name, call := range calls {
		start := time.Now()
		err := call()
		d := time.Since(start)
		if !apperr.Is(err, apperr.Unavailable) || !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("%s on a hung database: %v, want unavailable (deadline)", name, err)
		}
		if d < limit/2 || d > limit+time.Second {
			t.Errorf("%s failed after %v; want about %v", name, d, limit)
		}
	}
	p.Release()
	waitFor(t, func() bool { return db.Write().QueryRow(ctx, []any{&one}, "SELECT 1") == nil })
}

// The bound covers waiting for a connection too: a caller queued behind a
// long transaction gets 503 unavailable at the deadline.
func TestQueryTimeoutCoversTheWaitForAConnection(t *testing.T) {
	db := sqldbtest.OpenSQLite(t, sqldb.Config{QueryTimeout: 100 * time.Millisecond})
	w := db.Write() // one connection
	hold, holding := make(chan struct{}), make(chan struct{})
	go w.Tx(context.Background(), func(*sql.Tx) error { close(holding); <-hold; return nil })
	<-holding
	defer close(hold)
	start := time.Now()
	_, err := w.Exec(context.Background(), "UPDATE users SET xp = xp WHERE id = 0")
	if !apperr.Is(err, apperr.Unavailable) || time.Since(start) > time.Second {
		t.Fatalf("queued write: %v after %v, want unavailable at ~100ms", err, time.Since(start))
	}
	if w.Stats().Waiting != 0 {
		t.Fatal("waiter not removed")
	}
}

func TestMySQLDSNTimeouts(t *testing.T) {
	dsn, err := sqldb.MySQLDSN("mysql://root@db/plaza")
	if err != nil || !strings.Contains(dsn, "timeout=5s") || !strings.Contains(dsn, "readTimeout=30s") || !strings.Contains(dsn, "writeTimeout=30s") {
		t.Fatalf("defaults: %q %v", dsn, err)
	}
	dsn, err = sqldb.MySQLDSN("mysql://root@db/plaza?timeout=1s&readTimeout=8s&writeTimeout=9s")
	if err != nil || !strings.Contains(dsn, "timeout=1s") || !strings.Contains(dsn, "readTimeout=8s") || !strings.Contains(dsn, "writeTimeout=9s") {
		t.Fatalf("from the URL: %q %v", dsn, err)
	}
	if _, err := sqldb.MySQLDSN("mysql://root:hunter2@db/plaza?readTimeout=soon"); err == nil || !strings.Contains(err.Error(), "readTimeout") || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("bad duration: %v", err)
	}
}

// CheckSchema tells an empty or older database from a current one without
// changing it.
func TestCheckSchema(t *testing.T) {
	for _, e := range []struct {
		name string
		open func(t *testing.T) *sqldb.DB
	}{
		{"sqlite", func(t *testing.T) *sqldb.DB {
			return openRaw(t, sqldb.Config{DataDir: t.TempDir()})
		}},
		{"mysql", func(t *testing.T) *sqldb.DB {
			return openRaw(t, sqldb.Config{URL: sqldbtest.CreateMySQLDatabase(t)})
		}},
	} {
		t.Run(e.name, func(t *testing.T) {
			db := e.open(t)
			ctx := context.Background()
			var behind *sqldb.SchemaBehindError
			err := db.CheckSchema(ctx)
			if !errors.As(err, &behind) || behind.Applied != 0 || behind.Missing == 0 || behind.Missing != int(behind.Latest) ||
				!strings.Contains(err.Error(), "plaza migrate") {
				t.Fatalf("empty database: %v", err)
			}
			var tables int
			q := "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'goose_db_version'"
			if db.Dialect == sqldb.MySQL {
				q = "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = 'goose_db_version'"
			}
			if err := db.Write().QueryRow(ctx, []any{&tables}, q); err != nil || tables != 0 {
				t.Fatalf("the check created goose's table: %d %v", tables, err)
			}
			if err := db.Migrate(ctx, sqldbtest.Quiet()); err != nil {
				t.Fatal(err)
			}
			if err := db.CheckSchema(ctx); err != nil {
				t.Fatalf("migrated database: %v", err)
			}
			// An older database: the last migration was rolled back (goose
			// deletes its row).
			if _, err := db.Write().Exec(ctx, "DELETE FROM goose_db_version WHERE version_id = ?", behind.Latest); err != nil {
				t.Fatal(err)
			}
			err = db.CheckSchema(ctx)
			if !errors.As(err, &behind) || behind.Missing != 1 || behind.Applied != behind.Latest-1 {
				t.Fatalf("older database: %v", err)
			}
		})
	}
}

func openRaw(t *testing.T, cfg sqldb.Config) *sqldb.DB {
	db, err := sqldb.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
