package sqlstore

import (
	"context"
	"database/sql"
	"strconv"
	"strings"

	"github.com/plazahq/plaza/internal/audit"
)

const auditCols = `id, at, actor_id, actor_ip, action, target_kind, target_id, before_json, after_json, reason, prev_hash, hash`

func scanAudit(rows *sql.Rows) (audit.Record, error) {
	var r audit.Record
	var at int64
	var before, after string
	err := rows.Scan(&r.ID, &at, &r.Actor.ID, &r.Actor.IP, &r.Action, &r.TargetKind, &r.TargetID, &before, &after, &r.Reason, &r.PrevHash, &r.Hash)
	r.At = fromMS(at)
	r.Before, r.After = []byte(before), []byte(after)
	return r, err
}

// List pages the log newest first, filtered as f says.
func (a *Audit) List(ctx context.Context, f audit.Filter) ([]audit.Record, error) {
	var where []string
	var args []any
	if f.ActorID != 0 {
		where, args = append(where, "actor_id = ?"), append(args, f.ActorID)
	}
	if f.Action != "" {
		where, args = append(where, "action = ?"), append(args, f.Action)
	}
	if f.TargetKind != "" {
		where, args = append(where, "target_kind = ? AND target_id = ?"), append(args, f.TargetKind, f.TargetID)
	}
	if f.Before > 0 {
		where, args = append(where, "id < ?"), append(args, f.Before)
	}
	q := `SELECT ` + auditCols + ` FROM audit_log`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 50
	}
	q += ` ORDER BY id DESC LIMIT ` + strconv.Itoa(limit)
	out := []audit.Record{}
	err := a.db.Fresh().Query(ctx, func(rows *sql.Rows) error {
		r, err := scanAudit(rows)
		out = append(out, r)
		return err
	}, q, args...)
	return out, err
}

// Verify walks the whole chain in id order, VerifyBatch rows per query, so
// its memory does not grow with the log. It follows rows appended while it
// runs: it stops when the rows it has checked end exactly at the head.
func (a *Audit) Verify(ctx context.Context) (audit.Verification, error) {
	batch := a.VerifyBatch
	if batch <= 0 {
		batch = 2000
	}
	var v audit.Verification
	var c audit.Checker
	for {
		n := 0
		bad := false
		err := a.db.Fresh().Query(ctx, func(rows *sql.Rows) error {
			r, err := scanAudit(rows)
			if err != nil {
				return err
			}
			n++
			if p := c.Next(r); p != nil && !bad {
				bad, v.FirstBad = true, p
			}
			return nil
		}, `SELECT `+auditCols+` FROM audit_log WHERE id > ? ORDER BY id LIMIT `+strconv.Itoa(batch), c.LastID)
		if err != nil {
			return v, err
		}
		v.Rows = c.Rows
		if bad {
			return v, nil
		}
		if n == batch {
			continue
		}
		// The end of the rows: the head must name the last one. A head
		// ahead of it may be an append that committed meanwhile; look again.
		var headID int64
		var headHash string
		if err := a.db.Fresh().QueryRow(ctx, []any{&headID, &headHash}, `SELECT last_id, hash FROM audit_head WHERE id = 1`); err != nil {
			return v, err
		}
		if headID > c.LastID {
			var more int
			if err := a.db.Fresh().QueryRow(ctx, []any{&more}, `SELECT COUNT(*) FROM audit_log WHERE id > ?`, c.LastID); err != nil {
				return v, err
			}
			if more > 0 {
				continue
			}
		}
		v.FirstBad = c.Head(headID, headHash)
		v.OK = v.FirstBad == nil
		return v, nil
	}
}
