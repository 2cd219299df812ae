package jobs

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/plazahq/plaza/internal/sqldb"
)

// Waker carries "new jobs" between instances (Redis pub/sub); without one,
// other instances find new jobs by polling.
type Waker interface {
	Wake(ctx context.Context) error
	// Listen calls wake whenever any instance calls Wake, until ctx ends.
	Listen(ctx context.Context, wake func())
}

// Config tunes a Queue; zero values take the defaults.
type Config struct {
	Workers       int                              // concurrent jobs on this instance (default 4)
	PollInterval  time.Duration                    // how often to look for due jobs unprompted (default 1s)
	LeaseDuration time.Duration                    // a claim lasts this long unless renewed (default 30s)
	Retention     time.Duration                    // finished jobs are kept this long (default 24h)
	Backoff       func(attempts int) time.Duration // default Backoff
	Now           func() time.Time
	// Gather is how long the fetcher, woken by Notify soon after the last
	// time (jobs are coming in a stream), waits before it claims, so that
	// jobs enqueued meanwhile come in the same claim statement rather than
	// one each (default 15ms; negative: at once). A job after a quiet
	// spell is claimed at once.
	Gather time.Duration
	// CompleteEvery is how long a finished job may wait to be recorded
	// completed together with others, in one statement for up to 200
	// (default 25ms; negative: at once). Stop records all that wait.
	CompleteEvery time.Duration
}

// Queue runs the registered kinds of job on this instance.
type Queue struct {
	cfg   Config
	store store
	log   *slog.Logger
	waker Waker
	id    string // this instance's lease holder name
	kinds map[string]Kind

	wake    chan struct{} // Notify: jobs were enqueued
	freed   chan struct{} // a worker finished a job
	work    chan claimed
	done    chan int64 // completed job ids, marked in batches
	running sync.Map   // job id -> *running
	busy    atomic.Int64

	// claims and flushes count the statements (transactions on MySQL)
	// that claim jobs and record completions: what the queue costs the
	// database's writer, for tests and benchmarks.
	claims, flushes atomic.Int64

	processed, failed, died atomic.Int64
	stopped                 atomic.Bool

	stop      chan struct{}
	wg        sync.WaitGroup
	completer sync.WaitGroup
	cancel    context.CancelFunc

	depthMu      sync.Mutex
	depthAt      time.Time
	depth        []Depth
	depthReading atomic.Bool // one caller reads the depth; others use the last
}

type running struct {
	job    Job
	cancel context.CancelFunc
}

