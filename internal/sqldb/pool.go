package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/plazahq/plaza/internal/apperr"
)

// ErrOverloaded is returned when DB_QUEUE_LIMIT requests already wait for a
// connection: the caller answers 503 with Retry-After instead of piling up.
var ErrOverloaded = &apperr.Error{
	Code:       apperr.Overloaded,
	Message:    "the server is busy; retry shortly",
	RetryAfter: time.Second,
}

// Pool is one *sql.DB behind a gate of the same size as its connection limit.
// database/sql has no bound on how many callers wait for a connection; the
// gate adds one (queueLimit) and counts waiters and wait time, so overload is
// refused early instead of turning into timeouts for everybody.
type Pool struct {
	name       string
	db         *sql.DB
	gate       chan struct{}
	queueLimit int64
	timeout    time.Duration // bound on every call, waiting included; 0: none
	hooks      bool          // the writer: runs a context's TxHook (txhook.go)

	afterCommit sync.Map // *sql.Tx of a running Tx -> *commitHooks

	stmts     sync.Map // query -> *sql.Stmt, for QueryPrepared, ExecTx, QueryRowTx
	preparing sync.Map // query -> true while txStmt prepares it in the background

	waiting   atomic.Int64
	queries   atomic.Int64 // statements and transactions run
	waitCount atomic.Int64
	waitNanos atomic.Int64
	refused   atomic.Int64
	deadlocks atomic.Int64 // transactions the database rolled back as a deadlock's victim
}

func newPool(name string, db *sql.DB, size, queueLimit int, timeout time.Duration) *Pool {
	db.SetMaxOpenConns(size)
	db.SetMaxIdleConns(size)
	return &Pool{name: name, db: db, gate: make(chan struct{}, size), queueLimit: int64(queueLimit), timeout: timeout}
}

// bound gives a call the pool's deadline (DB_QUERY_TIMEOUT), unless the
// caller's is sooner. A database that stops answering then costs each
// request that deadline and a 503, not the driver's read timeout, and the
// connection the call held is closed by the driver and replaced.
func (p *Pool) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	if p.timeout <= 0 {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, p.timeout)
}

// DB returns the underlying handle for tools that manage it themselves
// (migrations). Request paths go through the gated methods.
func (p *Pool) DB() *sql.DB { return p.db }

func (p *Pool) acquire(ctx context.Context) error {
	p.queries.Add(1)
	select {
	case p.gate <- struct{}{}:
		return nil
	default:
	}
	if n := p.waiting.Add(1); p.queueLimit > 0 && n > p.queueLimit {
		p.waiting.Add(-1)
		p.refused.Add(1)
		return ErrOverloaded
	}
	start := time.Now()
	defer func() {
		p.waiting.Add(-1)
		p.waitCount.Add(1)
		p.waitNanos.Add(int64(time.Since(start)))
	}()
	select {
	case p.gate <- struct{}{}:
		return nil
	case <-ctx.Done():
		return classify(ctx.Err())
	}
}

func (p *Pool) release() { <-p.gate }

var errNothingChanged = errors.New("sqldb: the statement changed no rows")

// Exec runs a statement that returns no rows.
func (p *Pool) Exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if p.hookFor(ctx) != nil {
		// The statement is the action a TxHook records: run it in a
		// transaction with the hook. A statement that changed nothing did
		// nothing to record: roll it back, and the hook waits for the next.
		var res sql.Result
		err := p.Tx(ctx, func(tx *sql.Tx) error {
			var err error
			if res, err = tx.ExecContext(ctx, query, args...); err != nil {
				return err
			}
			if n, err := res.RowsAffected(); err == nil && n == 0 {
				return errNothingChanged
			}
			return nil
		})
		if errors.Is(err, errNothingChanged) {
			err = nil
		}
		return res, err
	}
	ctx, cancel := p.bound(ctx)
	defer cancel()
	if err := p.acquire(ctx); err != nil {
		return nil, err
	}
	defer p.release()
	res, err := p.db.ExecContext(ctx, query, args...)
	return res, classify(err)
}

// ExecPrepared is Exec for a hot statement with a fixed text, through the
// statement the pool keeps prepared (as QueryPrepared). With a TxHook on
// ctx it is Exec (the hook's transaction runs the text).
func (p *Pool) ExecPrepared(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if p.hookFor(ctx) != nil {
		return p.Exec(ctx, query, args...)
	}
	ctx, cancel := p.bound(ctx)
	defer cancel()
	if err := p.acquire(ctx); err != nil {
		return nil, err
	}
	defer p.release()
	st, err := p.stmt(ctx, query)
	if err != nil {
		return nil, classify(err)
	}
	res, err := st.ExecContext(ctx, args...)
	return res, classify(err)
}

