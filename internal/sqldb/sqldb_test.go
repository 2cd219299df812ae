package sqldb_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plazahq/plaza/internal/apperr"
	"github.com/plazahq/plaza/internal/sqldb"
	"github.com/plazahq/plaza/internal/sqldb/sqldbtest"
)

func TestQueueLimitRefusesInsteadOfPilingUp(t *testing.T) {
	db := sqldbtest.OpenSQLite(t, sqldb.Config{QueueLimit: 2})
	w := db.Write() // one connection
	hold := make(chan struct{})
	holding := make(chan struct{})
	go w.Tx(context.Background(), func(*sql.Tx) error { close(holding); <-hold; return nil })
	<-holding

	ctx := context.Background()
	errs := make(chan error, 2)
	for range 2 { // these two may wait
		go func() { _, err := w.Exec(ctx, "UPDATE users SET xp = xp WHERE id = 0"); errs <- err }()
	}
	waitFor(t, func() bool { return w.Stats().Waiting == 2 })
	_, err := w.Exec(ctx, "UPDATE users SET xp = xp WHERE id = 0")
	if !errors.Is(err, sqldb.ErrOverloaded) || !apperr.Is(err, apperr.Overloaded) {
		t.Fatalf("third waiter: got %v, want overloaded", err)
	}
	if st := w.Stats(); st.Refused != 1 || !st.Exhausted() {
		t.Fatalf("stats %+v", st)
	}
	close(hold)
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if st := w.Stats(); st.Waiting != 0 || st.WaitCount != 2 || st.InUse != 0 {
		t.Fatalf("after drain: %+v", st)
	}
}

func TestWaiterGivesUpWithItsContext(t *testing.T) {
	db := sqldbtest.OpenSQLite(t, sqldb.Config{})
	w := db.Write()
	hold, holding := make(chan struct{}), make(chan struct{})
	go w.Tx(context.Background(), func(*sql.Tx) error { close(holding); <-hold; return nil })
	<-holding
	defer close(hold)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := w.Exec(ctx, "SELECT 1"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v", err)
	}
	if w.Stats().Waiting != 0 {
		t.Fatal("waiter not removed")
	}
}