// NewQueue returns a queue on db; waker may be nil.
func NewQueue(db *sqldb.DB, cfg Config, waker Waker, log *slog.Logger) *Queue {
	if cfg.Workers <= 0 {
		cfg.Workers = 4
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = time.Second
	}
	if cfg.LeaseDuration <= 0 {
		cfg.LeaseDuration = 30 * time.Second
	}
	if cfg.Retention <= 0 {
		cfg.Retention = 24 * time.Hour
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Backoff == nil {
		cfg.Backoff = Backoff
	}
	cfg.Gather = orDefault(cfg.Gather, 15*time.Millisecond)
	cfg.CompleteEvery = orDefault(cfg.CompleteEvery, 25*time.Millisecond)
	b := make([]byte, 6)
	rand.Read(b)
	return &Queue{cfg: cfg, store: store{db: db, backoff: cfg.Backoff}, log: log, waker: waker, id: "w-" + hex.EncodeToString(b), kinds: map[string]Kind{},
		wake: make(chan struct{}, 1), freed: make(chan struct{}, 1), work: make(chan claimed), done: make(chan int64, 1024), stop: make(chan struct{})}
}

// orDefault is d for zero (unset) and zero for negative (none).
func orDefault(v, d time.Duration) time.Duration {
	if v == 0 {
		return d
	}
	return max(v, 0)
}

// Register adds a kind of job this instance runs. Call before Start.
func (q *Queue) Register(k Kind) {
	if k.MaxAttempts <= 0 {
		k.MaxAttempts = defaultMaxAttempts
	}
	if k.Timeout <= 0 {
		k.Timeout = time.Minute
	}
	q.kinds[k.Name] = k
}

// Workers is the configured worker count.
func (q *Queue) Workers() int { return q.cfg.Workers }

// Enqueue inserts jobs in a transaction of their own and wakes workers.
// Use InsertTx to enqueue within the transaction of another write.
func (q *Queue) Enqueue(ctx context.Context, js ...Job) error {
	for i := range js {
		if k, ok := q.kinds[js[i].Kind]; ok && js[i].MaxAttempts == 0 {
			js[i].MaxAttempts = k.MaxAttempts
		}
	}
	err := q.store.db.Write().Tx(ctx, func(tx *sql.Tx) error { return InsertTx(ctx, tx, q.store.db.Dialect, q.cfg.Now(), js...) })
	if err == nil {
		q.Notify(ctx)
	}
	return err
}

// Notify wakes this instance's workers and, through the waker, the others'.
// Call it after committing a transaction that inserted jobs.
func (q *Queue) Notify(ctx context.Context) {
	q.poke()
	if q.waker != nil {
		if err := q.waker.Wake(ctx); err != nil {
			q.log.Debug("jobs: wake-up not published; other instances will poll", "err", err)
		}
	}
}

func (q *Queue) poke() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// Start runs the fetcher, the workers, the heartbeat, the rescuer of dead
// workers' jobs and the janitor.
func (q *Queue) Start() {
	ctx, cancel := context.WithCancel(context.Background())
	q.cancel = cancel
	for name, k := range q.kinds {
		if k.Coalesce {
			q.store.coalesce = append(q.store.coalesce, name)
		}
	}
	slices.Sort(q.store.coalesce) // one statement text: kept prepared
	for range q.cfg.Workers {
		q.wg.Add(1)
		go q.worker(ctx)
	}
	q.completer.Add(1)
	go q.complete()
	q.wg.Add(3)
	go q.fetch(ctx)
	go q.maintain(ctx)
	go func() {
		defer q.wg.Done()
		if q.waker != nil {
			q.waker.Listen(ctx, q.poke)
		}
	}()
}

// Stop stops claiming, lets running jobs finish until ctx ends, then
// cancels them and hands their claims back so another worker runs them.
func (q *Queue) Stop(ctx context.Context) error {
	if !q.stopped.CompareAndSwap(false, true) {
		return nil // stopped already
	}
	close(q.stop)
	done := make(chan struct{})
	go func() {
		for q.busy.Load() > 0 {
			time.Sleep(10 * time.Millisecond)
		}
		close(done)
	}()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		err = errors.New("jobs: shutdown timeout; unfinished jobs released")
		q.running.Range(func(_, v any) bool {
			r := v.(*running)
			r.cancel()
			if rerr := q.store.release(context.Background(), r.job, q.id, q.cfg.Now()); rerr != nil {
				q.log.Warn("jobs: could not release a job; its lease will expire", "job", r.job.ID, "err", rerr)
			}
			return true
		})
	}
	q.cancel()
	q.wg.Wait()
	close(q.done) // every worker has returned: flush what they finished
	q.completer.Wait()
	return err
}

func (q *Queue) stopping() bool {
	select {
	case <-q.stop:
		return true
	default:
		return false
	}
}

// claimed is a job handed to a worker, with the count of its claim's jobs
// still running.
type claimed struct {
	job  Job
	left *atomic.Int64
}

// fetch claims due jobs for the idle workers and hands them out.
//
// A claim is a write (on SQLite, a turn of the one writer), so the fetcher
// makes few and fills them. Between claims it sleeps until Notify, the
// poll interval or, while due jobs may be left behind, a worker freeing
// up. Woken by Notify soon after the last time, it waits Gather first, so
// that one claim carries the jobs enqueued meanwhile. A claim that fills every idle worker may
// have left due jobs behind; then the first worker to finish wakes the
// fetcher, which waits (up to Gather) for the rest of that claim's jobs to
// finish too, and claims for all the idle workers at once. A claim that
// does not fill them left none, and a finished worker asks for nothing.
// When the database fails the fetcher backs off, up to ten seconds.
func (q *Queue) fetch(ctx context.Context) {
	defer q.wg.Done()
	backoff := time.Duration(0)
	notified, behind := false, false
	var woken time.Time       // when Notify last woke the fetcher
	last := new(atomic.Int64) // the last claim's jobs still running
	for !q.stopping() {
		switch {
		case q.cfg.Gather <= 0 || q.free() <= 0: // claim at once, or not at all
		case behind: // the claim will fill the workers: no use waiting for more jobs
			q.gather(q.cfg.Gather, last)
		case notified:
			now := time.Now()
			if now.Sub(woken) < 2*q.cfg.Gather { // a stream: more are coming
				q.gather(q.cfg.Gather, nil)
			}
			woken = now
		}
		if q.stopping() { // Stop ended the gathering: claim nothing more
			return
		}
		free := q.free()
		if free <= 0 {
			// Due jobs may wait for these workers (Notify, or a poll):
			// the first to finish asks for them.
			behind = true
		} else {
			now := q.cfg.Now()
			q.claims.Add(1)
			js, err := q.store.claim(ctx, q.id, free, now, now.Add(q.cfg.LeaseDuration))
			if err != nil {
				if ctx.Err() != nil {
					return
				}
				backoff = min(max(2*backoff, 100*time.Millisecond), 10*time.Second)
				q.log.Warn("jobs: claiming failed; backing off", "err", err, "retryIn", backoff)
				q.sleep(backoff, false)
				continue
			}
			backoff = 0
			if len(js) > 0 {
				last = new(atomic.Int64)
				last.Store(int64(len(js)))
			}
			for _, j := range js {
				q.busy.Add(1)
				select {
				case q.work <- claimed{j, last}:
				case <-ctx.Done():
					return
				}
			}
			behind = len(js) == free
			if behind {
				notified = false
				continue // workers may have finished meanwhile
			}
		}
		notified = q.sleep(q.cfg.PollInterval, behind)
	}
}