// QueryRow runs a query expected to return at most one row and scans it into
// dest. It returns sql.ErrNoRows when there is none.
func (p *Pool) QueryRow(ctx context.Context, dest []any, query string, args ...any) error {
	ctx, cancel := p.bound(ctx)
	defer cancel()
	if err := p.acquire(ctx); err != nil {
		return err
	}
	defer p.release()
	return classify(p.db.QueryRowContext(ctx, query, args...).Scan(dest...))
}

// Query runs a query and calls each for every row; rows are closed after.
func (p *Pool) Query(ctx context.Context, each func(*sql.Rows) error, query string, args ...any) error {
	ctx, cancel := p.bound(ctx)
	defer cancel()
	if err := p.acquire(ctx); err != nil {
		return err
	}
	defer p.release()
	return classify(queryRows(ctx, p.db, each, query, args...))
}

// QueryPrepared is Query for a hot query with a fixed text: the statement
// is prepared once per pool, and database/sql keeps it prepared on each
// connection that runs it, so a call does not parse and plan the SQL
// again (on SQLite a third of a small read's time). Only for a few
// constant queries: every distinct text stays prepared until Close.
func (p *Pool) QueryPrepared(ctx context.Context, each func(*sql.Rows) error, query string, args ...any) error {
	ctx, cancel := p.bound(ctx)
	defer cancel()
	if err := p.acquire(ctx); err != nil {
		return err
	}
	defer p.release()
	st, err := p.stmt(ctx, query)
	if err != nil {
		return classify(err)
	}
	return classify(eachRow(st.QueryContext(ctx, args...))(each))
}

// QueryRowPrepared is QueryRow for a hot query with a fixed text, through
// the statement the pool keeps prepared (as QueryPrepared). It returns
// sql.ErrNoRows when there is no row.
func (p *Pool) QueryRowPrepared(ctx context.Context, dest []any, query string, args ...any) error {
	ctx, cancel := p.bound(ctx)
	defer cancel()
	if err := p.acquire(ctx); err != nil {
		return err
	}
	defer p.release()
	st, err := p.stmt(ctx, query)
	if err != nil {
		return classify(err)
	}
	return classify(st.QueryRowContext(ctx, args...).Scan(dest...))
}

// ExecTx is tx.ExecContext for a hot statement with a fixed text, run in
// tx, a transaction of this pool: like QueryPrepared it uses the statement
// the pool keeps prepared, so the SQL is not parsed and planned again.
func (p *Pool) ExecTx(ctx context.Context, tx *sql.Tx, query string, args ...any) (sql.Result, error) {
	st := p.txStmt(ctx, tx, query)
	if st == nil {
		return tx.ExecContext(ctx, query, args...)
	}
	return st.ExecContext(ctx, args...)
}

// QueryRowTx is tx.QueryRowContext(...).Scan(dest...) through a prepared
// statement, as ExecTx. It returns sql.ErrNoRows when there is no row.
func (p *Pool) QueryRowTx(ctx context.Context, tx *sql.Tx, dest []any, query string, args ...any) error {
	st := p.txStmt(ctx, tx, query)
	if st == nil {
		return tx.QueryRowContext(ctx, query, args...).Scan(dest...)
	}
	return st.QueryRowContext(ctx, args...).Scan(dest...)
}

// QueryTx is QueryRows in tx through a prepared statement, as ExecTx:
// each is called for every row, and rows are closed after.
func (p *Pool) QueryTx(ctx context.Context, tx *sql.Tx, each func(*sql.Rows) error, query string, args ...any) error {
	st := p.txStmt(ctx, tx, query)
	if st == nil {
		return classify(queryRows(ctx, tx, each, query, args...))
	}
	return classify(eachRow(st.QueryContext(ctx, args...))(each))
}

// txStmt returns the pool's prepared statement for query bound to tx
// (database/sql reuses it on tx's connection when it is prepared there
// already), or nil the first time: preparing on the pool needs a
// connection, and the one tx holds may be the pool's only one (SQLite's
// writer), so it is prepared in the background meanwhile and the caller
// runs the text unprepared this once.
func (p *Pool) txStmt(ctx context.Context, tx *sql.Tx, query string) *sql.Stmt {
	if st, ok := p.stmts.Load(query); ok {
		return tx.StmtContext(ctx, st.(*sql.Stmt))
	}
	if _, busy := p.preparing.LoadOrStore(query, true); !busy {
		go func() {
			defer p.preparing.Delete(query)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			p.stmt(ctx, query) //nolint:errcheck // a failure leaves it unprepared: the next call tries again
		}()
	}
	return nil
}

