package sqldb_test

import (
	"context"
	"database/sql"
	"errors"
	"testing"

	"github.com/plazahq/plaza/internal/sqldb"
	"github.com/plazahq/plaza/internal/sqldb/sqldbtest"
)

// TestAfterCommit: hooks run after a commit, in order, and never after a
// rollback; a transaction Tx did not start cannot take one.
func TestAfterCommit(t *testing.T) {
	sqldbtest.ForEach(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		var ran []string
		err := db.Write().Tx(ctx, func(tx *sql.Tx) error {
			for _, s := range []string{"a", "b"} {
				if err := db.AfterCommit(tx, func() { ran = append(ran, s) }); err != nil {
					return err
				}
			}
			if len(ran) != 0 {
				t.Error("a hook ran before the commit")
			}
			return nil
		})
		if err != nil || len(ran) != 2 || ran[0] != "a" || ran[1] != "b" {
			t.Fatalf("after commit: %v, ran %v", err, ran)
		}
		ran = nil
		boom := errors.New("boom")
		err = db.Write().Tx(ctx, func(tx *sql.Tx) error {
			db.AfterCommit(tx, func() { ran = append(ran, "rolled back") })
			return boom
		})
		if !errors.Is(err, boom) || len(ran) != 0 {
			t.Fatalf("rollback: %v, ran %v", err, ran)
		}
		tx, err := db.Write().DB().BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		if err := db.AfterCommit(tx, func() {}); !errors.Is(err, sqldb.ErrNotPoolTx) {
			t.Errorf("hook on a foreign transaction: %v", err)
		}
	})
}
