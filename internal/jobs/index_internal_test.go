package jobs

import (
	"context"
	"database/sql"
	"strings"
	"testing"

	"github.com/plazahq/plaza/internal/sqldb"
	"github.com/plazahq/plaza/internal/sqldb/sqldbtest"
)

// TestSQLiteStateIndexesArePartial: on SQLite the claim and lease indexes
// hold only the jobs in the state their queries ask for, so a job's moves
// from available to running to completed do not rewrite them at every
// step, and the claim and the expired-lease query still use those
// indexes rather than the table.
func TestSQLiteStateIndexesArePartial(t *testing.T) {
	db := sqldbtest.OpenSQLite(t, sqldb.Config{})
	ctx := context.Background()
	partial := map[string]bool{}
	err := db.Write().Query(ctx, func(rows *sql.Rows) error {
		var seq, unique, isPartial int
		var name, origin string
		if err := rows.Scan(&seq, &name, &unique, &origin, &isPartial); err != nil {
			return err
		}
		partial[name] = isPartial == 1
		return nil
	}, `PRAGMA index_list(jobs)`)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"idx_jobs_claim", "idx_jobs_lease"} {
		if !partial[name] {
			t.Errorf("%s is not a partial index (indexes: %v)", name, partial)
		}
	}
	for _, c := range []struct {
		query, index string
		args         []any
	}{
		{claimableSQLite, "idx_jobs_claim", []any{0, 10}},
		{`SELECT ` + jobCols + ` FROM jobs ` + expiredWhere, "idx_jobs_lease", []any{0}},
	} {
		var plan []string
		err := db.Write().Query(ctx, func(rows *sql.Rows) error {
			var id, parent, unused int
			var detail string
			err := rows.Scan(&id, &parent, &unused, &detail)
			plan = append(plan, detail)
			return err
		}, `EXPLAIN QUERY PLAN `+c.query, c.args...)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(strings.Join(plan, "; "), "INDEX "+c.index) {
			t.Errorf("%s\nplan: %v, want it to use %s", c.query, plan, c.index)
		}
	}
}