func (p *Pool) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if st, ok := p.stmts.Load(query); ok {
		return st.(*sql.Stmt), nil
	}
	st, err := p.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if old, loaded := p.stmts.LoadOrStore(query, st); loaded {
		st.Close()
		return old.(*sql.Stmt), nil
	}
	return st, nil
}

func (p *Pool) closeStmts() {
	p.stmts.Range(func(k, v any) bool {
		v.(*sql.Stmt).Close()
		p.stmts.Delete(k)
		return true
	})
}

// Tx runs fn in a transaction, committing if fn returns nil. The gate slot is
// held for the whole transaction, so fn must use tx and never the pool. A
// transaction the database chose as a deadlock victim (rolled back whole)
// is run again, up to three times in all, so fn must leave nothing behind
// outside tx that a second run would duplicate. The pool's deadline bounds
// the whole transaction, retries included.
func (p *Pool) Tx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	ctx, cancel := p.bound(ctx)
	defer cancel()
	for attempt := 1; ; attempt++ {
		err := p.tx(ctx, fn)
		if !isDeadlock(err) {
			return err
		}
		p.deadlocks.Add(1)
		if attempt == 3 || ctx.Err() != nil {
			return err
		}
		// Back off without holding a slot others could use meanwhile.
		time.Sleep(time.Duration(attempt*5+rand.IntN(10)) * time.Millisecond)
	}
}

func (p *Pool) tx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	if err := p.acquire(ctx); err != nil {
		return err
	}
	defer p.release()
	tx, err := p.db.BeginTx(ctx, nil)
	if err != nil {
		return classify(err)
	}
	defer tx.Rollback() //nolint:errcheck // after Commit it is a no-op
	commits := &commitHooks{}
	p.afterCommit.Store(tx, commits)
	defer p.afterCommit.Delete(tx)
	hook := p.hookFor(ctx)
	if hook != nil && hook.Before != nil {
		if err := hook.Before(ctx, tx); err != nil {
			return txErr(ctx, err)
		}
	}
	if err := fn(tx); err != nil {
		return txErr(ctx, err)
	}
	if err := commits.runBefore(tx); err != nil {
		return txErr(ctx, err)
	}
	if hook != nil && hook.After != nil {
		if err := hook.After(ctx, tx); err != nil {
			return txErr(ctx, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return txErr(ctx, err)
	}
	if hook != nil {
		hook.ran.Store(true)
	}
	commits.run()
	return nil
}

// commitHooks are what a transaction asked to run once it commits, what
// it asked to run just before (BeforeCommit), and its values (TxValue).
type commitHooks struct {
	mu     sync.Mutex
	fns    []func()
	before []func(tx *sql.Tx) error
	values map[any]any
}

func (h *commitHooks) runBefore(tx *sql.Tx) error {
	for i := 0; ; i++ {
		h.mu.Lock()
		if i >= len(h.before) {
			h.mu.Unlock()
			return nil
		}
		fn := h.before[i]
		h.mu.Unlock()
		if err := fn(tx); err != nil {
			return err
		}
	}
}

func (h *commitHooks) add(fn func()) {
	h.mu.Lock()
	h.fns = append(h.fns, fn)
	h.mu.Unlock()
}

func (h *commitHooks) run() {
	h.mu.Lock()
	fns := h.fns
	h.fns = nil
	h.mu.Unlock()
	for _, fn := range fns {
		fn()
	}
}

// ErrNotPoolTx is returned by AfterCommit for a transaction that Tx did
// not start: nothing would run its hooks.
var ErrNotPoolTx = errors.New("sqldb: after-commit hook on a transaction not run by Pool.Tx")

// AfterCommit registers fn to run once tx, a transaction running in
// Tx, has committed: in the goroutine that called Tx, after the commit
// and before Tx returns, in the order registered. A transaction that
// rolls back (an error, a deadlock retry, a cancelled context) never
// runs its hooks, so what a hook announces has been committed. Hooks
// must not block for long: the caller of Tx waits for them.
func (p *Pool) AfterCommit(tx *sql.Tx, fn func()) error {
	h, ok := p.afterCommit.Load(tx)
	if !ok {
		return ErrNotPoolTx
	}
	h.(*commitHooks).add(fn)
	return nil
}

// BeforeCommit registers fn to run in tx, a transaction running in Tx,
// once the transaction's own work has succeeded and just before it
// commits, in the order registered: a way to write at once what many
// calls of a group-commit batch gathered (one multi-row INSERT instead of
// one per call). An error from fn rolls the whole transaction back and is
// Tx's error (a Group then runs each of the batch's calls again alone).
// Inside a Group, what a call that fails registered is dropped with its
// writes.
func (p *Pool) BeforeCommit(tx *sql.Tx, fn func(tx *sql.Tx) error) error {
	h, ok := p.afterCommit.Load(tx)
	if !ok {
		return ErrNotPoolTx
	}
	c := h.(*commitHooks)
	c.mu.Lock()
	c.before = append(c.before, fn)
	c.mu.Unlock()
	return nil
}

// TxValue returns the value kept under key for tx, a transaction running
// in Tx, making it with mk on the first call: state that lives exactly as
// long as one transaction (its retry or a Group's rerun of a call alone is
// another transaction, with fresh values). ok is false, and nothing is
// kept, when Tx did not start tx.
func (p *Pool) TxValue(tx *sql.Tx, key any, mk func() any) (v any, ok bool) {
	h, found := p.afterCommit.Load(tx)
	if !found {
		return nil, false
	}
	c := h.(*commitHooks)
	c.mu.Lock()
	defer c.mu.Unlock()
	if v, ok := c.values[key]; ok {
		return v, true
	}
	if c.values == nil {
		c.values = map[any]any{}
	}
	v = mk()
	c.values[key] = v
	return v, true
}

// txErr reports why a transaction failed. When its context ended (the
// client went away, a deadline passed), database/sql rolls the transaction
// back by itself and later calls fail with sql.ErrTxDone; the cause is the
// context, and saying so keeps a hung-up client from counting as a server
// error.
func txErr(ctx context.Context, err error) error {
	if err != nil && ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
		err = fmt.Errorf("%w: transaction rolled back: %w", ctx.Err(), err)
	}
	return classify(err)
}

