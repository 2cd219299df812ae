package jobs

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/plazahq/plaza/internal/sqldb"
	"github.com/plazahq/plaza/internal/sqldb/sqldbtest"
)

// counted starts a queue of no-op "x" jobs that never polls and whose
// leases outlast the test (no heartbeat, no rescue), so every statement
// it makes is one the fetcher or the completer chose. It waits for the
// claim that Start makes and returns the claims made since.
func counted(t *testing.T, db *sqldb.DB, cfg Config) (*Queue, func() int64) {
	t.Helper()
	cfg.PollInterval, cfg.LeaseDuration = time.Hour, time.Hour
	q := NewQueue(db, cfg, nil, sqldbtest.Quiet())
	q.Register(Kind{Name: "x", Handle: func(context.Context, Job) error { return nil }})
	q.Start()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		q.Stop(ctx)
	})
	waitFor(t, "the first claim", func() bool { return q.claims.Load() == 1 })
	return q, func() int64 { return q.claims.Load() - 1 }
}

// post enqueues one job the way a post does: in a transaction, then Notify.
func post(t *testing.T, q *Queue, db *sqldb.DB) {
	t.Helper()
	ctx := context.Background()
	err := db.Write().Tx(ctx, func(tx *sql.Tx) error { return InsertTx(ctx, tx, db.Dialect, time.Now(), Must("x", nil)) })
	if err != nil {
		t.Fatal(err)
	}
	q.Notify(ctx)
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func countState(t *testing.T, db *sqldb.DB, state string) int {
	t.Helper()
	var n int
	if err := db.Write().QueryRow(context.Background(), []any{&n}, `SELECT COUNT(*) FROM jobs WHERE state = ?`, state); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestNotifiedJobsShareAClaim: a job after a quiet spell is claimed at
// once; jobs enqueued one by one soon after it, within the gather window,
// are claimed by one statement, not one each.
func TestNotifiedJobsShareAClaim(t *testing.T) {
	sqldbtest.ForEach(t, func(t *testing.T, db *sqldb.DB) {
		q, claims := counted(t, db, Config{Workers: 8, Gather: 500 * time.Millisecond})
		start := time.Now()
		post(t, q, db)
		waitFor(t, "the first job", func() bool { return q.processed.Load() == 1 })
		if waited := time.Since(start); waited >= 500*time.Millisecond {
			t.Fatalf("the first job after a quiet spell waited %s: gathered", waited)
		}
		for range 8 {
			post(t, q, db)
		}
		waitFor(t, "9 jobs", func() bool { return q.processed.Load() == 9 })
		if n := claims(); n > 3 { // 2 unless enqueuing took longer than the window
			t.Fatalf("%d claims for a job, then 8 enqueued together; want 2", n)
		}
	})
}

// TestFinishedWorkerClaimsOnlyWhenJobsMayWait: a worker that finishes the
// last job of a claim that did not fill the idle workers makes no claim
// (there is nothing left); one job at a time is one claim each.
func TestFinishedWorkerClaimsOnlyWhenJobsMayWait(t *testing.T) {
	sqldbtest.ForEach(t, func(t *testing.T, db *sqldb.DB) {
		q, claims := counted(t, db, Config{Workers: 4})
		const n = 10
		for i := range int64(n) {
			post(t, q, db)
			waitFor(t, "the job", func() bool { return q.processed.Load() == i+1 })
		}
		waitFor(t, "idle workers", func() bool { return q.busy.Load() == 0 })
		time.Sleep(50 * time.Millisecond) // a claim after the last job would come now
		if got := claims(); got != n {
			t.Fatalf("%d claims for %d jobs enqueued one at a time, want %d", got, n, n)
		}
	})
}

// TestBacklogDrainsWithoutPolling: jobs left behind by claims that fill
// every worker are claimed as workers finish, not at the next poll (an
// hour away), and each claim serves every worker it can.
func TestBacklogDrainsWithoutPolling(t *testing.T) {
	sqldbtest.ForEach(t, func(t *testing.T, db *sqldb.DB) {
		q, claims := counted(t, db, Config{Workers: 2})
		js := make([]Job, 40)
		for i := range js {
			js[i] = Must("x", i)
		}
		if err := q.Enqueue(context.Background(), js...); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "40 jobs", func() bool { return q.processed.Load() == 40 })
		if got := claims(); got > 30 { // 21 when every claim fills both workers
			t.Fatalf("%d claims for 40 jobs on 2 workers: claims serve one worker each", got)
		}
	})
}

// TestStopEndsGatheringWithoutAClaim: Stop while the fetcher gathers
// returns at once and claims nothing (a job claimed then would wait for
// its lease to expire, its attempt counted).
func TestStopEndsGatheringWithoutAClaim(t *testing.T) {
	db := sqldbtest.OpenSQLite(t, sqldb.Config{})
	q, claims := counted(t, db, Config{Workers: 4, Gather: time.Hour})
	q.poke() // the first wake-up: claims at once
	waitFor(t, "the claim", func() bool { return claims() == 1 })
	post(t, q, db) // the next, soon after: gathers
	time.Sleep(20 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := q.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if n, waiting := claims(), countState(t, db, Available); n != 1 || waiting != 1 {
		t.Fatalf("%d claims after the first, %d jobs available; want none and 1", n-1, waiting)
	}
}

// TestCompletionsRecordedTogether: finished jobs wait CompleteEvery to be
// recorded in one statement, and Stop records those still waiting.
func TestCompletionsRecordedTogether(t *testing.T) {
	sqldbtest.ForEach(t, func(t *testing.T, db *sqldb.DB) {
		q, _ := counted(t, db, Config{Workers: 4, CompleteEvery: time.Hour})
		for range 20 {
			post(t, q, db)
		}
		waitFor(t, "20 jobs", func() bool { return q.processed.Load() == 20 })
		time.Sleep(50 * time.Millisecond) // a statement per tick of a few ms would have come now
		if n, running := q.flushes.Load(), countState(t, db, Running); n != 0 || running != 20 {
			t.Fatalf("%d completion statements, %d jobs running; want none recorded before CompleteEvery", n, running)
		}
		if err := q.Stop(context.Background()); err != nil {
			t.Fatal(err)
		}
		if n, done := q.flushes.Load(), countState(t, db, Completed); n != 1 || done != 20 {
			t.Fatalf("after Stop: %d completion statements, %d jobs completed; want 1 and 20", n, done)
		}
	})
}

// TestCompletionsRecordedWithinCompleteEvery: a batch is recorded when
// CompleteEvery has passed since its first job finished, without Stop.
func TestCompletionsRecordedWithinCompleteEvery(t *testing.T) {
	sqldbtest.ForEach(t, func(t *testing.T, db *sqldb.DB) {
		q, _ := counted(t, db, Config{Workers: 4, CompleteEvery: 20 * time.Millisecond})
		for range 5 {
			post(t, q, db)
		}
		waitFor(t, "5 completed jobs", func() bool { return countState(t, db, Completed) == 5 })
		if n := q.flushes.Load(); n < 1 || n > 5 {
			t.Fatalf("%d completion statements for 5 jobs", n)
		}
	})
}
