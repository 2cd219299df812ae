package sqlstore_test

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/plazahq/plaza/internal/audit"
	"github.com/plazahq/plaza/internal/sqldb"
	"github.com/plazahq/plaza/internal/sqldb/sqldbtest"
	"github.com/plazahq/plaza/internal/sqlstore"
)

// TestAuditAppendChains appends in parallel and checks that the stored rows
// form one unbroken chain 1..n, each hashing its own content and the row
// before, on both engines.
func TestAuditAppendChains(t *testing.T) {
	sqldbtest.ForEach(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		now := time.Date(2026, 12, 2, 1, 0, 0, 0, time.UTC)
		log := sqlstore.NewAudit(db, func() time.Time { return now })
		const n = 24
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				_, err := log.Append(ctx, audit.Entry{Actor: audit.Actor{ID: 1, IP: "203.0.113.9"}, Action: "user.role",
					TargetKind: "user", TargetID: int64(i), Before: map[string]string{"role": "user"},
					After: map[string]string{"role": "creator"}, Reason: fmt.Sprint("reason ", i)})
				if err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()

		prev, want := audit.Genesis, int64(1)
		err := db.Read().Query(ctx, func(rows *sql.Rows) error {
			var r audit.Record
			var at int64
			var before, after string
			if err := rows.Scan(&r.ID, &at, &r.Actor.ID, &r.Actor.IP, &r.Action, &r.TargetKind, &r.TargetID,
				&before, &after, &r.Reason, &r.PrevHash, &r.Hash); err != nil {
				return err
			}
			r.At, r.Before, r.After = time.UnixMilli(at).UTC(), []byte(before), []byte(after)
			if r.ID != want || r.PrevHash != prev || audit.HashOf(r) != r.Hash {
				t.Errorf("row %d (want id %d): prev %s (want %s), hash ok %v", r.ID, want, r.PrevHash, prev, audit.HashOf(r) == r.Hash)
			}
			prev, want = r.Hash, want+1
			return nil
		}, `SELECT id, at, actor_id, actor_ip, action, target_kind, target_id, before_json, after_json, reason, prev_hash, hash
			FROM audit_log ORDER BY id`)
		if err != nil {
			t.Fatal(err)
		}
		if want != n+1 {
			t.Errorf("%d rows, want %d", want-1, n)
		}
	})
}
