//go:build unix

package jobs

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plazahq/plaza/internal/proccpu"
	"github.com/plazahq/plaza/internal/sqldb"
	"github.com/plazahq/plaza/internal/sqldb/sqldbtest"
)

// BenchmarkPostStream runs jobs enqueued the way a post enqueues its
// achievements check: one coalescing job inserted in a transaction, then
// Notify. Jobs arrive at random (Poisson) at the 10,000-user load's rate,
// about 230 a second, or as fast as one producer goes. It reports the
// process's CPU per job (getrusage: the producer's transactions are in it,
// the same in every build), the claim and completion statements per 1,000
// jobs and the mean wait from commit to handler. Fix the job count:
//
//	go test -run '^$' -bench PostStream -benchtime 2000x -count 3 ./internal/jobs
//
// (PLAZA_TEST_MYSQL_DSN adds MariaDB.)
func BenchmarkPostStream(b *testing.B) {
	for _, e := range sqldbtest.Engines() {
		for _, rate := range []int{230, 0} {
			name := e.Name + "/rate=max"
			if rate > 0 {
				name = fmt.Sprintf("%s/rate=%d", e.Name, rate)
			}
			b.Run(name, func(b *testing.B) { benchStream(b, e.Open(b, sqldb.Config{}), rate) })
		}
	}
}

func benchStream(b *testing.B, db *sqldb.DB, rate int) {
	ctx := context.Background()
	var ran, waited atomic.Int64 // waited: nanoseconds from commit to handler, summed
	q := NewQueue(db, Config{Workers: 4}, nil, sqldbtest.Quiet())
	q.Register(Kind{Name: "bench.check", Coalesce: true, Handle: func(_ context.Context, j Job) error {
		var at int64
		json.Unmarshal(j.Payload, &at)
		waited.Add(time.Now().UnixNano() - at)
		ran.Add(1)
		return nil
	}})
	q.Start()
	claims, flushes := q.claims.Load(), q.flushes.Load()
	cpu := proccpu.Now()
	b.ResetTimer()
	start := time.Now()
	next := start
	for i := range b.N {
		if rate > 0 {
			next = next.Add(time.Duration(rand.ExpFloat64() * float64(time.Second) / float64(rate)))
			time.Sleep(time.Until(next))
		}
		j := Must("bench.check", time.Now().UnixNano())
		j.UniqueKey = fmt.Sprintf("bench.check:%d", i) // one per author: 10,000 users rarely share one
		err := db.Write().Tx(ctx, func(tx *sql.Tx) error { return InsertTx(ctx, tx, db.Dialect, time.Now(), j) })
		if err != nil {
			b.Fatal(err)
		}
		q.Notify(ctx)
	}
	for ran.Load() < int64(b.N) {
		time.Sleep(time.Millisecond)
	}
	if err := q.Stop(ctx); err != nil { // records the last completions
		b.Fatal(err)
	}
	elapsed, used := time.Since(start), proccpu.Now()-cpu
	b.StopTimer()
	n := float64(b.N)
	b.ReportMetric(n/elapsed.Seconds(), "jobs/s")
	b.ReportMetric(float64(used.Microseconds())/n, "cpu-µs/job")
	b.ReportMetric(float64(q.claims.Load()-claims)*1000/n, "claims/1k")
	b.ReportMetric(float64(q.flushes.Load()-flushes)*1000/n, "completes/1k")
	b.ReportMetric(float64(waited.Load())/n/1e6, "wait-ms")
}
