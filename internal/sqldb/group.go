package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
)

// Group is a group committer on a pool: write transactions that arrive
// while another batch is running are gathered and run together in one
// database transaction, committed once, and each caller is answered after
// that commit. On SQLite's single writer (and on MySQL's fsync per commit)
// the commit and the transaction's setup are most of a small write's cost,
// so N writes in one transaction cost little more than one.
//
// Each call's fn runs inside its own SAVEPOINT of the shared transaction:
// an error from fn rolls back to the savepoint, which undoes that call's
// writes only, and is returned to that caller alone; the others go on.
// The calls of a batch run one after the other, so each sees the writes
// of those before it (a debit's conditional update decides on the balance
// the earlier calls left). A failure of the shared transaction itself (a
// deadlock that outlives the pool's retries, a lost connection, a failed
// commit) runs every call of the batch again in a transaction of its own,
// so one call can never make another fail.
//
// One batch runs at a time unless SetRunners allows more: on MySQL/MariaDB
// several batches may then run at once, each in a transaction on a
// connection of its own (a batch spends most of its time waiting for
// round trips and row locks, not the engine, and MariaDB shares one log
// flush among the commits that arrive together). Batches that write the
// same rows wait on each other's row locks, as the batches of two
// instances always have; calls that lock several rows must do so in one
// order (SetBegin) or be ready to be a deadlock's victim. SQLite has one
// writer: more runners only wait for it.
//
// fn must use only tx, and must be safe to run again (as for Pool.Tx).
// Calls whose context carries a TxHook bypass the group (they run in
// Pool.Tx), since the hook belongs to one call's transaction.
type Group struct {
	pool *Pool
	max  int
	// runners bounds the batches running at once (SetRunners).
	runners int
	// prepared: the savepoint statements run through the pool's prepared
	// statements (SQLite, where parsing them is most of their cost).
	prepared bool
	// replace: each call's SAVEPOINT replaces the one before instead of
	// being RELEASEd after the call (MySQL, where every statement is a
	// round trip and a savepoint of a name already set replaces it).
	replace bool

	// begin runs first in every transaction of the group (SetBegin).
	begin func(tx *sql.Tx, calls []context.Context) error

	mu      sync.Mutex
	pending []*groupCall
	loops   int // loops started and not yet returned (at most runners)
	busy    int // of those, loops running a batch

	batches atomic.Int64
	calls   atomic.Int64
}

type groupCall struct {
	ctx  context.Context
	fn   func(tx *sql.Tx, c *Call) error
	lazy bool // TxLazy: no savepoint until the call asks (Call.Guard)
	err  error
	done chan struct{}
}

// A Call is one call's part of a shared transaction (TxLazy).
type Call struct {
	g      *Group
	tx     *sql.Tx
	shared bool // in a batch of several calls, under savepoints
	saved  bool // its savepoint is set
	wrote  bool // it wrote without one (Unguarded)
}

// Guard sets the savepoint a failure of the call rolls back to, once:
// call it before the first write the call may have to take back. In a
// transaction of its own (a lone call, or a call run again alone) the
// whole transaction rolls back instead, and Guard does nothing.
func (c *Call) Guard() error {
	if c == nil || !c.shared || c.saved {
		return nil
	}
	if _, err := c.g.exec(c.tx, `SAVEPOINT plaza_group`); err != nil {
		return err
	}
	c.saved = true
	return nil
}

// Unguarded records a write the call made without a savepoint (one that
// either happens whole or not at all, made only once the call can no
// longer be refused). Should the call fail after all, the shared
// transaction cannot take that write back alone: it is rolled back whole,
// and every call of the batch runs again alone.
func (c *Call) Unguarded() {
	if c != nil && !c.saved {
		c.wrote = true
	}
}

// Shared reports whether the call runs in a transaction shared with
// other calls.
func (c *Call) Shared() bool { return c != nil && c.shared }

// errUnguardedFailed fails a shared transaction whose call wrote without
// a savepoint and then failed.
var errUnguardedFailed = errors.New("sqldb: a call failed after a write without a savepoint")

// NewGroup returns a group committer on p; maxBatch bounds the calls of
// one transaction (a long batch holds the write lock longer).
func NewGroup(p *Pool, maxBatch int) *Group {
	if maxBatch <= 0 {
		maxBatch = 128
	}
	return &Group{pool: p, max: maxBatch, runners: 1}
}

// NewGroupOn returns a group committer on db's writer, tuned for its
// engine: on MySQL/MariaDB a call's savepoint is set over the previous
// call's instead of released (one round trip fewer per call; MySQL
// deletes a savepoint when one of the same name is set); on SQLite the
// savepoint statements are prepared once.
func NewGroupOn(db *DB, maxBatch int) *Group {
	g := NewGroup(db.Write(), maxBatch)
	g.replace = db.Dialect == MySQL
	g.prepared = db.Dialect == SQLite
	return g
}

