package sqldb

import (
	"context"
	"database/sql"
	"errors"
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
// fn must use only tx, and must be safe to run again (as for Pool.Tx).
// Calls whose context carries a TxHook bypass the group (they run in
// Pool.Tx), since the hook belongs to one call's transaction.
type Group struct {
	pool *Pool
	max  int
	// prepared: the savepoint statements run through the pool's prepared
	// statements (SQLite, where parsing them is most of their cost).
	prepared bool
	// replace: each call's SAVEPOINT replaces the one before instead of
	// being RELEASEd after the call (MySQL, where every statement is a
	// round trip and a savepoint of a name already set replaces it).
	replace bool

	mu      sync.Mutex
	pending []*groupCall
	running bool

	batches atomic.Int64
	calls   atomic.Int64
}

type groupCall struct {
	ctx  context.Context
	fn   func(tx *sql.Tx) error
	err  error
	done chan struct{}
}

// NewGroup returns a group committer on p; maxBatch bounds the calls of
// one transaction (a long batch holds the write lock longer).
func NewGroup(p *Pool, maxBatch int) *Group {
	if maxBatch <= 0 {
		maxBatch = 128
	}
	return &Group{pool: p, max: maxBatch}
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
	if g.pool.hookFor(ctx) != nil {
		return g.pool.Tx(ctx, fn)
	}
	if err := ctx.Err(); err != nil {
		return classify(err)
	}
	c := &groupCall{ctx: ctx, fn: fn, done: make(chan struct{})}
	g.mu.Lock()
	g.pending = append(g.pending, c)
	lead := !g.running
	g.running = true
	g.mu.Unlock()
	if lead {
		go g.loop()
	}
	<-c.done
	return c.err
}

// loop runs batches until no call waits. Calls that arrive while a batch
// runs form the next one: a lone caller pays no wait, a crowd shares
// commits.
func (g *Group) loop() {
	for {
		g.mu.Lock()
		n := min(len(g.pending), g.max)
		if n == 0 {
			g.running = false
			g.mu.Unlock()
			return
		}
		batch := g.pending[:n:n]
		g.pending = append([]*groupCall(nil), g.pending[n:]...)
		g.mu.Unlock()
		g.run(batch)
		for _, c := range batch {
			close(c.done)
		}
	}
}

func (g *Group) run(batch []*groupCall) {
	g.batches.Add(1)
	g.calls.Add(int64(len(batch)))
	if len(batch) == 1 {
		c := batch[0]
		c.err = g.pool.Tx(c.ctx, c.fn)
		return
	}
	err := g.pool.Tx(context.Background(), func(tx *sql.Tx) error {
		hooks, _ := g.pool.afterCommit.Load(tx)
		for _, c := range batch {
			c.err = nil
			if err := c.ctx.Err(); err != nil {
				c.err = classify(err) // the caller gave up before its turn: nothing of it runs
				continue
			}
			if _, err := g.exec(tx, `SAVEPOINT plaza_group`); err != nil {
				return err
			}
			mark := hooks.(*commitHooks).len()
			if err := c.fn(tx); err != nil {
				c.err = err
				hooks.(*commitHooks).truncate(mark) // what a rolled-back call asked for never happened
				if _, rerr := g.exec(tx, `ROLLBACK TO SAVEPOINT plaza_group`); rerr != nil {
					return errors.Join(rerr, err) // the transaction itself is lost (MySQL rolls a deadlock back whole)
				}
			}
			if g.replace {
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
		c.err = g.pool.Tx(c.ctx, c.fn)
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