// SQLite has one writer connection; concurrent writers queue for it and
// never see "database is locked", even with a second process-like handle.
func TestSQLiteConcurrentWritesNeverLock(t *testing.T) {
	dir := t.TempDir()
	open := func() *sqldb.DB {
		db, err := sqldb.Open(context.Background(), sqldb.Config{DataDir: dir})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	a := open()
	if err := a.Migrate(context.Background(), sqldbtest.Quiet()); err != nil {
		t.Fatal(err)
	}
	b := open() // as 'plaza admin create' next to a running server
	var wg sync.WaitGroup
	errs := make(chan error, 400)
	for g := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			db := a
			if g%4 == 0 {
				db = b
			}
			for i := range 10 {
				err := db.Write().Tx(context.Background(), func(tx *sql.Tx) error {
					_, err := tx.Exec(`INSERT INTO contact_messages (name, email, message, created_at) VALUES (?, ?, ?, ?)`,
						"n", fmt.Sprintf("%d-%d@x", g, i), "m", time.Now().UnixMilli())
					return err
				})
				if err != nil {
					errs <- err
				}
				var n int
				if err := db.Read().QueryRow(context.Background(), []any{&n}, `SELECT COUNT(*) FROM contact_messages`); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	var n int
	a.Read().QueryRow(context.Background(), []any{&n}, `SELECT COUNT(*) FROM contact_messages`)
	if n != 400 {
		t.Fatalf("rows = %d, want 400", n)
	}
}

func TestMigrateIsIdempotent(t *testing.T) {
	sqldbtest.ForEach(t, func(t *testing.T, db *sqldb.DB) {
		if err := db.Migrate(context.Background(), sqldbtest.Quiet()); err != nil {
			t.Fatal(err)
		}
	})
}

func TestMySQLDSN(t *testing.T) {
	for in, want := range map[string]string{
		"mysql://u:p@db:3307/plaza?tls=skip-verify": "u:p@tcp(db:3307)/plaza?",
		"mysql://root@127.0.0.1/test":               "root@tcp(127.0.0.1:3306)/test?",
	} {
		got, err := sqldb.MySQLDSN(in)
		if err != nil || !strings.HasPrefix(got, want) {
			t.Errorf("MySQLDSN(%q) = %q, %v; want prefix %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"postgres://x/y", "mysql:///db", "::"} {
		if _, err := sqldb.MySQLDSN(bad); err == nil {
			t.Errorf("MySQLDSN(%q) accepted", bad)
		}
	}
}

func TestUnreachableMySQLFailsClearly(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close() // nothing listens here now
	start := time.Now()
	_, err := sqldb.Open(context.Background(), sqldb.Config{URL: "mysql://root:hunter2@" + addr + "/plaza", ConnectTimeout: 700 * time.Millisecond})
	if err == nil || !strings.Contains(err.Error(), "cannot reach") || !strings.Contains(err.Error(), "DATABASE_URL") || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("got %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("took %v", d)
	}
}

func TestDatabaseLostWhileRunningGives503ThenRecovers(t *testing.T) {
	_, proxied, p := sqldbtest.ProxiedMySQL(t)
	db, err := sqldb.Open(context.Background(), sqldb.Config{URL: proxied, PoolSize: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	query := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		var one int
		return db.Write().QueryRow(ctx, []any{&one}, "SELECT 1")
	}
	if err := query(); err != nil {
		t.Fatal(err)
	}
	p.Cut()
	for i := range 3 {
		err := query()
		if !apperr.Is(err, apperr.Unavailable) {
			t.Fatalf("query %d while down: got %v, want unavailable", i, err)
		}
	}
	p.Restore()
	waitFor(t, func() bool { return query() == nil })
}

func waitFor(t *testing.T, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached in 10s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A transaction whose context ends midway is rolled back by database/sql;
// the error says the context ended (so a client that hung up is not a
// server error, and a deadline is a retryable 503), and nothing is written.
func TestTxWhoseContextEndsIsRolledBackAndSaysWhy(t *testing.T) {
	sqldbtest.ForEach(t, func(t *testing.T, db *sqldb.DB) {
		w := db.Write()
		count := func() int {
			var n int
			if err := w.QueryRow(context.Background(), []any{&n}, "SELECT COUNT(*) FROM channels WHERE slug = 'tx-ctx'"); err != nil {
				t.Fatal(err)
			}
			return n
		}
		insert := func(tx *sql.Tx) error {
			_, err := tx.Exec("INSERT INTO channels (slug, name, created_at, updated_at) VALUES ('tx-ctx', 'x', 0, 0)")
			return err
		}
		ctx, cancel := context.WithCancel(context.Background())
		err := w.Tx(ctx, func(tx *sql.Tx) error {
			if err := insert(tx); err != nil {
				return err
			}
			cancel()
			time.Sleep(50 * time.Millisecond) // database/sql rolls back on its own goroutine
			return nil
		})
		if !errors.Is(err, context.Canceled) || apperr.Is(err, apperr.Internal) {
			t.Fatalf("canceled mid-transaction: %v", err)
		}
		dctx, dcancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
		defer dcancel()
		err = w.Tx(dctx, func(tx *sql.Tx) error {
			if err := insert(tx); err != nil {
				return err
			}
			<-dctx.Done()
			time.Sleep(50 * time.Millisecond)
			return nil
		})
		if !apperr.Is(err, apperr.Unavailable) {
			t.Fatalf("deadline mid-transaction: %v, want unavailable", err)
		}
		if n := count(); n != 0 {
			t.Fatalf("%d rows written by rolled-back transactions", n)
		}
	})
}

// Two transactions that lock two rows in opposite orders deadlock; MariaDB
// rolls one back, and Tx runs it again instead of failing the request.
func TestDeadlockVictimIsRetried(t *testing.T) {
	db := sqldbtest.OpenMySQL(t, sqldb.Config{PoolSize: 4})
	ctx := context.Background()
	for _, slug := range []string{"one", "two"} {
		if _, err := db.Write().Exec(ctx, "INSERT INTO channels (slug, name, created_at, updated_at) VALUES (?, 'x', 0, 0)", slug); err != nil {
			t.Fatal(err)
		}
	}
	var runs [2]atomic.Int32
	var locked sync.WaitGroup // both have locked their first row
	locked.Add(2)
	txn := func(i int, first, second string) error {
		return db.Write().Tx(ctx, func(tx *sql.Tx) error {
			n := runs[i].Add(1)
			if _, err := tx.Exec("UPDATE channels SET updated_at = updated_at + 1 WHERE slug = ?", first); err != nil {
				return err
			}
			if n == 1 { // the first time, make sure the two cross
				locked.Done()
				locked.Wait()
			}
			_, err := tx.Exec("UPDATE channels SET updated_at = updated_at + 1 WHERE slug = ?", second)
			return err
		})
	}
	errs := make(chan error, 2)
	go func() { errs <- txn(0, "one", "two") }()
	go func() { errs <- txn(1, "two", "one") }()
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatalf("a transaction failed: %v", err)
		}
	}
	if total := runs[0].Load() + runs[1].Load(); total != 3 {
		t.Fatalf("%d runs; want 3 (one deadlock victim run again)", total)
	}
	var sum int64
	if err := db.Write().QueryRow(ctx, []any{&sum}, "SELECT SUM(updated_at) FROM channels WHERE slug IN ('one', 'two')"); err != nil {
		t.Fatal(err)
	}
	if sum != 4 {
		t.Fatalf("updates applied: %d, want 4 (each transaction once)", sum)
	}
}

// TestQueryPrepared runs one prepared query from many goroutines on both
// engines: the statement is shared, results are each call's own.
func TestQueryPrepared(t *testing.T) {
	sqldbtest.ForEach(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		if _, err := db.Write().Exec(ctx, `CREATE TABLE qp (k INTEGER NOT NULL, v INTEGER NOT NULL)`); err != nil {
			t.Fatal(err)
		}
		for i := range 20 {
			if _, err := db.Write().Exec(ctx, `INSERT INTO qp (k, v) VALUES (?, ?)`, i%5, i); err != nil {
				t.Fatal(err)
			}
		}
		var wg sync.WaitGroup
		for g := range 16 {
			wg.Go(func() {
				k := g % 6 // 5 matches nothing
				var sum, n int
				err := db.Fresh().QueryPrepared(ctx, func(rows *sql.Rows) error {
					var v int
					n++
					err := rows.Scan(&v)
					sum += v
					return err
				}, `SELECT v FROM qp WHERE k = ?`, k)
				want, wantN := 0, 0
				if k < 5 {
					want, wantN = 4*k+30, 4 // k, k+5, k+10, k+15
				}
				if err != nil || sum != want || n != wantN {
					t.Errorf("k=%d: sum %d of %d rows, %v; want %d of %d", k, sum, n, err, want, wantN)
				}
			})
		}
		wg.Wait()
		if err := db.Fresh().QueryPrepared(ctx, func(*sql.Rows) error { return nil }, `SELECT nope FROM qp`); err == nil {
			t.Fatal("a bad query prepared")
		}
	})
}

// TestQueryRowPrepared: one prepared single-row query from many
// goroutines on both engines: each call scans its own row, a key with no
// row is sql.ErrNoRows (what stores turn into not found), a bad query an
// error.
func TestQueryRowPrepared(t *testing.T) {
	sqldbtest.ForEach(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		if _, err := db.Write().Exec(ctx, `CREATE TABLE qrp (k INTEGER NOT NULL PRIMARY KEY, v VARCHAR(20) NOT NULL)`); err != nil {
			t.Fatal(err)
		}
		for i := range 10 {
			if _, err := db.Write().Exec(ctx, `INSERT INTO qrp (k, v) VALUES (?, ?)`, i, fmt.Sprint("v", i)); err != nil {
				t.Fatal(err)
			}
		}
		var wg sync.WaitGroup
		for g := range 24 {
			wg.Go(func() {
				k := g % 12 // 10 and 11 have no row
				var v string
				var n int64
				err := db.Fresh().QueryRowPrepared(ctx, []any{&v, &n}, `SELECT v, k * 2 FROM qrp WHERE k = ?`, k)
				switch {
				case k >= 10:
					if !sqldb.IsNotFound(err) {
						t.Errorf("k=%d: %v, want no rows", k, err)
					}
				case err != nil || v != fmt.Sprint("v", k) || n != int64(2*k):
					t.Errorf("k=%d: %q %d %v", k, v, n, err)
				}
			})
		}
		wg.Wait()
		var v string
		if err := db.Fresh().QueryRowPrepared(ctx, []any{&v}, `SELECT nope FROM qrp WHERE k = ?`, 1); err == nil || sqldb.IsNotFound(err) {
			t.Fatalf("a bad query: %v", err)
		}
	})
}

// TestExecTxPrepared runs prepared statements inside transactions on both
// engines, from many goroutines: the first call runs unprepared (on
// SQLite's one writer connection preparing on the pool would wait for
// the connection the transaction holds), the statement is then kept
// prepared, every write lands once, and a rolled-back transaction's
// prepared write is undone.
func TestExecTxPrepared(t *testing.T) {
	sqldbtest.ForEach(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		if _, err := db.Write().Exec(ctx, `CREATE TABLE ep (k INTEGER NOT NULL, v INTEGER NOT NULL)`); err != nil {
			t.Fatal(err)
		}
		const ins, sum = `INSERT INTO ep (k, v) VALUES (?, ?)`, `SELECT COALESCE(SUM(v), 0), COUNT(*) FROM ep WHERE k = ?`
		w := db.Write()
		var wg sync.WaitGroup
		for g := range 8 {
			wg.Go(func() {
				for i := range 10 {
					err := w.Tx(ctx, func(tx *sql.Tx) error {
						if _, err := w.ExecTx(ctx, tx, ins, g, i); err != nil {
							return err
						}
						var s, n int
						if err := w.QueryRowTx(ctx, tx, []any{&s, &n}, sum, g); err != nil {
							return err
						}
						if want := i * (i + 1) / 2; s != want || n != i+1 {
							t.Errorf("g=%d i=%d: sum %d of %d rows in the transaction, want %d of %d", g, i, s, n, want, i+1)
						}
						return nil
					})
					if err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		waitFor(t, func() bool { return w.IsPrepared(ins) && w.IsPrepared(sum) })
		errRollback := errors.New("roll back")
		err := w.Tx(ctx, func(tx *sql.Tx) error {
			if _, err := w.ExecTx(ctx, tx, ins, 0, 1000); err != nil {
				return err
			}
			return errRollback
		})
		if !errors.Is(err, errRollback) {
			t.Fatalf("rolled-back transaction: %v", err)
		}
		var s, n int
		if err := w.Tx(ctx, func(tx *sql.Tx) error { return w.QueryRowTx(ctx, tx, []any{&s, &n}, sum, 0) }); err != nil || s != 45 || n != 10 {
			t.Fatalf("k=0 after a rollback: sum %d of %d rows, %v; want 45 of 10", s, n, err)
		}
		for range 2 { // unprepared the first time, then (failing to prepare) again
			err := w.Tx(ctx, func(tx *sql.Tx) error {
				_, err := w.ExecTx(ctx, tx, `INSERT INTO ep (nope) VALUES (?)`, 1)
				return err
			})
			if err == nil {
				t.Fatal("a bad statement ran")
			}
		}
	})
}

// TestMySQLReadsCommittedRows: every connection of a MySQL pool runs at
// READ COMMITTED. A plain read inside a transaction sees a row another
// transaction committed after the first read (REPEATABLE READ answers
// from the snapshot of that first read), and a locking read that finds
// no row locks no gap, so another transaction inserts beside it without
// waiting for the first to end.
func TestMySQLReadsCommittedRows(t *testing.T) {
	db := sqldbtest.OpenMySQL(t, sqldb.Config{PoolSize: 4})
	ctx := context.Background()
	for _, q := range []string{
		`CREATE TABLE isolation_rows (id INTEGER PRIMARY KEY)`,
		`INSERT INTO isolation_rows (id) VALUES (1), (10)`,
	} {
		if _, err := db.Write().Exec(ctx, q); err != nil {
			t.Fatal(q, err)
		}
	}
	err := db.Write().Tx(ctx, func(tx *sql.Tx) error {
		var before, after int
		if err := tx.QueryRow(`SELECT COUNT(*) FROM isolation_rows`).Scan(&before); err != nil {
			return err
		}
		var none int
		if err := tx.QueryRow(`SELECT id FROM isolation_rows WHERE id = 5 FOR UPDATE`).Scan(&none); !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("locking read of a missing row: %v", err)
		}
		// Another connection, while tx is open.
		ictx, cancel := context.WithTimeout(ctx, 3*time.Second)
		defer cancel()
		if _, err := db.Write().Exec(ictx, `INSERT INTO isolation_rows (id) VALUES (6)`); err != nil {
			return fmt.Errorf("an insert beside the missing row waited for the open transaction (a gap lock): %w", err)
		}
		if err := tx.QueryRow(`SELECT COUNT(*) FROM isolation_rows`).Scan(&after); err != nil {
			return err
		}
		if before != 2 || after != 3 {
			return fmt.Errorf("rows before and after another's commit: %d and %d; want 2 and 3 (the committed row seen)", before, after)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