func (q *Queue) free() int { return q.cfg.Workers - int(q.busy.Load()) }

// sleep waits d, or until Notify (notified is true), Stop or, when
// behind, a worker finishing.
func (q *Queue) sleep(d time.Duration, behind bool) (notified bool) {
	var freed chan struct{} // nil: a finished worker does not wake the fetcher
	if behind {
		freed = q.freed
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-q.wake:
		return true
	case <-freed:
	case <-t.C:
	case <-q.stop:
	}
	return false
}

// gather waits d before a claim: for more jobs to be enqueued (left is
// nil) or, when a claim may have left jobs behind, for the rest of its
// jobs to finish (a claim's jobs tend to finish together), so that one
// claim serves their workers. Wake-ups meanwhile are dropped: each was
// sent after its job committed, so the claim that follows sees the job.
func (q *Queue) gather(d time.Duration, left *atomic.Int64) {
	t := time.NewTimer(d)
	defer t.Stop()
	var freed chan struct{} // nil: only the timer or Stop ends the wait
	if left != nil {
		freed = q.freed
	}
wait:
	for left == nil || left.Load() > 0 {
		select {
		case <-freed:
		case <-t.C:
			break wait
		case <-q.stop:
			break wait
		}
	}
	select {
	case <-q.wake:
	default:
	}
}

func (q *Queue) worker(ctx context.Context) {
	defer q.wg.Done()
	for {
		select {
		case <-ctx.Done():
			return
		case c := <-q.work:
			q.run(c.job)
			c.left.Add(-1)
			q.busy.Add(-1)
			select { // the fetcher listens only while jobs may be left behind
			case q.freed <- struct{}{}:
			default:
			}
		}
	}
}

// run executes one attempt. A panic or a timeout is a failed attempt; a
// handler that ignores its context past the timeout is abandoned (its
// goroutine finishes on its own) so the worker moves on.
func (q *Queue) run(j Job) {
	k, ok := q.kinds[j.Kind]
	if !ok {
		q.record(j, fmt.Errorf("unknown job kind %q: no handler is registered for it: %w", j.Kind, ErrPermanent))
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), k.Timeout)
	defer cancel()
	q.running.Store(j.ID, &running{job: j, cancel: cancel})
	defer q.running.Delete(j.ID)
	result := make(chan error, 1)
	go func() {
		defer func() {
			if v := recover(); v != nil {
				result <- fmt.Errorf("panic: %v\n%s", v, debug.Stack())
			}
		}()
		result <- k.Handle(ctx, j)
	}()
	var err error
	select {
	case err = <-result:
	case <-ctx.Done():
		select {
		case err = <-result:
		case <-time.After(time.Second):
			err = fmt.Errorf("timed out after %s (handler abandoned)", k.Timeout)
		}
	}
	if q.stopping() && errors.Is(err, context.Canceled) {
		return // released by Stop
	}
	q.record(j, err)
}

func (q *Queue) record(j Job, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	now := q.cfg.Now()
	if err == nil {
		q.processed.Add(1)
		q.done <- j.ID
		return
	}
	q.failed.Add(1)
	state, ferr := q.store.fail(ctx, j, q.id, err, errors.Is(err, ErrPermanent), now)
	if ferr != nil {
		q.log.Warn("jobs: could not record a failure; the lease will expire and the job run again", "job", j.ID, "err", ferr)
		return
	}
	if state == Dead {
		q.died.Add(1)
		q.log.Error("job dead after its last attempt", "job", j.ID, "kind", j.Kind, "attempts", j.Attempts, "err", err)
	} else {
		q.log.Warn("job attempt failed; will retry", "job", j.ID, "kind", j.Kind, "attempt", j.Attempts, "err", err)
	}
}

