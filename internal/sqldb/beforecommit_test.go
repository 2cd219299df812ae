package sqldb_test

import (
	"context"
	"database/sql"
	"errors"
	"testing"
	"time"

	"github.com/plazahq/plaza/internal/sqldb"
	"github.com/plazahq/plaza/internal/sqldb/sqldbtest"
)

// TestBeforeCommit: a BeforeCommit hook writes in the transaction just
// before it commits; its error rolls the whole transaction back; in a
// Group, what a failed call registered never runs. TxValue lives as long
// as one transaction.
func TestBeforeCommit(t *testing.T) {
	sqldbtest.ForEach(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		p := db.Write()
		if _, err := p.Exec(ctx, `CREATE TABLE bc_log (id INTEGER PRIMARY KEY, what VARCHAR(16) NOT NULL)`); err != nil {
			t.Fatal(err)
		}
		insert := func(tx *sql.Tx, id int, what string) error {
			_, err := tx.Exec(`INSERT INTO bc_log (id, what) VALUES (?, ?)`, id, what)
			return err
		}
		count := func() (n int) {
			if err := p.QueryRow(ctx, []any{&n}, `SELECT COUNT(*) FROM bc_log`); err != nil {
				t.Fatal(err)
			}
			return n
		}
		type key struct{}
		var first any
		err := p.Tx(ctx, func(tx *sql.Tx) error {
			v, ok := p.TxValue(tx, key{}, func() any { return new(int) })
			again, _ := p.TxValue(tx, key{}, func() any { return new(int) })
			if !ok || v != again {
				t.Error("TxValue: not one value per transaction")
			}
			first = v
			return p.BeforeCommit(tx, func(tx *sql.Tx) error { return insert(tx, 1, "hook") })
		})
		if err != nil || count() != 1 {
			t.Fatalf("the hook's row: %v, %d rows", err, count())
		}
		boom := errors.New("boom")
		err = p.Tx(ctx, func(tx *sql.Tx) error {
			if v, _ := p.TxValue(tx, key{}, func() any { return new(int) }); v == first {
				t.Error("TxValue: a value outlived its transaction")
			}
			if err := insert(tx, 2, "work"); err != nil {
				return err
			}
			return p.BeforeCommit(tx, func(tx *sql.Tx) error { return boom })
		})
		if !errors.Is(err, boom) || count() != 1 {
			t.Fatalf("a failing hook: %v, %d rows (want the transaction rolled back)", err, count())
		}
		if err := p.BeforeCommit(nil, func(*sql.Tx) error { return nil }); !errors.Is(err, sqldb.ErrNotPoolTx) {
			t.Fatalf("outside a transaction: %v", err)
		}

		// In a group: a call that fails takes its hook with it.
		g := sqldb.NewGroupOn(db, 16)
		release, holding := make(chan struct{}), make(chan struct{})
		done := make(chan error, 3)
		go func() {
			done <- g.Tx(ctx, func(tx *sql.Tx) error { close(holding); <-release; return nil })
		}()
		<-holding
		go func() {
			done <- g.Tx(ctx, func(tx *sql.Tx) error {
				if err := p.BeforeCommit(tx, func(tx *sql.Tx) error { return insert(tx, 3, "refused") }); err != nil {
					return err
				}
				return boom
			})
		}()
		go func() {
			done <- g.Tx(ctx, func(tx *sql.Tx) error {
				return p.BeforeCommit(tx, func(tx *sql.Tx) error { return insert(tx, 4, "ok") })
			})
		}()
		for g.Pending() < 2 {
			time.Sleep(time.Millisecond)
		}
		close(release)
		var errs []error
		for range 3 {
			errs = append(errs, <-done)
		}
		var what []string
		if err := p.Query(ctx, func(rows *sql.Rows) error {
			var w string
			if err := rows.Scan(&w); err != nil {
				return err
			}
			what = append(what, w)
			return nil
		}, `SELECT what FROM bc_log WHERE id > 2 ORDER BY id`); err != nil {
			t.Fatal(err)
		}
		if len(what) != 1 || what[0] != "ok" {
			t.Fatalf("rows after the group: %v (errors %v), want only the successful call's", what, errs)
		}
	})
}
