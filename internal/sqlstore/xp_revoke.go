package sqlstore

import (
	"context"
	"database/sql"
	"time"

	"github.com/plazahq/plaza/internal/gamification"
)

// RevokeTx takes back, in tx, the XP that the content named by ref
// ("message:981", "shout:7") earned userID: its own award (ref) and those
// its reactions earned ("message:981:<reactor>"), net of anything taken
// back before. It appends one compensating row (reason ReasonRemoved, the
// content's ref), so revoking twice takes nothing more, and returns the XP
// taken back (0 when the content earned none).
func (x *XP) RevokeTx(ctx context.Context, tx *sql.Tx, now time.Time, userID int64, ref string) (int64, error) {
	var earned int64
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(SUM(amount), 0) FROM xp_events
		WHERE user_id = ? AND reason <> ? AND (ref = ? OR ref LIKE ?)`,
		userID, string(gamification.ReasonRemoved), ref, ref+":%").Scan(&earned); err != nil {
		return 0, err
	}
	if earned <= 0 {
		return 0, nil
	}
	res, err := x.AwardTx(ctx, tx, now, gamification.Award{UserID: userID, Amount: -earned, Reason: gamification.ReasonRemoved, Ref: ref})
	return -res.Awarded, err
}
