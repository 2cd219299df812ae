package jobs_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plazahq/plaza/internal/apperr"
	"github.com/plazahq/plaza/internal/jobs"
	"github.com/plazahq/plaza/internal/sqldb"
	"github.com/plazahq/plaza/internal/sqldb/sqldbtest"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func fast(n int) time.Duration { return 10 * time.Millisecond }

func newQueue(t *testing.T, db *sqldb.DB, cfg jobs.Config, kinds ...jobs.Kind) *jobs.Queue {
	if cfg.PollInterval == 0 {
		cfg.PollInterval = 20 * time.Millisecond
	}
	if cfg.Backoff == nil {
		cfg.Backoff = fast
	}
	q := jobs.NewQueue(db, cfg, nil, quiet())
	for _, k := range kinds {
		q.Register(k)
	}
	q.Start()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		q.Stop(ctx)
	})
	return q
}

func waitState(t *testing.T, q *jobs.Queue, id int64, state string) jobs.Job {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		j, err := q.Get(context.Background(), id)
		if err == nil && j.State == state {
			return j
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %d: %+v (err %v), want state %s", id, j, err, state)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// lastID is the newest job's id.
func lastID(t *testing.T, q *jobs.Queue) int64 {
	t.Helper()
	js, err := q.List(context.Background(), "", "", 0, 1)
	if err != nil || len(js) == 0 {
		t.Fatalf("no jobs: %v", err)
	}
	return js[0].ID
}

func TestRunRetryDeadAndOperatorActions(t *testing.T) {
	sqldbtest.ForEach(t, func(t *testing.T, db *sqldb.DB) {
		var seen sync.Map
		var calls atomic.Int64
		q := newQueue(t, db, jobs.Config{Workers: 2},
			jobs.Kind{Name: "echo", Handle: func(_ context.Context, j jobs.Job) error { seen.Store(string(j.Payload), true); return nil }},
			jobs.Kind{Name: "flaky", MaxAttempts: 5, Handle: func(context.Context, jobs.Job) error {
				if calls.Add(1) < 3 {
					return errors.New("not yet")
				}
				return nil
			}},
			jobs.Kind{Name: "doomed", MaxAttempts: 3, Handle: func(context.Context, jobs.Job) error { return errors.New("always") }},
			jobs.Kind{Name: "panics", MaxAttempts: 1, Handle: func(context.Context, jobs.Job) error { panic("boom") }},
			jobs.Kind{Name: "permanent", Handle: func(context.Context, jobs.Job) error { return fmt.Errorf("bad payload: %w", jobs.ErrPermanent) }},
		)
		ctx := context.Background()

		if err := q.Enqueue(ctx, jobs.Must("echo", map[string]int{"n": 1})); err != nil {
			t.Fatal(err)
		}
		j := waitState(t, q, lastID(t, q), jobs.Completed)
		if _, ok := seen.Load(`{"n":1}`); !ok || string(j.Payload) != "{}" || j.FinishedAt == nil {
			t.Fatalf("echo: %+v (payload cleared on completion?)", j)
		}

		q.Enqueue(ctx, jobs.Must("flaky", nil))
		j = waitState(t, q, lastID(t, q), jobs.Completed)
		if j.Attempts != 3 || len(j.Errors) != 2 || j.Errors[0].Error != "not yet" || j.Errors[1].Attempt != 2 {
			t.Fatalf("flaky: %+v", j)
		}

		q.Enqueue(ctx, jobs.Must("doomed", nil))
		dead := waitState(t, q, lastID(t, q), jobs.Dead)
		if dead.Attempts != 3 || len(dead.Errors) != 3 {
			t.Fatalf("doomed: %+v", dead)
		}
		if err := q.Retry(ctx, dead.ID); err != nil {
			t.Fatal(err)
		}
		again := waitState(t, q, dead.ID, jobs.Dead)
		if len(again.Errors) != 6 {
			t.Fatalf("retried job has %d errors, want 6", len(again.Errors))
		}
		if err := q.Discard(ctx, dead.ID); err != nil {
			t.Fatal(err)
		}
		if err := q.Discard(ctx, dead.ID); !apperr.Is(err, apperr.Conflict) {
			t.Fatalf("discarding twice: %v", err)
		}
		// A job discarded before it was due keeps its schedule when
		// retried: it waits for its time instead of running now.
		later := jobs.Must("echo", map[string]int{"n": 2})
		later.RunAt = time.Now().Add(time.Hour)
		if err := q.Enqueue(ctx, later); err != nil {
			t.Fatal(err)
		}
		waiting := lastID(t, q)
		if err := q.Discard(ctx, waiting); err != nil {
			t.Fatal(err)
		}
		if err := q.Retry(ctx, waiting); err != nil {
			t.Fatal(err)
		}
		if j, err := q.Get(ctx, waiting); err != nil || j.State != jobs.Available || j.RunAt.UnixMilli() != later.RunAt.UnixMilli() {
			t.Fatalf("retried before its time: %+v %v, want available at %v", j, err, later.RunAt)
		}
		if err := q.Retry(ctx, 1<<40); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("retry of a missing job: %v", err)
		}

		q.Enqueue(ctx, jobs.Must("panics", nil))
		p := waitState(t, q, lastID(t, q), jobs.Dead)
		if !strings.HasPrefix(p.Errors[0].Error, "panic: boom") {
			t.Fatalf("panic not recorded: %+v", p.Errors)
		}
		q.Enqueue(ctx, jobs.Must("permanent", nil))
		if pj := waitState(t, q, lastID(t, q), jobs.Dead); pj.Attempts != 1 {
			t.Fatalf("permanent failure retried: %+v", pj)
		}
		q.Enqueue(ctx, jobs.Must("no.such.kind", nil))
		if u := waitState(t, q, lastID(t, q), jobs.Dead); !strings.Contains(u.Errors[0].Error, "unknown job kind") {
			t.Fatalf("unknown kind: %+v", u)
		}
		// The workers are all still alive.
		q.Enqueue(ctx, jobs.Must("echo", map[string]int{"n": 2}))
		waitState(t, q, lastID(t, q), jobs.Completed)

		st := q.Stats(ctx)
		if st.Workers != 2 || st.Processed != 3 || st.Died != 5 {
			t.Fatalf("stats %+v", st)
		}
	})
}

func TestHangingHandlerDoesNotTakeTheWorker(t *testing.T) {
	db := sqldbtest.OpenSQLite(t, sqldb.Config{})
	release := make(chan struct{})
	defer close(release)
	q := newQueue(t, db, jobs.Config{Workers: 1},
		jobs.Kind{Name: "hang", MaxAttempts: 1, Timeout: 100 * time.Millisecond, Handle: func(context.Context, jobs.Job) error { <-release; return nil }},
		jobs.Kind{Name: "ok", Handle: func(context.Context, jobs.Job) error { return nil }})
	ctx := context.Background()
	q.Enqueue(ctx, jobs.Must("hang", nil))
	h := waitState(t, q, lastID(t, q), jobs.Dead)
	if !strings.Contains(h.Errors[0].Error, "timed out") {
		t.Fatalf("hang: %+v", h.Errors)
	}
	q.Enqueue(ctx, jobs.Must("ok", nil))
	waitState(t, q, lastID(t, q), jobs.Completed)
}

func TestEnqueueInTheCallersTransaction(t *testing.T) {
	sqldbtest.ForEach(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		now := time.Now()
		boom := errors.New("rolled back")
		err := db.Write().Tx(ctx, func(tx *sql.Tx) error {
			if err := jobs.InsertTx(ctx, tx, db.Dialect, now, jobs.Must("x", nil)); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatal(err)
		}
		q := jobs.NewQueue(db, jobs.Config{}, nil, quiet())
		if js, _ := q.List(ctx, "", "", 0, 10); len(js) != 0 {
			t.Fatalf("a job survived its rolled-back transaction: %+v", js)
		}
		// Unique keys: one unfinished job per key.
		for range 3 {
			db.Write().Tx(ctx, func(tx *sql.Tx) error {
				j := jobs.Must("digest", nil)
				j.UniqueKey = "digest:7"
				return jobs.InsertTx(ctx, tx, db.Dialect, now, j)
			})
		}
		if js, _ := q.List(ctx, "", "digest", 0, 10); len(js) != 1 {
			t.Fatalf("%d digest jobs for one unique key", len(js))
		}
	})
}

func TestSchedulingAndPriority(t *testing.T) {
	db := sqldbtest.OpenSQLite(t, sqldb.Config{})
	ctx := context.Background()
	var mu sync.Mutex
	var order []string
	q := jobs.NewQueue(db, jobs.Config{Workers: 1, PollInterval: 20 * time.Millisecond}, nil, quiet())
	q.Register(jobs.Kind{Name: "rec", Handle: func(_ context.Context, j jobs.Job) error {
		var s string
		json.Unmarshal(j.Payload, &s)
		mu.Lock()
		order = append(order, s)
		mu.Unlock()
		return nil
	}})
	low, high, later := jobs.Must("rec", "low"), jobs.Must("rec", "high"), jobs.Must("rec", "later")
	high.Priority = 10
	later.RunAt = time.Now().Add(400 * time.Millisecond)
	later.Priority = 100
	q.Enqueue(ctx, low, high, later) // before Start: all waiting together
	q.Start()
	defer q.Stop(ctx)
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		n := len(order)
		mu.Unlock()
		if n == 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("ran %v", order)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if strings.Join(order, ",") != "high,low,later" {
		t.Fatalf("order %v: want priority first, the scheduled job when due", order)
	}
}

// Two queues (instances) share the table: every job runs exactly once.
func TestManyWorkersManyInstancesRunEachJobOnce(t *testing.T) {
	sqldbtest.ForEach(t, func(t *testing.T, db *sqldb.DB) {
		var runs sync.Map
		var total atomic.Int64
		kind := jobs.Kind{Name: "count", Handle: func(_ context.Context, j jobs.Job) error {
			v, _ := runs.LoadOrStore(j.ID, new(atomic.Int64))
			v.(*atomic.Int64).Add(1)
			total.Add(1)
			return nil
		}}
		a := newQueue(t, db, jobs.Config{Workers: 4}, kind)
		newQueue(t, db, jobs.Config{Workers: 4}, kind)
		const n = 300
		batch := make([]jobs.Job, n)
		for i := range batch {
			batch[i] = jobs.Must("count", i)
		}
		if err := a.Enqueue(context.Background(), batch...); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(20 * time.Second)
		for total.Load() < n {
			if time.Now().After(deadline) {
				t.Fatalf("%d of %d jobs ran", total.Load(), n)
			}
			time.Sleep(20 * time.Millisecond)
		}
		time.Sleep(100 * time.Millisecond)
		runs.Range(func(k, v any) bool {
			if c := v.(*atomic.Int64).Load(); c != 1 {
				t.Errorf("job %v ran %d times", k, c)
			}
			return true
		})
		if total.Load() != n {
			t.Fatalf("%d runs for %d jobs", total.Load(), n)
		}
	})
}

func TestShutdownReleasesUnfinishedJobs(t *testing.T) {
	db := sqldbtest.OpenSQLite(t, sqldb.Config{})
	started := make(chan struct{}, 1)
	q := jobs.NewQueue(db, jobs.Config{Workers: 1, PollInterval: 20 * time.Millisecond}, nil, quiet())
	q.Register(jobs.Kind{Name: "long", Handle: func(ctx context.Context, _ jobs.Job) error {
		started <- struct{}{}
		<-ctx.Done()
		return ctx.Err()
	}})
	q.Start()
	ctx := context.Background()
	q.Enqueue(ctx, jobs.Must("long", nil))
	<-started
	sctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	if err := q.Stop(sctx); err == nil {
		t.Fatal("Stop did not report the cut-off")
	}
	j, _ := jobs.NewQueue(db, jobs.Config{}, nil, quiet()).Get(ctx, 1)
	if j.State != jobs.Available || j.Attempts != 0 {
		t.Fatalf("after shutdown: %+v, want available with the attempt not counted", j)
	}
}

// The helper process runs a queue whose job blocks until the process is
// killed (see TestKilledWorkerJobRunsAgain).
func TestHelperProcess(t *testing.T) {
	dir := os.Getenv("PLAZA_JOBS_HELPER_DIR")
	if dir == "" {
		t.Skip("helper for TestKilledWorkerJobRunsAgain")
	}
	db, err := sqldb.Open(context.Background(), sqldb.Config{DataDir: dir})
	if err != nil {
		os.Exit(2)
	}
	q := jobs.NewQueue(db, jobs.Config{Workers: 1, PollInterval: 20 * time.Millisecond, LeaseDuration: time.Second}, nil, quiet())
	q.Register(jobs.Kind{Name: "work", Handle: func(ctx context.Context, _ jobs.Job) error { select {} }})
	q.Start()
	select {}
}

// A worker process killed with SIGKILL in the middle of a job: once its
// lease expires another worker runs the job.
func TestKilledWorkerJobRunsAgain(t *testing.T) {
	dir := t.TempDir()
	db, err := sqldb.Open(context.Background(), sqldb.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(context.Background(), quiet()); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	q := jobs.NewQueue(db, jobs.Config{}, nil, quiet())
	if err := q.Enqueue(ctx, jobs.Must("work", nil)); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
	cmd.Env = append(os.Environ(), "PLAZA_JOBS_HELPER_DIR="+dir)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitState(t, q, 1, jobs.Running)
	if err := cmd.Process.Kill(); err != nil { // SIGKILL: no clean-up at all
		t.Fatal(err)
	}
	cmd.Wait()

	done := make(chan struct{})
	newQueue(t, db, jobs.Config{Workers: 1, LeaseDuration: time.Second},
		jobs.Kind{Name: "work", Handle: func(context.Context, jobs.Job) error { close(done); return nil }})
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		t.Fatal("the killed worker's job never ran again")
	}
	j := waitState(t, q, 1, jobs.Completed)
	if j.Attempts != 2 || len(j.Errors) != 1 || !strings.Contains(j.Errors[0].Error, "lease expired") {
		t.Fatalf("rescued job: %+v", j)
	}
}

// The database goes away under the workers and comes back: they back off
// and resume without a restart.
func TestDatabaseOutageBackoffAndResume(t *testing.T) {
	url, proxiedURL, p := sqldbtest.ProxiedMySQL(t)
	direct, err := sqldb.Open(context.Background(), sqldb.Config{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	defer direct.Close()
	if err := direct.Migrate(context.Background(), quiet()); err != nil {
		t.Fatal(err)
	}
	proxied, err := sqldb.Open(context.Background(), sqldb.Config{URL: proxiedURL, PoolSize: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer proxied.Close()
	var ran atomic.Int64
	newQueue(t, proxied, jobs.Config{Workers: 2}, jobs.Kind{Name: "x", Handle: func(context.Context, jobs.Job) error { ran.Add(1); return nil }})
	p.Cut()
	time.Sleep(500 * time.Millisecond) // claims fail meanwhile
	q := jobs.NewQueue(direct, jobs.Config{}, nil, quiet())
	q.Enqueue(context.Background(), jobs.Must("x", nil))
	p.Restore()
	deadline := time.Now().Add(15 * time.Second)
	for ran.Load() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("workers did not resume after the database returned")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestCoalesceReleasesKeyWhileRunning: a Coalesce kind's unique key gathers
// jobs while they wait, but a job enqueued while one runs is kept, so a
// write committed during the run is looked at again.
func TestCoalesceReleasesKeyWhileRunning(t *testing.T) {
	sqldbtest.ForEach(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		started, release := make(chan struct{}, 4), make(chan struct{})
		var runs atomic.Int64
		q := jobs.NewQueue(db, jobs.Config{Workers: 1, PollInterval: 20 * time.Millisecond, Backoff: fast}, nil, quiet())
		q.Register(jobs.Kind{Name: "check", Coalesce: true, Handle: func(context.Context, jobs.Job) error {
			runs.Add(1)
			started <- struct{}{}
			<-release
			return nil
		}})
		job := func() jobs.Job { j := jobs.Must("check", nil); j.UniqueKey = "check:1"; return j }
		for range 3 { // waiting: one job
			if err := q.Enqueue(ctx, job()); err != nil {
				t.Fatal(err)
			}
		}
		if js, _ := q.List(ctx, "", "check", 0, 10); len(js) != 1 {
			t.Fatalf("%d waiting jobs for one key, want 1", len(js))
		}
		q.Start()
		defer func() {
			stop, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			q.Stop(stop)
		}()
		<-started
		for range 3 { // one runs: exactly one more waits
			if err := q.Enqueue(ctx, job()); err != nil {
				t.Fatal(err)
			}
		}
		if js, _ := q.List(ctx, jobs.Available, "check", 0, 10); len(js) != 1 {
			t.Fatalf("%d jobs waiting behind a running one, want 1", len(js))
		}
		close(release)
		<-started
		deadline := time.Now().Add(5 * time.Second)
		for runs.Load() != 2 || len(mustList(t, q, jobs.Completed)) != 2 {
			if time.Now().After(deadline) {
				t.Fatalf("runs %d, want 2", runs.Load())
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
}

func mustList(t *testing.T, q *jobs.Queue, state string) []jobs.Job {
	t.Helper()
	js, err := q.List(context.Background(), state, "", 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	return js
}

// TestStatsCountsDueJobsApart: jobs scheduled for later are pending but
// not due; only the due ones are a backlog (health's queue-depth alert).
func TestStatsCountsDueJobsApart(t *testing.T) {
	sqldbtest.ForEach(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		q := jobs.NewQueue(db, jobs.Config{Workers: 1}, nil, quiet()) // not started: nothing runs
		var later []jobs.Job
		for range 5 {
			j := jobs.Must("digest", nil)
			j.RunAt = time.Now().Add(time.Hour)
			later = append(later, j)
		}
		if err := q.Enqueue(ctx, later...); err != nil {
			t.Fatal(err)
		}
		if err := q.Enqueue(ctx, jobs.Must("digest", nil), jobs.Must("other", nil)); err != nil {
			t.Fatal(err)
		}
		st := q.Stats(ctx)
		if st.Pending != 7 || st.Due != 2 {
			t.Fatalf("pending %d due %d, want 7 and 2: %+v", st.Pending, st.Due, st.Depth)
		}
	})
}
