package sqlstore

import (
	"context"
	"database/sql"

	"github.com/plazahq/plaza/internal/gamification"
	"github.com/plazahq/plaza/internal/leaderboard"
	"github.com/plazahq/plaza/internal/sqldb"
)

// Snapshot implements leaderboard.Source in one statement, which both
// engines read from one consistent snapshot: every user's all-time sum and
// largest row id, then every user's sums per hour bucket from sinceHour on.
// It reads past the pool's per-call deadline (a large ledger takes
// longer), like the other tools that manage the handle themselves.
func (x *XP) Snapshot(ctx context.Context, sinceHour int64, each func(leaderboard.Agg) error) error {
	div := "/"
	if x.db.Dialect == sqldb.MySQL {
		div = "DIV"
	}
	hour := "created_at " + div + " 3600000"
	q := `SELECT user_id, 0, SUM(amount), MAX(id) FROM xp_events GROUP BY user_id
		UNION ALL
		SELECT user_id, ` + hour + `, SUM(amount), MAX(id) FROM xp_events WHERE created_at >= ? GROUP BY user_id, ` + hour
	return sqldb.QueryRows(ctx, x.db.Fresh().DB(), func(rows *sql.Rows) error {
		var a leaderboard.Agg
		if err := rows.Scan(&a.UserID, &a.Hour, &a.Amount, &a.MaxID); err != nil {
			return err
		}
		return each(a)
	}, q, sinceHour*3_600_000)
}

// totalsBatch is how many users one transaction of RebuildTotals checks.
const totalsBatch = 500

// RebuildTotals recomputes every user's xp and level from the ledger,
// reports the users whose stored figures differ and, when fix, stores the
// ledger's. Users are checked in batches, each in a transaction that
// locks its users' rows as AwardTx does, so an award running meanwhile is
// either wholly before or wholly after the check. progress, when set, is
// called after each batch with the users checked so far and the total.
func (x *XP) RebuildTotals(ctx context.Context, fix bool, progress func(done, total int)) (gamification.TotalsReport, error) {
	rep := gamification.TotalsReport{Drifted: []gamification.Drift{}, Fixed: fix}
	var total int
	if err := x.db.Fresh().QueryRow(ctx, []any{&total}, `SELECT COUNT(*) FROM users`); err != nil {
		return rep, err
	}
	for after := int64(0); ; {
		var batch, drifted []gamification.Drift
		err := x.db.Write().Tx(ctx, func(tx *sql.Tx) error {
			batch, drifted = nil, nil
			err := sqldb.QueryRows(ctx, tx, func(rows *sql.Rows) error {
				var d gamification.Drift
				if err := rows.Scan(&d.UserID, &d.StoredXP, &d.StoredLevel); err != nil {
					return err
				}
				batch = append(batch, d)
				return nil
			}, `SELECT id, xp, level FROM users WHERE id > ? ORDER BY id LIMIT ?`+forUpdate(x.db), after, totalsBatch)
			if err != nil || len(batch) == 0 {
				return err
			}
			sums := map[int64]int64{}
			err = sqldb.QueryRows(ctx, tx, func(rows *sql.Rows) error {
				var id, sum int64
				if err := rows.Scan(&id, &sum); err != nil {
					return err
				}
				sums[id] = sum
				return nil
			}, `SELECT user_id, SUM(amount) FROM xp_events WHERE user_id > ? AND user_id <= ? GROUP BY user_id`, after, batch[len(batch)-1].UserID)
			if err != nil {
				return err
			}
			for _, d := range batch {
				d.LedgerXP = sums[d.UserID]
				d.Level = x.levels.For(d.LedgerXP)
				if d.LedgerXP == d.StoredXP && d.Level == d.StoredLevel {
					continue
				}
				drifted = append(drifted, d)
				if fix {
					if _, err := tx.ExecContext(ctx, `UPDATE users SET xp = ?, level = ? WHERE id = ?`, d.LedgerXP, d.Level, d.UserID); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			return rep, err
		}
		// Only a committed batch counts (a deadlock retry runs it again).
		if len(batch) == 0 {
			return rep, nil
		}
		after = batch[len(batch)-1].UserID
		rep.Drifted = append(rep.Drifted, drifted...)
		rep.Checked += len(batch)
		if progress != nil {
			progress(rep.Checked, max(total, rep.Checked))
		}
	}
}

// compile-time check: the ledger is the leaderboard's source.
var _ leaderboard.Source = (*XP)(nil)

// Levels are the thresholds the ledger's levels follow.
func (x *XP) Levels() gamification.Levels { return x.levels }
