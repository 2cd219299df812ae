package sqlstore

import (
	"context"
	"database/sql"
	"time"

	"github.com/plazahq/plaza/internal/audit"
	"github.com/plazahq/plaza/internal/sqldb"
)

// Audit appends to the hash-chained audit log. Callers append inside the
// transaction of the action they record (AppendTx), so the two commit or
// roll back together.
type Audit struct {
	db  *sqldb.DB
	now func() time.Time
	// VerifyBatch is how many rows Verify reads per query; 0 means 2000.
	VerifyBatch int
}

// NewAudit returns the audit log store; now nil means time.Now.
func NewAudit(db *sqldb.DB, now func() time.Time) *Audit {
	if now == nil {
		now = time.Now
	}
	return &Audit{db: db, now: now}
}

// Append records e in a transaction of its own.
func (a *Audit) Append(ctx context.Context, e audit.Entry) (audit.Record, error) {
	var rec audit.Record
	err := a.db.Write().Tx(ctx, func(tx *sql.Tx) error {
		var err error
		rec, err = a.AppendTx(ctx, tx, e)
		return err
	})
	return rec, err
}

// AppendTx records e in tx. It locks the chain's head row, so appends are
// serialised and each record links to the one committed before it.
func (a *Audit) AppendTx(ctx context.Context, tx *sql.Tx, e audit.Entry) (audit.Record, error) {
	if err := e.Validate(); err != nil {
		return audit.Record{}, err
	}
	before, err := audit.Marshal(e.Before)
	if err != nil {
		return audit.Record{}, err
	}
	after, err := audit.Marshal(e.After)
	if err != nil {
		return audit.Record{}, err
	}
	ip := e.Actor.IP
	if len(ip) > 64 {
		ip = ip[:64]
	}
	rec := audit.Record{
		At:         a.now().UTC().Truncate(time.Millisecond),
		Actor:      audit.Actor{ID: e.Actor.ID, IP: ip},
		Action:     e.Action,
		TargetKind: e.TargetKind,
		TargetID:   e.TargetID,
		Before:     before,
		After:      after,
		Reason:     e.Reason,
	}
	var last int64
	if err := tx.QueryRowContext(ctx, `SELECT last_id, hash FROM audit_head WHERE id = 1`+forUpdate(a.db)).Scan(&last, &rec.PrevHash); err != nil {
		return audit.Record{}, err
	}
	rec.ID = last + 1
	rec.Hash = audit.HashOf(rec)
	if _, err := tx.ExecContext(ctx, `INSERT INTO audit_log
		(id, at, actor_id, actor_ip, action, target_kind, target_id, before_json, after_json, reason, prev_hash, hash)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		rec.ID, ms(rec.At), rec.Actor.ID, rec.Actor.IP, rec.Action, rec.TargetKind, rec.TargetID,
		string(rec.Before), string(rec.After), rec.Reason, rec.PrevHash, rec.Hash); err != nil {
		return audit.Record{}, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE audit_head SET last_id = ?, hash = ? WHERE id = 1`, rec.ID, rec.Hash); err != nil {
		return audit.Record{}, err
	}
	return rec, nil
}
