// Command auditbench fills the audit log with a hash-chained log of -rows
// records and times GET /api/admin/audit/verify's walk over it
// (sqlstore.Audit.Verify), with the peak Go heap and the process's peak RSS
// during the walk: the walk reads the chain in batches, so neither should
// grow with the log.
//
//	go run ./bench/auditbench -rows 1000000              # embedded SQLite
//	go run ./bench/auditbench -rows 1000000 -mysql mysql://root@127.0.0.1:3306/
package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"log"
	"runtime"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/plazahq/plaza/bench/internal/benchkit"
	"github.com/plazahq/plaza/internal/audit"
	"github.com/plazahq/plaza/internal/sqldb"
	"github.com/plazahq/plaza/internal/sqlstore"
)

func main() {
	rows := flag.Int("rows", 1_000_000, "records in the log")
	runs := flag.Int("runs", 3, "verify walks; the median is reported")
	batch := flag.Int("batch", 2000, "rows per verify query")
	mysqlServer := flag.String("mysql", "", "MySQL/MariaDB server URL; empty: embedded SQLite")
	flag.Parse()
	ctx := context.Background()
	scratch, err := benchkit.NewScratch(ctx, *mysqlServer, sqldb.Config{PoolSize: 4, QueryTimeout: time.Minute})
	if err != nil {
		log.Fatal(err)
	}
	defer scratch.Close()
	db := scratch.DB
	start := time.Now()
	if err := fill(ctx, db, *rows); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("engine %s: filled %d rows in %s\n", db.Dialect, *rows, time.Since(start).Round(time.Millisecond))

	a := sqlstore.NewAudit(db, nil)
	a.VerifyBatch = *batch
	var times []time.Duration
	var peakHeap atomic.Uint64
	for range *runs {
		runtime.GC()
		done := make(chan struct{})
		go func() { // sample the heap while the walk runs
			var m runtime.MemStats
			for {
				runtime.ReadMemStats(&m)
				if m.HeapAlloc > peakHeap.Load() {
					peakHeap.Store(m.HeapAlloc)
				}
				select {
				case <-done:
					return
				case <-time.After(20 * time.Millisecond):
				}
			}
		}()
		t0 := time.Now()
		v, err := a.Verify(ctx)
		d := time.Since(t0)
		close(done)
		if err != nil {
			log.Fatal(err)
		}
		if !v.OK || v.Rows != int64(*rows) {
			log.Fatalf("verify = %+v", v)
		}
		times = append(times, d)
	}
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	med := median(times)
	fmt.Printf("| %s | %d | %s | %.0f | %.1f MiB | %.1f MiB |\n", db.Dialect, *rows, med.Round(time.Millisecond),
		float64(*rows)/med.Seconds(), float64(peakHeap.Load())/(1<<20), float64(ru.Maxrss)/1024)
	fmt.Printf("  (engine | rows | verify median of %d %v | rows/s | peak Go heap | peak RSS of the process, fill included)\n", *runs, times)
}

// fill writes n chained records directly, many per statement: the same
// rows AppendTx would write, without a transaction per row.
func fill(ctx context.Context, db *sqldb.DB, n int) error {
	prev := audit.Genesis
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	const per = 500
	for id := 1; id <= n; {
		err := db.Write().Tx(ctx, func(tx *sql.Tx) error {
			for k := 0; k < 20 && id <= n; k++ {
				var q strings.Builder
				q.WriteString(`INSERT INTO audit_log (id, at, actor_id, actor_ip, action, target_kind, target_id, before_json, after_json, reason, prev_hash, hash) VALUES `)
				var args []any
				for j := 0; j < per && id <= n; j, id = j+1, id+1 {
					r := audit.Record{ID: int64(id), At: at.Add(time.Duration(id) * time.Second), Actor: audit.Actor{ID: int64(id%7 + 1), IP: "192.0.2.10"},
						Action: "user.role", TargetKind: "user", TargetID: int64(id%1000 + 1),
						Before: []byte(`{"id":12,"role":"user","username":"someone"}`), After: []byte(`{"id":12,"role":"creator","username":"someone"}`),
						Reason: "bench", PrevHash: prev}
					r.Hash = audit.HashOf(r)
					prev = r.Hash
					if j > 0 {
						q.WriteString(",")
					}
					q.WriteString("(?,?,?,?,?,?,?,?,?,?,?,?)")
					args = append(args, r.ID, r.At.UnixMilli(), r.Actor.ID, r.Actor.IP, r.Action, r.TargetKind, r.TargetID, string(r.Before), string(r.After), r.Reason, r.PrevHash, r.Hash)
				}
				if _, err := tx.ExecContext(ctx, q.String(), args...); err != nil {
					return err
				}
			}
			_, err := tx.ExecContext(ctx, `UPDATE audit_head SET last_id = ?, hash = ? WHERE id = 1`, id-1, prev)
			return err
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func median(ds []time.Duration) time.Duration {
	s := append([]time.Duration(nil), ds...)
	for i := range s {
		for j := i + 1; j < len(s); j++ {
			if s[j] < s[i] {
				s[i], s[j] = s[j], s[i]
			}
		}
	}
	return s[len(s)/2]
}
