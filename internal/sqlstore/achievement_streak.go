package sqlstore

import (
	"context"
	"database/sql"
	"slices"
	"time"

	"github.com/plazahq/plaza/internal/achievements"
	"github.com/plazahq/plaza/internal/sqldb"
)

// The streak rule counts the longest run of consecutive UTC days on which
// a user posted a channel message or a shout. Counting it from the
// messages on every achievement check read every message of the user in
// the check's 60-day look-back (thousands for a busy member), the largest
// part of a post's check. Instead each message and shout keeps the user's
// row of user_streaks in its own transaction:
//
//	last_day  the latest UTC day with activity
//	run       consecutive active days ending on last_day
//	best      the longest run so far (what the rule reads)
//
// A write on last_day changes nothing, one on the day after extends the
// run, one later starts a new run; one UPDATE does that. A write on a day
// before last_day (its time was taken before another's that committed
// first, across midnight) or for a user without a row counts the user's
// whole history again, with its own day added, under the row's lock: the
// state is then exactly what counting the messages and shouts gives, in
// any order of commits, on either engine. Messages and shouts are never
// taken out of the count (a deleted message stays, as before; a shout a
// moderator removes keeps its day too): a day that had activity stays a
// day that had activity.

// dayOf is t's UTC day number (unix ms / dayMS, rounded down).
func dayOf(t time.Time) int64 {
	m := ms(t)
	d := m / dayMS
	if m < 0 && m%dayMS != 0 {
		d--
	}
	return d
}

// streakStep moves user's streak to day when last_day <= day; it matches
// no row when the user has none or last_day is later. The assignments are
// in this order because MySQL evaluates each with the columns already
// assigned to its left (SQLite with the old values): best and run read
// the old run and last_day either way.
const (
	streakNext       = `CASE WHEN last_day = ? THEN run WHEN last_day = ? THEN run + 1 ELSE 1 END`
	streakStepSQLite = `UPDATE user_streaks SET best = MAX(best, ` + streakNext + `), run = ` + streakNext + `, last_day = ? WHERE user_id = ? AND last_day <= ?`
	streakStepMySQL  = `UPDATE user_streaks SET best = GREATEST(best, ` + streakNext + `), run = ` + streakNext + `, last_day = ? WHERE user_id = ? AND last_day <= ?`
)

// streakFirst makes user's row for day when the user has no row, no
// message and no shout: a run of one. A duplicate key is an error.
const (
	streakFirstWhere  = ` WHERE NOT EXISTS (SELECT 1 FROM messages WHERE sender_id = ?) AND NOT EXISTS (SELECT 1 FROM shouts WHERE user_id = ?)`
	streakFirstSQLite = `INSERT INTO user_streaks (user_id, last_day, run, best) SELECT ?, ?, 1, 1` + streakFirstWhere
	streakFirstMySQL  = `INSERT INTO user_streaks (user_id, last_day, run, best) SELECT ?, ?, 1, 1 FROM DUAL` + streakFirstWhere
)

