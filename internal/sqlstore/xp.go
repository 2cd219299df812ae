package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/plazahq/plaza/internal/achievements"
	"github.com/plazahq/plaza/internal/gamification"
	"github.com/plazahq/plaza/internal/sqldb"
)

// XP writes the XP ledger. Other stores call AwardTx inside their own
// transactions, so an award commits with the write that earned it.
type XP struct {
	db     *sqldb.DB
	levels gamification.Levels
	// committed are told of every ledger row after its transaction
	// commits (see OnCommit).
	committed atomic.Pointer[[]func(gamification.Posted)]
	caps      capMemo // who reached a daily cap today (xp_capmemo.go)
	// rules is the catalog's memo of the Achievements store made on this
	// ledger (NewAchievements): a level-up that reaches no level rule
	// skips the level check's statement. Nil until then.
	rules atomic.Pointer[rulesMemo]
}

// NewXP returns the ledger writer; levels nil means the default thresholds.
func NewXP(db *sqldb.DB, levels gamification.Levels) *XP {
	if len(levels) == 0 {
		levels = gamification.DefaultLevels
	}
	return &XP{db: db, levels: levels}
}

// Award makes one award in a transaction of its own.
func (x *XP) Award(ctx context.Context, now time.Time, a gamification.Award) (gamification.Result, error) {
	var res gamification.Result
	err := x.db.Write().Tx(ctx, func(tx *sql.Tx) error {
		var err error
		res, err = x.AwardTx(ctx, tx, now, a)
		return err
	})
	return res, err
}

// AwardTx appends a to the ledger and moves the user's xp and level with
// it, in tx. The user's row is locked first, so concurrent awards to one
// user (and the daily cap's sum) are serialised; a cause already awarded
// changes nothing and reports Awarded 0.
func (x *XP) AwardTx(ctx context.Context, tx *sql.Tx, now time.Time, a gamification.Award) (gamification.Result, error) {
	return x.AwardHeldTx(ctx, tx, now, a, Held{})
}

// AwardHeldTx is AwardTx for a caller that took the user's row with
// LockTx earlier in tx and has written nothing to the user's xp since:
// the award starts from the xp and level that lock read instead of
// reading the row again (a round trip on MySQL, on every post that earns
// XP). A Held of another user, or the zero Held, reads the row as
// AwardTx does.
func (x *XP) AwardHeldTx(ctx context.Context, tx *sql.Tx, now time.Time, a gamification.Award, h Held) (gamification.Result, error) {
	if err := a.Validate(); err != nil {
		return gamification.Result{}, err
	}
	var res gamification.Result
	w := x.db.Write() // its prepared statements: an award rides on hot paths (every post)
	// A valid award names a user (> 0), which the zero Held does not.
	if h.userID == a.UserID {
		res.XP, res.PrevLevel = h.xp, h.level
	} else {
		err := w.QueryRowTx(ctx, tx, []any{&res.XP, &res.PrevLevel}, `SELECT xp, level FROM users WHERE id = ?`+forUpdate(x.db), a.UserID)
		if errors.Is(err, sql.ErrNoRows) {
			return res, notFound("user")
		}
		if err != nil {
			return res, err
		}
	}
	res.Level = res.PrevLevel
	amount := a.Amount
	capSum := int64(-1) // today's sum for a.Reason when there is a cap to reach
	if a.DailyCap > 0 && amount > 0 {
		day := utcDay(now)
		var sum int64
		if err := w.QueryRowTx(ctx, tx, []any{&sum}, `SELECT COALESCE(SUM(amount), 0) FROM xp_events WHERE user_id = ? AND reason = ? AND created_at >= ?`,
			a.UserID, string(a.Reason), day); err != nil {
			return res, err
		}
		amount = min(amount, max(a.DailyCap-sum, 0))
		if amount == 0 {
			x.rememberCapped(tx, a.UserID, a.Reason, a.DailyCap, day)
		}
		capSum = sum
	}
	if amount == 0 {
		return res, nil
	}
	// A plain insert whose duplicate is recognised: MySQL's upsert forms
	// report a match as a change under ClientFoundRows. A duplicate-key
	// error undoes only its own statement on both engines.
	ins, err := w.ExecTx(ctx, tx, `INSERT INTO xp_events (user_id, amount, reason, ref, created_at) VALUES (?, ?, ?, ?, ?)`,
		a.UserID, amount, string(a.Reason), a.Ref, ms(now))
	if _, dup := sqldb.IsDuplicate(err); dup {
		return res, nil
	}
	if err != nil {
		return res, err
	}
	if err := x.afterCommit(tx, ins, gamification.Posted{UserID: a.UserID, Amount: amount, At: fromMS(ms(now))}); err != nil {
		return res, err
	}
	if capSum >= 0 && capSum+amount >= a.DailyCap { // this award reached the cap
		x.rememberCapped(tx, a.UserID, a.Reason, a.DailyCap, utcDay(now))
	}
	res.Awarded = amount
	res.XP += amount
	res.Level = x.levels.For(res.XP)
	if _, err := w.ExecTx(ctx, tx, `UPDATE users SET xp = ?, level = ? WHERE id = ?`, res.XP, res.Level, a.UserID); err != nil {
		return res, err
	}
	if res.LeveledUp() { // level achievements
		return res, x.levelCheckTx(ctx, w, tx, now, a.UserID, res.Level)
	}
	return res, nil
}