// Querier is what *sql.DB and *sql.Tx have in common.
type Querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// QueryRows runs a query on q (typically a transaction) and calls each per row.
func QueryRows(ctx context.Context, q Querier, each func(*sql.Rows) error, query string, args ...any) error {
	return classify(queryRows(ctx, q, each, query, args...))
}

func queryRows(ctx context.Context, q Querier, each func(*sql.Rows) error, query string, args ...any) error {
	return eachRow(q.QueryContext(ctx, query, args...))(each)
}

// eachRow takes a query's answer and returns the loop over its rows: each
// is called for every row, and the rows are closed after.
func eachRow(rows *sql.Rows, err error) func(each func(*sql.Rows) error) error {
	return func(each func(*sql.Rows) error) error {
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			if err := each(rows); err != nil {
				return err
			}
		}
		return rows.Err()
	}
}

// PoolStats is a snapshot of one pool for health and metrics.
type PoolStats struct {
	Name      string        `json:"name"`
	MaxOpen   int           `json:"maxOpen"`
	Open      int           `json:"open"`
	InUse     int           `json:"inUse"`
	Idle      int           `json:"idle"`
	Waiting   int64         `json:"waiting"`
	Queries   int64         `json:"queries"`
	WaitCount int64         `json:"waitCount"`
	WaitTime  time.Duration `json:"waitTimeNs"`
	Refused   int64         `json:"refused"`
	// Deadlocks: transactions of Tx chosen as a deadlock's victim (each
	// run again, up to three times in all).
	Deadlocks int64 `json:"deadlocks"`
}

// Stats returns the pool's current figures.
func (p *Pool) Stats() PoolStats {
	s := p.db.Stats()
	return PoolStats{
		Name:      p.name,
		MaxOpen:   s.MaxOpenConnections,
		Open:      s.OpenConnections,
		InUse:     len(p.gate),
		Idle:      s.Idle,
		Waiting:   p.waiting.Load(),
		Queries:   p.queries.Load(),
		WaitCount: p.waitCount.Load(),
		WaitTime:  time.Duration(p.waitNanos.Load()),
		Refused:   p.refused.Load(),
		Deadlocks: p.deadlocks.Load(),
	}
}

// Exhausted reports whether every connection is in use and callers wait.
func (s PoolStats) Exhausted() bool { return s.InUse >= s.MaxOpen && s.Waiting > 0 }

// IsNotFound reports whether err means "no such row".
func IsNotFound(err error) bool { return errors.Is(err, sql.ErrNoRows) }
