package sqldb_test

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"sync"
	"testing"

	"github.com/plazahq/plaza/internal/proccpu"
	"github.com/plazahq/plaza/internal/sqldb"
	"github.com/plazahq/plaza/internal/sqldb/sqldbtest"
)

// TestSQLiteWriterTempStore: SQLite's writer keeps temporary files, the
// statement journal of a group commit's savepoints among them, in memory.
func TestSQLiteWriterTempStore(t *testing.T) {
	db := sqldbtest.OpenSQLite(t, sqldb.Config{})
	var mode int
	if err := db.Write().QueryRow(context.Background(), []any{&mode}, `PRAGMA temp_store`); err != nil {
		t.Fatal(err)
	}
	if mode != 2 {
		t.Errorf("writer's temp_store = %d, want 2 (MEMORY)", mode)
	}
}

// BenchmarkGroupCommitSQLite is a message post's shape through a group
// commit on SQLite: 64 concurrent callers, each inserting an indexed message and a
// ledger row with eight random-keyed indexes (a post writes into a dozen
// b-trees or more),
// updating a counter row and queueing a job with a unique key, so batches share transactions and every
// call runs in its savepoint. "file" sets the writer's temp_store back to
// SQLite's default (the statement journal in a temporary file), "memory"
// is what Open sets; they alternate within each -count round.
// cpu-µs/op is the process's CPU per call.
//
//	go test ./internal/sqldb -run '^$' -bench GroupCommitSQLite -benchtime 20000x -count 3
func BenchmarkGroupCommitSQLite(b *testing.B) {
	for _, mode := range []string{"file", "memory"} {
		b.Run(mode, func(b *testing.B) {
			ctx := context.Background()
			db := sqldbtest.OpenSQLite(b, sqldb.Config{})
			for _, q := range []string{
				`PRAGMA temp_store = ` + mode,
				`CREATE TABLE bench_msgs (id INTEGER PRIMARY KEY, room INTEGER NOT NULL, author INTEGER NOT NULL, body TEXT NOT NULL, at INTEGER NOT NULL)`,
				`CREATE INDEX bench_msgs_room ON bench_msgs (room, id)`,
				`CREATE INDEX bench_msgs_author ON bench_msgs (author, at)`,
				`CREATE TABLE bench_ledger (id INTEGER PRIMARY KEY, k1 INTEGER, k2 INTEGER, k3 INTEGER, k4 INTEGER, k5 INTEGER, k6 INTEGER, k7 INTEGER, k8 INTEGER)`,
				`CREATE INDEX bench_ledger_1 ON bench_ledger (k1)`, `CREATE INDEX bench_ledger_2 ON bench_ledger (k2)`,
				`CREATE INDEX bench_ledger_3 ON bench_ledger (k3)`, `CREATE INDEX bench_ledger_4 ON bench_ledger (k4)`,
				`CREATE INDEX bench_ledger_5 ON bench_ledger (k5)`, `CREATE INDEX bench_ledger_6 ON bench_ledger (k6)`,
				`CREATE INDEX bench_ledger_7 ON bench_ledger (k7)`, `CREATE INDEX bench_ledger_8 ON bench_ledger (k8)`,
				`CREATE TABLE bench_users (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)`,
				`CREATE TABLE bench_jobs (id INTEGER PRIMARY KEY, kind TEXT NOT NULL, state TEXT NOT NULL, run_at INTEGER NOT NULL, unique_key TEXT UNIQUE, payload TEXT NOT NULL, priority_hint INTEGER NOT NULL)`,
				`CREATE INDEX bench_jobs_due ON bench_jobs (state, priority_hint, run_at)`,
				`CREATE INDEX bench_jobs_kind ON bench_jobs (kind, state)`,
			} {
				if _, err := db.Write().Exec(ctx, q); err != nil {
					b.Fatal(q, err)
				}
			}
			for u := range 1000 {
				if _, err := db.Write().Exec(ctx, `INSERT INTO bench_users (id, n) VALUES (?, 0)`, u); err != nil {
					b.Fatal(err)
				}
			}
			g := sqldb.NewGroupOn(db, 64)
			w := db.Write()
			post := func(i int) error {
				return g.Tx(ctx, func(tx *sql.Tx) error {
					if _, err := w.ExecTx(ctx, tx, `INSERT INTO bench_msgs (room, author, body, at) VALUES (?, ?, ?, ?)`,
						i%100, i%1000, "lt:1764680000000000000 hello from the load test", i); err != nil {
						return err
					}
					r := uint64(i) * 0x9E3779B97F4A7C15
					if _, err := w.ExecTx(ctx, tx, `INSERT INTO bench_ledger (k1, k2, k3, k4, k5, k6, k7, k8) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
						int64(r>>1), int64(r>>9), int64(r>>17), int64(r>>25), int64(r>>33), int64(r>>41), int64(r>>49), int64(r>>55)); err != nil {
						return err
					}
					if _, err := w.ExecTx(ctx, tx, `UPDATE bench_users SET n = n + 1 WHERE id = ?`, i%1000); err != nil {
						return err
					}
					_, err := w.ExecTx(ctx, tx, `INSERT INTO bench_jobs (kind, state, run_at, unique_key, payload, priority_hint) VALUES ('check', 'available', ?, ?, ?, 0)`,
						i, fmt.Sprintf("check:%d:%d", (i*7919)%100000, i), `{"user":`+strconv.Itoa(i%1000)+`}`)
					return err
				})
			}
			const callers = 64
			var next sync.Mutex
			i := 0
			b.ResetTimer()
			c0 := proccpu.Now()
			var wg sync.WaitGroup
			for range callers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						next.Lock()
						n := i
						i++
						next.Unlock()
						if n >= b.N {
							return
						}
						if err := post(n); err != nil {
							b.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()
			b.ReportMetric(float64((proccpu.Now()-c0).Microseconds())/float64(b.N), "cpu-µs/op")
			st := g.Stats()
			b.ReportMetric(float64(st.Calls)/float64(max(st.Batches, 1)), "calls/batch")
		})
	}
}
