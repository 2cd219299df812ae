package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"testing"

	"github.com/plazahq/plaza/internal/sqldb"
	"github.com/plazahq/plaza/internal/sqldb/sqldbtest"
)

// TestQueryIDs: an IN list padded to a power of two (and run prepared)
// returns exactly the rows the plain list would, on both engines, for
// every length around the paddings and past the prepared bound, with
// duplicate and unknown ids in the list.
func TestQueryIDs(t *testing.T) {
	sqldbtest.ForEach(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		if _, err := db.Write().Exec(ctx, `CREATE TABLE qids (id BIGINT NOT NULL PRIMARY KEY, owner BIGINT NOT NULL)`); err != nil {
			t.Fatal(err)
		}
		for i := int64(1); i <= 300; i++ {
			if _, err := db.Write().Exec(ctx, `INSERT INTO qids (id, owner) VALUES (?, ?)`, i, i%2); err != nil {
				t.Fatal(err)
			}
		}
		for _, n := range []int{1, 2, 3, 4, 5, 7, 8, 9, 17, 50, 127, 128, 129, 200} {
			t.Run(fmt.Sprint(n), func(t *testing.T) {
				var ids []int64
				for i := range n {
					ids = append(ids, int64(3*i+1)) // some past 300: no row
				}
				if n > 2 {
					ids[n-1] = ids[0] // a duplicate
				}
				var got, want []int64
				for _, id := range ids {
					if id <= 300 && id%2 == 1 && !slices.Contains(want, id) {
						want = append(want, id)
					}
				}
				err := queryIDs(ctx, db.Read(), func(rows *sql.Rows) error {
					var id int64
					err := rows.Scan(&id)
					got = append(got, id)
					return err
				}, `SELECT id FROM qids WHERE owner = ? AND id IN (`+inIDs+`) ORDER BY id`, []any{1}, ids)
				slices.Sort(want)
				if err != nil || !slices.Equal(got, want) {
					t.Fatalf("got %v, %v; want %v", got, err, want)
				}
			})
		}
	})
}