// WriteGroup returns a group committer for a store's writes on db. On
// SQLite every caller gets the same one, made on the first call with
// maxBatch 128: the engine has one writer, so any two write transactions
// wait for each other anyway, and in one group a post, an achievement's
// award and a tip that arrive together share a commit instead of paying
// one each. On MySQL/MariaDB each caller gets a group of its own
// (NewGroupOn with maxBatch) to tune with SetRunners and SetBegin, which
// must not be called on SQLite's shared one.
func (d *DB) WriteGroup(maxBatch int) *Group {
	if d.Dialect != SQLite {
		return NewGroupOn(d, maxBatch)
	}
	d.writesOnce.Do(func() { d.writes = NewGroupOn(d, 128) })
	return d.writes
}

// SharedTx runs fn in a write transaction: on SQLite in the shared write
// group (WriteGroup), beside the posts, awards and tips that arrive with
// it, so that it pays no BEGIN and COMMIT of its own and never holds the
// one writer between the group's batches; on MySQL/MariaDB in a
// transaction of its own, where c is nil. fn follows TxLazy's rules
// (Call.Guard before a write that a later failure would leave half made).
func (d *DB) SharedTx(ctx context.Context, fn func(tx *sql.Tx, c *Call) error) error {
	if d.Dialect == SQLite {
		return d.WriteGroup(0).TxLazy(ctx, fn)
	}
	return d.Write().Tx(ctx, func(tx *sql.Tx) error { return fn(tx, nil) })
}

// SharedExec runs one write statement as SharedTx would run it (on MySQL
// without a transaction: one statement commits alone), through the
// writer's prepared statements.
func (d *DB) SharedExec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if d.Dialect != SQLite {
		return d.Write().ExecPrepared(ctx, query, args...)
	}
	var res sql.Result
	err := d.WriteGroup(0).TxLazy(ctx, func(tx *sql.Tx, _ *Call) error {
		var err error // one statement, whole or not at all: no savepoint
		res, err = d.Write().ExecTx(ctx, tx, query, args...)
		return err
	})
	return res, err
}

// SetRunners sets how many batches may run at once (at least one, the
// default), each holding a connection of the pool while it runs. A call
// that arrives while every runner is busy waits for the next batch; one
// that arrives while fewer are busy starts a batch at once. Set it before
// the group's first call.
func (g *Group) SetRunners(n int) { g.runners = max(n, 1) }

// SetBegin makes fn run first in every transaction of the group, shared
// or not, with the contexts of the calls it is about to run: a place to
// lock, in one order and in one statement, the rows the calls will write
// (so that two groups' batches never wait on each other in a circle), or
// to read what they will all need. An error fails the transaction. Set it
// before the group's first call.
func (g *Group) SetBegin(fn func(tx *sql.Tx, calls []context.Context) error) { g.begin = fn }

// GroupStats are a group's counts since it was made.
type GroupStats struct {
	Batches int64 // shared transactions run
	Calls   int64 // calls answered through them
}

// Stats returns the group's counts.
func (g *Group) Stats() GroupStats {
	return GroupStats{Batches: g.batches.Load(), Calls: g.calls.Load()}
}

// Tx runs fn in the next shared transaction and returns fn's error, or the
// transaction's, once that transaction has committed or failed.
func (g *Group) Tx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	return g.tx(ctx, func(tx *sql.Tx, _ *Call) error { return fn(tx) }, false)
}

// TxLazy is Tx for a call that sets its savepoint itself (Call.Guard),
// and only when it must: a call that may be refused before it writes
// anything, or whose first write happens whole or not at all, skips it
// (on MySQL one round trip of a few per call). When fn fails before
// calling Guard it must have written nothing, or have said so with
// Call.Unguarded.
func (g *Group) TxLazy(ctx context.Context, fn func(tx *sql.Tx, c *Call) error) error {
	return g.tx(ctx, fn, true)
}

func (g *Group) tx(ctx context.Context, fn func(tx *sql.Tx, c *Call) error, lazy bool) error {
	c := &groupCall{ctx: ctx, fn: fn, lazy: lazy, done: make(chan struct{})}
	if g.pool.hookFor(ctx) != nil {
		return g.alone(c)
	}
	if err := ctx.Err(); err != nil {
		return classify(err)
	}
	g.mu.Lock()
	g.pending = append(g.pending, c)
	// A loop that has not yet taken its batch will take this call; when
	// every loop is running a batch, another may start.
	lead := g.loops == g.busy && g.loops < g.runners
	if lead {
		g.loops++
	}
	g.mu.Unlock()
	if lead {
		go g.loop()
	}
	<-c.done
	return c.err
}

