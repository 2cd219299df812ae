package sqlstore

import (
	"context"
	"database/sql"
	"strconv"
	"time"

	"github.com/plazahq/plaza/internal/analytics"
	"github.com/plazahq/plaza/internal/sqldb"
)

// Analytics implements analytics.Store.
type Analytics struct {
	db *sqldb.DB
}

var _ analytics.Store = (*Analytics)(nil)

// NewAnalytics returns the store on db.
func NewAnalytics(db *sqldb.DB) *Analytics { return &Analytics{db: db} }

// Rollup recomputes one day. Active users are those who signed in, were
// seen, or wrote anything that day.
func (s *Analytics) Rollup(ctx context.Context, day analytics.Day, from, to time.Time) error {
	f, t := ms(from), ms(to)
	return s.db.Write().Tx(ctx, func(tx *sql.Tx) error {
		var dau int64
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(DISTINCT uid) FROM (
				SELECT user_id AS uid FROM sessions WHERE last_seen_at >= ? AND last_seen_at < ?
				UNION SELECT sender_id FROM messages WHERE created_at >= ? AND created_at < ?
				UNION SELECT sender_id FROM thread_messages WHERE created_at >= ? AND created_at < ?
				UNION SELECT user_id FROM shouts WHERE created_at >= ? AND created_at < ?
			) active`, f, t, f, t, f, t, f, t).Scan(&dau); err != nil {
			return err
		}
		perChannel := map[int64]int64{}
		if err := sqldb.QueryRows(ctx, tx, func(rows *sql.Rows) error {
			var ch, n int64
			err := rows.Scan(&ch, &n)
			perChannel[ch] = n
			return err
		}, `SELECT channel_id, COUNT(*) FROM messages WHERE created_at >= ? AND created_at < ? GROUP BY channel_id`, f, t); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM analytics_daily WHERE day = ?`, string(day)); err != nil {
			return err
		}
		insert := func(metric, dim string, v int64) error {
			_, err := tx.ExecContext(ctx, `INSERT INTO analytics_daily (day, metric, dim, value) VALUES (?, ?, ?, ?)`, string(day), metric, dim, v)
			return err
		}
		if err := insert("dau", "", dau); err != nil {
			return err
		}
		for ch, n := range perChannel {
			if err := insert("messages", strconv.FormatInt(ch, 10), n); err != nil {
				return err
			}
		}
		return nil
	})
}

// Report reads the stored days, oldest first.
func (s *Analytics) Report(ctx context.Context, from, to analytics.Day) ([]analytics.Figures, error) {
	byDay := map[analytics.Day]*analytics.Figures{}
	var order []analytics.Day
	err := s.db.Read().Query(ctx, func(rows *sql.Rows) error {
		var day, metric, dim string
		var v int64
		if err := rows.Scan(&day, &metric, &dim, &v); err != nil {
			return err
		}
		f := byDay[analytics.Day(day)]
		if f == nil {
			f = &analytics.Figures{Day: analytics.Day(day), MessagesByChannel: map[string]int64{}}
			byDay[analytics.Day(day)] = f
			order = append(order, analytics.Day(day))
		}
		switch metric {
		case "dau":
			f.ActiveUsers = v
		case "messages":
			f.MessagesByChannel[dim] = v
			f.Messages += v
		}
		return nil
	}, `SELECT day, metric, dim, value FROM analytics_daily WHERE day >= ? AND day <= ? ORDER BY day, metric, dim`, string(from), string(to))
	out := make([]analytics.Figures, 0, len(order))
	for _, d := range order {
		out = append(out, *byDay[d])
	}
	return out, err
}