// activeTx records in tx, a transaction of w, that user was active on
// day. It runs before the write's own insert so that, on MySQL, two
// writes of one user queue on the streak row before either inserts: a
// recount under the row's lock then finds no uncommitted activity of the
// user to wait for.
func activeTx(ctx context.Context, w *sqldb.Pool, tx *sql.Tx, dialect sqldb.Dialect, user, day int64) error {
	step := streakStepSQLite
	if dialect == sqldb.MySQL {
		step = streakStepMySQL
	}
	res, err := w.ExecTx(ctx, tx, step, day, day-1, day, day-1, day, user, day)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n == 1 {
		return err // (MySQL counts a matched row as affected: ClientFoundRows)
	}
	// No row yet, the common case (every new member's first post): when
	// the user has no message or shout either, the row is day alone, made
	// in one statement. Its read sees what had committed as it began (at
	// READ COMMITTED on MySQL); a write of the user that has not committed
	// made the user's row first (this function runs before the write's
	// insert), so this insert waits for it and then finds a duplicate.
	first := streakFirstSQLite
	if dialect == sqldb.MySQL {
		first = streakFirstMySQL
	}
	res, err = w.ExecTx(ctx, tx, first, user, day, user, user)
	if _, dup := sqldb.IsDuplicate(err); !dup {
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 1 {
			return err
		}
	}
	// A history, a row made meanwhile, or a day before last_day: lock the
	// row (making it if need be) and count the history.
	hold := `INSERT INTO user_streaks (user_id, last_day, run, best) VALUES (?, -1, 0, 0) ON CONFLICT (user_id) DO NOTHING`
	if dialect == sqldb.MySQL {
		hold = `INSERT INTO user_streaks (user_id, last_day, run, best) VALUES (?, -1, 0, 0) ON DUPLICATE KEY UPDATE user_id = user_id`
	}
	// Prepared too: every member's first post since the table was made
	// (each new member's first) takes this path.
	if _, err := w.ExecTx(ctx, tx, hold, user); err != nil {
		return err
	}
	days, err := activeDays(ctx, preparedTx(w, tx), dialect, user, true)
	if err != nil {
		return err
	}
	last, run, best := streakOf(append(days, day))
	_, err = w.ExecTx(ctx, tx, `UPDATE user_streaks SET last_day = ?, run = ?, best = ? WHERE user_id = ?`, last, run, best, user)
	return err
}

// activeDays returns the UTC days on which user posted a message or a
// shout, in no order, perhaps repeated. locked reads the latest committed
// rows on MySQL (a plain read in a transaction sees its snapshot, which
// may predate a write that committed while this one waited for the
// streak row).
func activeDays(ctx context.Context, q queryFn, dialect sqldb.Dialect, user int64, locked bool) ([]int64, error) {
	lock := ""
	if locked && dialect == sqldb.MySQL {
		lock = " LOCK IN SHARE MODE"
	}
	var days []int64
	each := func(rows *sql.Rows) error {
		var d int64
		err := rows.Scan(&d)
		days = append(days, d/dayMS)
		return err
	}
	if err := q(ctx, each, `SELECT DISTINCT created_at - created_at % ? FROM messages WHERE sender_id = ?`+lock, dayMS, user); err != nil {
		return nil, err
	}
	if err := q(ctx, each, `SELECT DISTINCT created_at - created_at % ? FROM shouts WHERE user_id = ?`+lock, dayMS, user); err != nil {
		return nil, err
	}
	return days, nil
}

// streakOf returns, for a set of days (any order, repeats allowed, not
// empty), the latest, the run ending on it and the longest run.
func streakOf(days []int64) (last, run, best int64) {
	slices.Sort(days)
	days = slices.Compact(days)
	last = days[len(days)-1]
	run = 1
	for i := len(days) - 1; i > 0 && days[i-1] == days[i]-1; i-- {
		run++
	}
	return last, run, achievements.LongestRun(days)
}

// historyStreak is the streak rule's count for a user without a row of
// user_streaks (no message or shout since the table was made): their
// longest run, counted from their history. Metrics reads the kept best
// itself, in its one statement.
func historyStreak(ctx context.Context, q queryFn, dialect sqldb.Dialect, user int64) (int64, error) {
	days, err := activeDays(ctx, q, dialect, user, false)
	if err != nil || len(days) == 0 {
		return 0, err
	}
	_, _, best := streakOf(days)
	return best, nil
}

// streakMemo remembers which users this instance has seen active today,
// committed: another message or shout of theirs today would change
// nothing in their streak, so the post skips the UPDATE. Exact because a
// counted day stays counted (see above); entries are added only after the
// write's commit, a new day starts empty, and another instance that has
// not seen the user just runs the UPDATE, which finds the day counted.
type streakMemo struct {
	days dayMemo[int64, struct{}]
}

// counted reports whether user is known active on day.
func (m *streakMemo) counted(user, day int64) bool {
	_, ok := m.days.get(day, user)
	return ok
}

// remember records, once tx commits, that user was active on day.
func (m *streakMemo) remember(db *sqldb.DB, tx *sql.Tx, user, day int64) {
	m.days.rememberAfterCommit(db, tx, day, user, func(struct{}) struct{} { return struct{}{} })
}