// alone runs one call in a transaction of its own.
func (g *Group) alone(c *groupCall) error {
	return g.pool.Tx(c.ctx, func(tx *sql.Tx) error {
		if g.begin != nil {
			if err := g.begin(tx, []context.Context{c.ctx}); err != nil {
				return err
			}
		}
		return c.fn(tx, &Call{g: g, tx: tx})
	})
}

// loop runs batches until no call waits. Calls that arrive while a batch
// runs form the next one: a lone caller pays no wait, a crowd shares
// commits.
//
// When a batch would hold one call, the loop first yields its processor
// once (runtime.Gosched): goroutines that are already runnable, such as
// requests on their way to the group, run until they block, which puts
// them in this batch rather than in a transaction each of their own. A
// transaction's BEGIN and COMMIT (on SQLite the WAL frames of every page
// it dirtied, pages the calls of a batch mostly share) cost more than its
// call; with nothing else runnable the yield returns at once, so a lone
// caller still waits for no one. Under a closed loop of 16 posting
// clients on 2 cores most batches held one post.
func (g *Group) loop() {
	yielded := false
	for {
		g.mu.Lock()
		n := min(len(g.pending), g.max)
		if n == 1 && !yielded {
			g.mu.Unlock()
			yielded = true
			runtime.Gosched()
			continue
		}
		yielded = false
		if n == 0 {
			g.loops--
			g.mu.Unlock()
			return
		}
		batch := g.pending[:n:n]
		g.pending = append([]*groupCall(nil), g.pending[n:]...)
		g.busy++
		g.mu.Unlock()
		g.run(batch)
		for _, c := range batch {
			close(c.done)
		}
		g.mu.Lock()
		g.busy--
		g.mu.Unlock()
	}
}

func (g *Group) run(batch []*groupCall) {
	g.batches.Add(1)
	g.calls.Add(int64(len(batch)))
	if len(batch) == 1 {
		batch[0].err = g.alone(batch[0])
		return
	}
	err := g.pool.Tx(context.Background(), func(tx *sql.Tx) error {
		hooks, _ := g.pool.afterCommit.Load(tx)
		if g.begin != nil {
			ctxs := make([]context.Context, len(batch))
			for i, c := range batch {
				ctxs[i] = c.ctx
			}
			if err := g.begin(tx, ctxs); err != nil {
				return err
			}
		}
		for _, c := range batch {
			c.err = nil
			if err := c.ctx.Err(); err != nil {
				c.err = classify(err) // the caller gave up before its turn: nothing of it runs
				continue
			}
			call := &Call{g: g, tx: tx, shared: true}
			if !c.lazy {
				if err := call.Guard(); err != nil {
					return err
				}
			}
			mark := hooks.(*commitHooks).len()
			if err := c.fn(tx, call); err != nil {
				c.err = err
				hooks.(*commitHooks).truncate(mark) // what a rolled-back call asked for never happened
				switch {
				case call.wrote:
					return errors.Join(errUnguardedFailed, err)
				case call.saved:
					if _, rerr := g.exec(tx, `ROLLBACK TO SAVEPOINT plaza_group`); rerr != nil {
						return errors.Join(rerr, err) // the transaction itself is lost (MySQL rolls a deadlock back whole)
					}
				}
			}
			if g.replace || !call.saved {
				continue // the next call's SAVEPOINT replaces this one
			}
			if _, err := g.exec(tx, `RELEASE SAVEPOINT plaza_group`); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil {
		return
	}
	// The shared transaction failed: nothing of it committed. Each call
	// runs again alone, so it gets its own answer.
	for _, c := range batch {
		if cerr := c.ctx.Err(); cerr != nil {
			c.err = classify(cerr)
			continue
		}
		c.err = g.alone(c)
	}
}

// exec runs one of the savepoint statements in tx.
func (g *Group) exec(tx *sql.Tx, query string) (sql.Result, error) {
	if g.prepared {
		return g.pool.ExecTx(context.Background(), tx, query)
	}
	return tx.Exec(query)
}

// hookMark is how many hooks of each kind a transaction had registered.
type hookMark struct{ after, before int }

func (h *commitHooks) len() hookMark {
	h.mu.Lock()
	defer h.mu.Unlock()
	return hookMark{len(h.fns), len(h.before)}
}

func (h *commitHooks) truncate(m hookMark) {
	h.mu.Lock()
	if m.after < len(h.fns) {
		h.fns = h.fns[:m.after]
	}
	if m.before < len(h.before) {
		h.before = h.before[:m.before]
	}
	h.mu.Unlock()
}
