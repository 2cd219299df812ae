package jobs

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/plazahq/plaza/internal/sqldb"
	"github.com/plazahq/plaza/internal/sqldb/sqldbtest"
)

// TestPurgeDeletesOldFinishedJobsInBatches: more finished jobs than one
// batch are all purged; a recent finished job, a running one and an old
// one retried since (available again) stay.
func TestPurgeDeletesOldFinishedJobsInBatches(t *testing.T) {
	sqldbtest.ForEach(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		now := time.Now()
		old, recent := ms(now.Add(-48*time.Hour)), ms(now.Add(-time.Minute))
		const n = purgeBatch*2 + 7
		err := db.Write().Tx(ctx, func(tx *sql.Tx) error {
			js := make([]Job, n+3)
			for i := range js {
				js[i] = Must("purge.test", nil)
			}
			if err := InsertTx(ctx, tx, db.Dialect, now, js...); err != nil {
				return err
			}
			// in id order: n old finished (completed and discarded), then one
			// recent, one running, one old that is available again
			var ids []int64
			rows, err := tx.QueryContext(ctx, `SELECT id FROM jobs WHERE kind = 'purge.test' ORDER BY id`)
			if err != nil {
				return err
			}
			for rows.Next() {
				var id int64
				if err := rows.Scan(&id); err != nil {
					return err
				}
				ids = append(ids, id)
			}
			if err := rows.Close(); err != nil {
				return err
			}
			for i, id := range ids {
				q, args := `UPDATE jobs SET state = ?, finished_at = ? WHERE id = ?`, []any{"completed", old, id}
				switch {
				case i < n && i%2 == 1:
					args[0] = "discarded"
				case i == n:
					args[1] = recent
				case i == n+1:
					q, args = `UPDATE jobs SET state = 'running' WHERE id = ?`, []any{id}
				case i == n+2:
					args[0] = "available"
				}
				if _, err := tx.ExecContext(ctx, q, args...); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		got, err := store{db: db}.purge(ctx, now, 24*time.Hour)
		if err != nil || got != n {
			t.Fatalf("purged %d, %v; want %d", got, err, n)
		}
		var left int
		if err := db.Write().QueryRow(ctx, []any{&left}, `SELECT COUNT(*) FROM jobs WHERE kind = 'purge.test'`); err != nil || left != 3 {
			t.Fatalf("%d jobs left, %v; want 3", left, err)
		}
		if got, err := (store{db: db}).purge(ctx, now, 24*time.Hour); err != nil || got != 0 {
			t.Fatalf("second purge: %d, %v", got, err)
		}
	})
}