// complete marks finished jobs completed in batches: one statement for up
// to 200 jobs, CompleteEvery after the first of them finished. The timer
// runs only while a batch waits: an idle queue does not wake. A batch that
// cannot be recorded leaves its jobs running; their leases expire and they
// run again (at least once).
func (q *Queue) complete() {
	defer q.completer.Done()
	var batch []int64
	t := time.NewTimer(time.Hour)
	t.Stop()
	var due <-chan time.Time // nil while no batch waits
	flush := func() {
		t.Stop()
		due = nil
		if len(batch) == 0 {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		q.flushes.Add(1)
		if err := q.store.complete(ctx, batch, q.id, q.cfg.Now()); err != nil {
			q.log.Warn("jobs: could not record completions; those jobs will run again", "jobs", len(batch), "err", err)
		}
		batch = batch[:0]
	}
	for {
		select {
		case id, ok := <-q.done:
			if !ok {
				flush()
				return
			}
			batch = append(batch, id)
			if len(batch) >= 200 {
				flush()
			} else if due == nil {
				t.Reset(q.cfg.CompleteEvery)
				due = t.C
			}
		case <-due:
			flush()
		}
	}
}

// maintain renews this instance's leases, returns expired ones (their
// worker died) to the queue, and purges old finished jobs.
func (q *Queue) maintain(ctx context.Context) {
	defer q.wg.Done()
	t := time.NewTicker(q.cfg.LeaseDuration / 3)
	defer t.Stop()
	lastPurge := time.Time{}
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := q.cfg.Now()
		if err := q.store.heartbeat(ctx, q.id, now.Add(q.cfg.LeaseDuration), now); err != nil {
			q.log.Warn("jobs: heartbeat failed", "err", err)
		}
		expired, err := q.store.expired(ctx, now)
		if err != nil {
			q.log.Warn("jobs: looking for expired leases failed", "err", err)
		}
		for _, j := range expired {
			cause := errors.New("lease expired: the worker running it stopped (crash, kill or lost database)")
			if state, err := q.store.fail(ctx, j, "", cause, false, now); err == nil {
				q.log.Warn("jobs: rescued a job whose worker died", "job", j.ID, "kind", j.Kind, "now", state)
				q.poke()
			}
		}
		if now.Sub(lastPurge) > 10*time.Minute {
			lastPurge = now
			if n, err := q.store.purge(ctx, now, q.cfg.Retention); err == nil && n > 0 {
				q.log.Info("jobs: purged finished jobs", "count", n)
			}
		}
	}
}

// Stats are this instance's counters and the queue's depth.
type Stats struct {
	Workers   int     `json:"workers"`
	Busy      int64   `json:"busy"`
	Processed int64   `json:"processed"`
	Failed    int64   `json:"failed"`
	Died      int64   `json:"died"`
	Pending   int64   `json:"pending"` // available, due or not
	Due       int64   `json:"due"`     // available and due now (run_at has come): what workers have to do
	Running   int64   `json:"running"`
	Dead      int64   `json:"dead"`
	Depth     []Depth `json:"depth"`
}

// Stats reads the depth (cached for two seconds: health polls it).
func (q *Queue) Stats(ctx context.Context) Stats {
	q.depthMu.Lock()
	stale := time.Since(q.depthAt) > 2*time.Second
	q.depthMu.Unlock()
	// The query runs outside the lock: while the database hangs, callers
	// (health) get the last figures instead of queueing behind it.
	if stale && q.depthReading.CompareAndSwap(false, true) {
		if d, err := q.store.depth(ctx, time.Now()); err == nil {
			q.depthMu.Lock()
			q.depth, q.depthAt = d, time.Now()
			q.depthMu.Unlock()
		}
		q.depthReading.Store(false)
	}
	q.depthMu.Lock()
	depth := q.depth
	q.depthMu.Unlock()
	s := Stats{Workers: q.cfg.Workers, Busy: q.busy.Load(), Processed: q.processed.Load(), Failed: q.failed.Load(), Died: q.died.Load(), Depth: depth}
	for _, d := range depth {
		switch d.State {
		case Available:
			s.Pending += d.Count
			s.Due += d.Due
		case Running:
			s.Running += d.Count
		case Dead:
			s.Dead += d.Count
		}
	}
	return s
}

// List pages jobs by state and kind, newest first (admin).
func (q *Queue) List(ctx context.Context, state, kind string, before int64, limit int) ([]Job, error) {
	if before <= 0 {
		before = 1<<63 - 1
	}
	return q.store.list(ctx, state, kind, before, limit)
}

// Get returns one job (admin).
func (q *Queue) Get(ctx context.Context, id int64) (Job, error) { return q.store.get(ctx, id) }

// Retry gives a dead or discarded job a fresh set of attempts, at once or
// when it was due if that is later.
func (q *Queue) Retry(ctx context.Context, id int64) error {
	err := q.store.setState(ctx, id, Available, q.cfg.Now(), Dead, Discarded)
	if err == nil {
		q.Notify(ctx)
	}
	return err
}

// Discard gives up on a waiting or dead job.
func (q *Queue) Discard(ctx context.Context, id int64) error {
	return q.store.setState(ctx, id, Discarded, q.cfg.Now(), Available, Dead)
}
