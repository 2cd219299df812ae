package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"

	"github.com/plazahq/plaza/internal/audit"
	"github.com/plazahq/plaza/internal/sqldb"
)

// auditTarget says how to read the state of one kind of target for the
// log: the table, the columns worth recording (never secrets such as
// password hashes), and the column naming the target's owner, if any.
type auditTarget struct {
	table, cols, owner string
}

var auditTargets = map[string]auditTarget{
	"user":            {"users", "id, username, role, banned_at", ""},
	"job":             {"jobs", "id, kind, state, attempts, max_attempts, run_at, finished_at", ""},
	"contact_message": {"contact_messages", "id, name, email, %READ%", ""},
	"channel":         {"channels", "id, slug, name, description, private", ""},
	"course":          {"courses", "id, slug, title, summary, cover_path, price_cents, currency, unlock_kind, unlock_level, unlock_at, published", ""},
	"module":          {"course_modules", "id, course_id, title, position", ""},
	"lesson":          {"course_lessons", "id, course_id, module_id, title, body_format, body_source, video_url, duration_sec, preview, drip_days, position", ""},
	"message":         {"messages", "id, channel_id, sender_id, body, edited_at, deleted_at", "sender_id"},
	"mix":             {"mixes", "id, creator_id, title, genres, duration_sec, audio_path, cover_path", "creator_id"},
	"event":           {"events", "id, owner_id, title, description, location, stream_url, starts_at, ends_at, capacity", "owner_id"},
}

// AuditKinds lists the target kinds Hook can read.
func AuditKinds() []string {
	out := make([]string, 0, len(auditTargets)+1)
	for k := range auditTargets {
		out = append(out, k)
	}
	return append(out, "channel_member")
}

// Hook returns a transaction hook (sqldb.WithTxHook) that records h in the
// first write transaction of the action it is given to: the target's state
// is read first in that transaction, then again after the action's own
// statements, and the record appended before the commit. A failed action
// rolls the record back with it.
func (a *Audit) Hook(h audit.Spec) *sqldb.TxHook {
	e := h.Entry
	var before any
	var maxID int64
	skip := false
	return &sqldb.TxHook{
		Before: func(ctx context.Context, tx *sql.Tx) error {
			skip = false
			if h.Create {
				t, ok := auditTargets[e.TargetKind]
				if !ok {
					return fmt.Errorf("audit: no target kind %q", e.TargetKind)
				}
				return tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM `+t.table).Scan(&maxID)
			}
			st, owner, err := a.snapshot(ctx, tx, e.TargetKind, e.TargetID, h.Member)
			if err != nil {
				return err
			}
			before = st
			skip = h.NotOwner && owner == e.Actor.ID
			return nil
		},
		After: func(ctx context.Context, tx *sql.Tx) error {
			if skip {
				return nil
			}
			rec := e
			if h.Create {
				t := auditTargets[e.TargetKind]
				var ids []int64
				err := sqldb.QueryRows(ctx, tx, func(rows *sql.Rows) error {
					var id int64
					err := rows.Scan(&id)
					ids = append(ids, id)
					return err
				}, `SELECT id FROM `+t.table+` WHERE id > ? ORDER BY id LIMIT 2`, maxID)
				if err != nil {
					return err
				}
				if len(ids) != 1 {
					return fmt.Errorf("audit: %s: the action added %d %s rows, want 1", e.Action, len(ids), t.table)
				}
				rec.TargetID = ids[0]
			}
			after, _, err := a.snapshot(ctx, tx, rec.TargetKind, rec.TargetID, h.Member)
			if err != nil {
				return err
			}
			rec.Before, rec.After = before, after
			_, err = a.AppendTx(ctx, tx, rec)
			return err
		},
	}
}

// snapshot reads a target's recorded state in tx (nil when it does not
// exist) and its owner (0 for none).
func (a *Audit) snapshot(ctx context.Context, tx *sql.Tx, kind string, id, member int64) (any, int64, error) {
	if kind == "channel_member" {
		var n int
		err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM channel_members WHERE channel_id = ? AND user_id = ?`, id, member).Scan(&n)
		return map[string]any{"userId": member, "member": n > 0}, 0, err
	}
	t, ok := auditTargets[kind]
	if !ok {
		return nil, 0, fmt.Errorf("audit: no target kind %q", kind)
	}
	cols := t.cols
	if a.db.Dialect == sqldb.MySQL {
		cols = strings.ReplaceAll(cols, "%READ%", "`read`")
	} else {
		cols = strings.ReplaceAll(cols, "%READ%", `"read"`)
	}
	rows, err := tx.QueryContext(ctx, `SELECT `+cols+` FROM `+t.table+` WHERE id = ?`+forUpdate(a.db), id)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	types, err := rows.ColumnTypes()
	if err != nil {
		return nil, 0, err
	}
	if !rows.Next() {
		return nil, 0, rows.Err()
	}
	vals := make([]any, len(types))
	ptrs := make([]any, len(types))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := rows.Scan(ptrs...); err != nil {
		return nil, 0, err
	}
	out := make(map[string]any, len(types))
	var owner int64
	for i, ct := range types {
		v := vals[i]
		if b, ok := v.([]byte); ok {
			v = string(b)
		}
		if s, ok := v.(string); ok && strings.Contains(strings.ToUpper(ct.DatabaseTypeName()), "INT") {
			if n, err := strconv.ParseInt(s, 10, 64); err == nil {
				v = n
			}
		}
		name := strings.Trim(ct.Name(), "`\"")
		if name == t.owner {
			owner, _ = v.(int64)
		}
		out[camel(name)] = v
	}
	return out, owner, rows.Err()
}

// camel turns a column name into the API's field style: run_at -> runAt.
func camel(s string) string {
	parts := strings.Split(s, "_")
	for i := 1; i < len(parts); i++ {
		if parts[i] != "" {
			parts[i] = strings.ToUpper(parts[i][:1]) + parts[i][1:]
		}
	}
	return strings.Join(parts, "")
}