// levelCheckTx enqueues a check of user's achievements, who reached level
// in tx, when a level rule they do not hold asks for that level or less.
// Any other level-up would queue a check that reads every count of the
// user to award nothing; after a fresh member's first award (+5 XP, level
// 2) that was one check in two under load. What a level-up cannot meet
// now (a rule defined after the transaction's read) is met, like any new
// definition, at the user's next check (their next post, shout...) or by
// `plaza achievements backfill`. The catalog's memo answers first (no
// statement when no level rule asks for level or less): it sees a rule
// defined on this instance at once, one defined on another within
// rulesTTL.
func (x *XP) levelCheckTx(ctx context.Context, w *sqldb.Pool, tx *sql.Tx, now time.Time, user int64, level int) error {
	if memo := x.rules.Load(); memo != nil {
		// The catalog's memo first: a new member's first award takes them
		// to level 2, which no level rule of the default catalog asks for.
		// Loaded through tx when stale: on MySQL another connection of the
		// writer's pool could be one that transactions like this hold.
		rs, _, err := memo.get(ctx, preparedTx(w, tx))
		if err != nil {
			return err
		}
		if !slices.ContainsFunc(rs, func(a achievements.Achievement) bool {
			return a.Rule.Kind == achievements.RuleLevel && a.Rule.Count <= int64(level)
		}) {
			return nil
		}
	}
	var one int64
	err := w.QueryRowTx(ctx, tx, []any{&one}, `SELECT 1 FROM achievements a WHERE a.rule_kind = 'level' AND a.rule_count <= ?
		AND NOT EXISTS (SELECT 1 FROM user_achievements ua WHERE ua.user_id = ? AND ua.achievement_id = a.id) LIMIT 1`, level, user)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	return achievementCheckTx(ctx, tx, x.db, now, user)
}

// OnCommit adds fn to those told of every ledger row once the transaction
// that wrote it has committed, whoever the caller of AwardTx is: a row
// rolled back is never told. fn runs in the committing goroutine before
// its Tx returns, so it must be quick (the leaderboard index applies the
// row). Register listeners while wiring, before awards are made.
func (x *XP) OnCommit(fn func(gamification.Posted)) {
	for {
		old := x.committed.Load()
		var fns []func(gamification.Posted)
		if old != nil {
			fns = append(fns, *old...)
		}
		fns = append(fns, fn)
		if x.committed.CompareAndSwap(old, &fns) {
			return
		}
	}
}

// afterCommit hands row, just inserted by ins, to the OnCommit listeners
// once tx commits. A transaction not run by the database's Tx has no
// commit to wait for: the award is refused rather than left out of the
// leaderboard.
func (x *XP) afterCommit(tx *sql.Tx, ins sql.Result, row gamification.Posted) error {
	fns := x.committed.Load()
	if fns == nil {
		return nil
	}
	id, err := ins.LastInsertId()
	if err != nil {
		return err
	}
	row.ID = id
	return x.db.AfterCommit(tx, func() {
		for _, fn := range *fns {
			fn(row)
		}
	})
}

// Ledger pages userID's ledger, newest first: rows with an id below before
// (0: from the newest), at most limit, with the user's total and level.
func (x *XP) Ledger(ctx context.Context, userID, before int64, limit int) (gamification.Ledger, error) {
	l := gamification.Ledger{Items: []gamification.Entry{}}
	err := x.db.Fresh().QueryRow(ctx, []any{&l.XP, &l.Level}, `SELECT xp, level FROM users WHERE id = ?`, userID)
	if sqldb.IsNotFound(err) {
		return l, notFound("user")
	}
	if err != nil {
		return l, err
	}
	if next, ok := x.levels.Next(l.Level); ok {
		l.NextLevelAt = &next
	}
	if before <= 0 {
		before = 1<<63 - 1
	}
	err = x.db.Fresh().Query(ctx, func(rows *sql.Rows) error {
		var e gamification.Entry
		var reason string
		var created int64
		err := rows.Scan(&e.ID, &e.Amount, &reason, &e.Ref, &created)
		e.Reason, e.CreatedAt = gamification.Reason(reason), fromMS(created)
		l.Items = append(l.Items, e)
		return err
	}, `SELECT id, amount, reason, ref, created_at FROM xp_events WHERE user_id = ? AND id < ? ORDER BY id DESC LIMIT ?`, userID, before, limit)
	if len(l.Items) == limit && limit > 0 {
		l.NextCursor = strconv.FormatInt(l.Items[limit-1].ID, 10)
	}
	return l, err
}

