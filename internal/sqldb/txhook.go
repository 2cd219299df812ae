package sqldb

import (
	"context"
	"database/sql"
	"sync/atomic"
)

// TxHook adds work to the first write transaction that runs with a context
// carrying it (WithTxHook): Before runs first in that transaction, After
// once its own work succeeded, just before the commit. An error from either
// rolls the whole transaction back. It is how a caller records something
// in the same transaction as an action it asks a store for (the audit log)
// without every store method taking a transaction argument.
//
// Only the writer pool runs hooks, and a hook runs in one transaction only:
// the first that commits (a deadlock retry runs it again, in the retry).
type TxHook struct {
	Before func(ctx context.Context, tx *sql.Tx) error
	After  func(ctx context.Context, tx *sql.Tx) error
	ran    atomic.Bool
}

type txHookKey struct{}

// WithTxHook returns ctx carrying h.
func WithTxHook(ctx context.Context, h *TxHook) context.Context {
	return context.WithValue(ctx, txHookKey{}, h)
}

// Ran reports whether h ran in a transaction that committed.
func (h *TxHook) Ran() bool { return h.ran.Load() }

// hookFor returns the hook a transaction on p must run, or nil.
func (p *Pool) hookFor(ctx context.Context) *TxHook {
	if !p.hooks {
		return nil
	}
	h, _ := ctx.Value(txHookKey{}).(*TxHook)
	if h == nil || h.ran.Load() {
		return nil
	}
	return h
}