// Held is a user's xp and level as LockTx read them under the row's lock,
// for AwardHeldTx.
type Held struct {
	userID, xp int64 // userID 0: nothing read
	level      int
}

// LockTx takes userID's row for the rest of tx before a transaction
// inserts rows that reference the user and then awards them XP. On MySQL
// a foreign key check takes a shared lock on the user's row, and two such
// transactions both holding it and then asking for AwardTx's exclusive
// lock deadlock; taking the exclusive lock first serialises them instead.
// The lock reads the user's xp and level, which AwardHeldTx can start
// from. SQLite serialises writers anyway, so there it does nothing and
// returns the zero Held.
func (x *XP) LockTx(ctx context.Context, tx *sql.Tx, userID int64) (Held, error) {
	if x.db.Dialect != sqldb.MySQL {
		return Held{}, nil
	}
	return x.HoldTx(ctx, tx, userID)
}

// HoldTx is LockTx that reads the row on every engine (locking it on
// MySQL): for a caller that needs to know the user exists, and whose
// award (AwardHeldTx) then starts from what it read.
func (x *XP) HoldTx(ctx context.Context, tx *sql.Tx, userID int64) (Held, error) {
	h := Held{userID: userID}
	err := x.db.Write().QueryRowTx(ctx, tx, []any{&h.xp, &h.level}, `SELECT xp, level FROM users WHERE id = ?`+forUpdate(x.db), userID)
	if errors.Is(err, sql.ErrNoRows) {
		return Held{}, notFound("user")
	}
	if err != nil {
		return Held{}, err
	}
	return h, nil
}

// AwardManyTx awards one user amount XP for each of refs, all for the same
// reason, in tx: the play counter's flush, where a creator may have earned
// several awards since the last one. The user's row is locked once and the
// daily cap summed once; refs already in the ledger are skipped (so a flush
// that is retried awards nothing twice), and the refs past the cap earn
// nothing (the one that reaches it is cut to what is left). Capped
// reports that the cap is reached for today, so the caller may stop
// collecting refs for the user until the next UTC day. A user who no
// longer exists gets nothing and no error: their plays were still made.
func (x *XP) AwardManyTx(ctx context.Context, tx *sql.Tx, now time.Time, userID int64, reason gamification.Reason,
	amount, dailyCap int64, refs []string) (res gamification.Result, capped bool, err error) {
	if len(refs) == 0 || amount <= 0 {
		return res, false, nil
	}
	for _, ref := range refs {
		if err := (gamification.Award{UserID: userID, Amount: amount, Reason: reason, Ref: ref}).Validate(); err != nil {
			return res, false, err
		}
	}
	err = tx.QueryRowContext(ctx, `SELECT xp, level FROM users WHERE id = ?`+forUpdate(x.db), userID).Scan(&res.XP, &res.PrevLevel)
	if errors.Is(err, sql.ErrNoRows) {
		return res, false, nil
	}
	if err != nil {
		return res, false, err
	}
	res.Level = res.PrevLevel
	left := int64(-1) // no cap
	if dailyCap > 0 {
		day := now.UTC().Truncate(24 * time.Hour)
		var sum int64
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(SUM(amount), 0) FROM xp_events WHERE user_id = ? AND reason = ? AND created_at >= ?`,
			userID, string(reason), ms(day)).Scan(&sum); err != nil {
			return res, false, err
		}
		left = max(dailyCap-sum, 0)
	}
	for _, ref := range refs {
		a := amount
		if left >= 0 {
			if left == 0 {
				break
			}
			a = min(a, left)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO xp_events (user_id, amount, reason, ref, created_at) VALUES (?, ?, ?, ?, ?)`,
			userID, a, string(reason), ref, ms(now))
		if _, dup := sqldb.IsDuplicate(err); dup {
			continue
		}
		if err != nil {
			return res, false, err
		}
		res.Awarded += a
		if left > 0 {
			left -= a
		}
	}
	capped = left == 0
	if res.Awarded == 0 {
		return res, capped, nil
	}
	res.XP += res.Awarded
	res.Level = x.levels.For(res.XP)
	if _, err := tx.ExecContext(ctx, `UPDATE users SET xp = ?, level = ? WHERE id = ?`, res.XP, res.Level, userID); err != nil {
		return res, false, err
	}
	return res, capped, nil
}
