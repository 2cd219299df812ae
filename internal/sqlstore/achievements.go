package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/plazahq/plaza/internal/achievements"
	"github.com/plazahq/plaza/internal/apperr"
	"github.com/plazahq/plaza/internal/audit"
	"github.com/plazahq/plaza/internal/gamification"
	"github.com/plazahq/plaza/internal/jobs"
	"github.com/plazahq/plaza/internal/sqldb"
)

// Achievements implements achievements.Store.
type Achievements struct {
	db    *sqldb.DB
	xp    *XP
	audit *Audit
	// rules memoizes the catalog's rules for Evaluate.
	rules rulesMemo
}

var _ achievements.Store = (*Achievements)(nil)

// NewAchievements returns the store; awards grant XP through xp and admin
// actions are recorded in log (nil: new ones on db).
func NewAchievements(db *sqldb.DB, xp *XP, log *Audit) *Achievements {
	if xp == nil {
		xp = NewXP(db, nil)
	}
	if log == nil {
		log = NewAudit(db, nil)
	}
	s := &Achievements{db: db, xp: xp, audit: log}
	xp.rules.Store(&s.rules) // its level-ups ask the same memo (XP.levelCheckTx)
	return s
}

// achievementCheckTx enqueues a check of userID's achievement rules in tx,
// the transaction of a write that may meet one; checks of one user that
// have not started yet coalesce into one job.
func achievementCheckTx(ctx context.Context, tx *sql.Tx, db *sqldb.DB, now time.Time, userID int64) error {
	return jobs.InsertTx(ctx, tx, db.Dialect, now, achievements.CheckJob(userID))
}

// queryFn runs a query through a pool (its gate and deadline) or a
// transaction.
type queryFn func(ctx context.Context, each func(*sql.Rows) error, query string, args ...any) error

func txQuery(tx *sql.Tx) queryFn {
	return func(ctx context.Context, each func(*sql.Rows) error, query string, args ...any) error {
		return sqldb.QueryRows(ctx, tx, each, query, args...)
	}
}

// preparedTx is txQuery through pool's prepared statements (tx is a
// transaction of pool): for a check's award, run for every achievement a
// rule meets, and for a check run in a post's transaction (checkTx).
func preparedTx(pool *sqldb.Pool, tx *sql.Tx) queryFn {
	return func(ctx context.Context, each func(*sql.Rows) error, query string, args ...any) error {
		return pool.QueryTx(ctx, tx, each, query, args...)
	}
}

// one scans the first row into dest; sql.ErrNoRows when there is none.
func one(ctx context.Context, q queryFn, dest []any, query string, args ...any) error {
	found := false
	err := q(ctx, func(rows *sql.Rows) error {
		if found {
			return nil
		}
		found = true
		return rows.Scan(dest...)
	}, query, args...)
	if err == nil && !found {
		err = sql.ErrNoRows
	}
	return err
}

// achievementCheck is achievements.CheckJob, for stores that pass jobs to
// their transaction.
func achievementCheck(userID int64) jobs.Job { return achievements.CheckJob(userID) }

const achievementCols = `id, slug, name, description, icon_url, xp, rarity, rule_kind, rule_count`

func scanAchievement(sc interface{ Scan(...any) error }, extra ...any) (achievements.Achievement, error) {
	var a achievements.Achievement
	var kind string
	var count int64
	err := sc.Scan(append([]any{&a.ID, &a.Slug, &a.Name, &a.Description, &a.IconURL, &a.XP, &a.Rarity, &kind, &count}, extra...)...)
	if kind != "" {
		a.Rule = &achievements.Rule{Kind: achievements.RuleKind(kind), Count: count}
	}
	return a, err
}

func (s *Achievements) achievements(ctx context.Context, q queryFn, where string, args ...any) ([]achievements.Achievement, error) {
	out := []achievements.Achievement{}
	err := q(ctx, func(rows *sql.Rows) error {
		a, err := scanAchievement(rows)
		out = append(out, a)
		return err
	}, `SELECT `+achievementCols+` FROM achievements a `+where+` ORDER BY id`, args...)
	return out, err
}

// Achievements returns the catalog.
func (s *Achievements) Achievements(ctx context.Context) ([]achievements.Achievement, error) {
	return s.achievements(ctx, s.db.Read().Query, "")
}

// AwardedCounts counts holders per achievement (an index-only scan).
func (s *Achievements) AwardedCounts(ctx context.Context) (map[int64]int64, error) {
	out := map[int64]int64{}
	err := s.db.Read().Query(ctx, func(rows *sql.Rows) error {
		var id, n int64
		err := rows.Scan(&id, &n)
		out[id] = n
		return err
	}, `SELECT achievement_id, COUNT(*) FROM user_achievements GROUP BY achievement_id`)
	return out, err
}

// Achievement returns one achievement.
func (s *Achievements) Achievement(ctx context.Context, id int64) (achievements.Achievement, error) {
	return s.achievementTx(ctx, s.db.Fresh().Query, id)
}

func (s *Achievements) achievementTx(ctx context.Context, q queryFn, id int64) (achievements.Achievement, error) {
	as, err := s.achievements(ctx, q, `WHERE id = ?`, id)
	if err != nil {
		return achievements.Achievement{}, err
	}
	if len(as) == 0 {
		return achievements.Achievement{}, notFound("achievement")
	}
	return as[0], nil
}

func slugConflict(what string, err error) error {
	return &apperr.Error{Code: apperr.Conflict, Message: "a " + what + " with this slug exists", Fields: map[string]string{"slug": "is taken"}, Err: err}
}

// CreateAchievement inserts a and records e in the same transaction.
func (s *Achievements) CreateAchievement(ctx context.Context, a achievements.Achievement, now time.Time, e audit.Entry) (achievements.Achievement, error) {
	kind, count := "", int64(0)
	if a.Rule != nil {
		kind, count = string(a.Rule.Kind), a.Rule.Count
	}
	err := s.db.Write().Tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO achievements (slug, name, description, icon_url, xp, rarity, rule_kind, rule_count, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, a.Slug, a.Name, a.Description, a.IconURL, a.XP, string(a.Rarity), kind, count, ms(now), ms(now))
		if _, dup := sqldb.IsDuplicate(err); dup {
			return slugConflict("achievement", err)
		}
		if err != nil {
			return err
		}
		if a.ID, err = res.LastInsertId(); err != nil {
			return err
		}
		e.TargetID, e.After = a.ID, a
		_, err = s.audit.AppendTx(ctx, tx, e)
		return err
	})
	if err == nil {
		s.rules.drop()
	}
	return a, err
}

func (s *Achievements) userExists(ctx context.Context, q queryFn, userID int64) error {
	var level int
	err := one(ctx, q, []any{&level}, `SELECT level FROM users WHERE id = ?`, userID)
	if errors.Is(err, sql.ErrNoRows) {
		return notFound("user")
	}
	return err
}

// UserAchievements returns what userID earned, newest first.
func (s *Achievements) UserAchievements(ctx context.Context, userID int64) ([]achievements.Awarded, error) {
	q := s.db.Fresh().Query
	if err := s.userExists(ctx, q, userID); err != nil {
		return nil, err
	}
	out := []achievements.Awarded{}
	err := q(ctx, func(rows *sql.Rows) error {
		var at int64
		a, err := scanAchievement(rows, &at)
		out = append(out, achievements.Awarded{Achievement: a, AwardedAt: fromMS(at)})
		return err
	}, `SELECT a.id, a.slug, a.name, a.description, a.icon_url, a.xp, a.rarity, a.rule_kind, a.rule_count, ua.awarded_at
		FROM user_achievements ua JOIN achievements a ON a.id = ua.achievement_id
		WHERE ua.user_id = ? ORDER BY ua.awarded_at DESC, a.id DESC`, userID)
	return out, err
}

// Evaluate is Pending and Metrics(Needs(pending)) in one statement: the
// counts, read up to the largest count any rule of their kind asks for,
// and the ids of what the user holds, in one row; the rules themselves
// come from the memo of the catalog's rules (rulesMemo). Every queued
// check runs it (one per post, shout...), so one statement instead of two
// is a tenth of a check. Counting up to a rule the user already holds
// (100 messages, when they have them) reads a few more index entries, at
// most the largest rule count, for one statement fewer.
func (s *Achievements) Evaluate(ctx context.Context, userID int64) ([]achievements.Achievement, achievements.Metrics, error) {
	return s.evaluate(ctx, s.db.Fresh().QueryPrepared, userID)
}

// evaluate is Evaluate through q (the rules too, when the memo has none).
func (s *Achievements) evaluate(ctx context.Context, q queryFn, userID int64) ([]achievements.Achievement, achievements.Metrics, error) {
	rules, needs, err := s.rules.get(ctx, q)
	if err != nil {
		return nil, nil, err
	}
	var held sql.NullString
	r, err := s.readMetrics(ctx, q, userID, needs, &held)
	if err != nil {
		return nil, nil, err
	}
	holds := map[int64]bool{}
	for _, id := range strings.Split(held.String, ",") {
		if n, err := strconv.ParseInt(id, 10, 64); err == nil {
			holds[n] = true
		}
	}
	var pending []achievements.Achievement
	for _, a := range rules {
		if !holds[a.ID] {
			pending = append(pending, a)
		}
	}
	if len(pending) == 0 {
		return nil, nil, nil
	}
	m, err := s.metricsOf(ctx, q, userID, achievements.Needs(pending), r)
	return pending, m, err
}

// ruleRows appends each row's (id, rule_kind, rule_count) to out as an
// achievement with only its ID and Rule.
func ruleRows(out *[]achievements.Achievement) func(*sql.Rows) error {
	return func(rows *sql.Rows) error {
		a := achievements.Achievement{Rule: &achievements.Rule{}}
		err := rows.Scan(&a.ID, &a.Rule.Kind, &a.Rule.Count)
		*out = append(*out, a)
		return err
	}
}

// loadRules reads the id and rule of every rule achievement, in id order,
// through q (a pool, or a transaction that must not wait for another
// connection: checkTx, XP.levelCheckTx).
func loadRules(ctx context.Context, q queryFn) ([]achievements.Achievement, error) {
	var out []achievements.Achievement
	err := q(ctx, ruleRows(&out), rulesSQL)
	return out, err
}

const rulesSQL = `SELECT id, rule_kind, rule_count FROM achievements WHERE rule_kind <> '' ORDER BY id`

// Pending returns the id and rule of each rule achievement userID has not
// earned. It and Metrics run for every queued check (one per post, DM,
// shout...), so their constant texts are kept prepared, and it reads only
// what a check needs (the names and descriptions were most of its cost).
func (s *Achievements) Pending(ctx context.Context, userID int64) ([]achievements.Achievement, error) {
	var out []achievements.Achievement
	err := s.db.Fresh().QueryPrepared(ctx, ruleRows(&out), `SELECT a.id, a.rule_kind, a.rule_count FROM achievements a WHERE a.rule_kind <> '' AND NOT EXISTS
		(SELECT 1 FROM user_achievements ua WHERE ua.user_id = ? AND ua.achievement_id = a.id) ORDER BY a.id`, userID)
	return out, err
}

const dayMS = 24 * 60 * 60 * 1000

// boundLimit is the placeholder of a LIMIT whose value changes from call
// to call in a statement kept prepared. SQLite takes a plain `LIMIT ?`
// as a constant of the plan and so re-prepares the statement at every new
// binding (sqlite3ExprIsInteger marks the variable), which undoes keeping
// it prepared; `? + 0` is the same limit, evaluated when the statement
// runs. MySQL accepts only a plain placeholder there.
func boundLimit(d sqldb.Dialect) string {
	if d == sqldb.SQLite {
		return "? + 0"
	}
	return "?"
}

// metricsQuery reads every count a check may need in one statement (a
// check used to run one per rule kind, eight on a fresh member's check,
// each paying a statement's fixed cost). Its arguments are the user and
// each count's limit; a kind not needed gets limit 0 and reads nothing.
// The streak's kept best is NULL for a user without a row.
var metricsQuery = map[sqldb.Dialect]string{sqldb.SQLite: metricsSQL(sqldb.SQLite), sqldb.MySQL: metricsSQL(sqldb.MySQL)}

func metricsSQL(d sqldb.Dialect) string {
	lim := boundLimit(d)
	count := func(from string) string {
		return `(SELECT COUNT(*) FROM (SELECT 1 FROM ` + from + ` LIMIT ` + lim + `) t)`
	}
	return `SELECT (SELECT level FROM users WHERE id = ?), ` +
		count(`messages WHERE sender_id = ? AND deleted_at IS NULL`) + `, ` +
		count(`shouts WHERE user_id = ?`) + `, ` +
		count(`mixes WHERE creator_id = ?`) + `, ` +
		count(`event_attendance WHERE user_id = ?`) + `, ` +
		count(`course_enrollments WHERE user_id = ? AND completed_at IS NOT NULL`) + `, ` +
		`(SELECT best FROM user_streaks WHERE user_id = ?)`
}

// evaluateQuery is metricsQuery with one more column, the ids of every
// achievement the user holds (comma-separated, NULL for none): a check's
// whole read in one statement (Evaluate).
var evaluateQuery = map[sqldb.Dialect]string{
	sqldb.SQLite: metricsSQL(sqldb.SQLite) + heldSQL,
	sqldb.MySQL:  metricsSQL(sqldb.MySQL) + heldSQL,
}

const heldSQL = `, (SELECT GROUP_CONCAT(achievement_id) FROM user_achievements WHERE user_id = ?)`

// countedKinds are the kinds metricsQuery counts, in its column order.
var countedKinds = []achievements.RuleKind{achievements.RuleMessages, achievements.RuleShouts,
	achievements.RuleMixes, achievements.RuleEvents, achievements.RuleCourses}

// Metrics counts what need asks for; counts stop at the need.
func (s *Achievements) Metrics(ctx context.Context, userID int64, need map[achievements.RuleKind]int64) (achievements.Metrics, error) {
	q := s.db.Fresh().QueryPrepared
	r, err := s.readMetrics(ctx, q, userID, need, nil)
	if err != nil {
		return nil, err
	}
	return s.metricsOf(ctx, q, userID, need, r)
}

// metricsRow is what metricsQuery (or evaluateQuery) read.
type metricsRow struct {
	level, streak sql.NullInt64
	counts        []int64 // countedKinds' counts
}

// readMetrics reads userID's counts with need's limits through q:
// metricsQuery, or evaluateQuery when held is not nil (the held ids are
// scanned into it).
func (s *Achievements) readMetrics(ctx context.Context, q queryFn, userID int64, need map[achievements.RuleKind]int64, held *sql.NullString) (metricsRow, error) {
	query := metricsQuery[s.db.Dialect]
	args := []any{userID}
	for _, k := range countedKinds {
		args = append(args, userID, max(need[k], 0)) // not needed: LIMIT 0
	}
	args = append(args, userID)
	r := metricsRow{counts: make([]int64, len(countedKinds))}
	dest := []any{&r.level}
	for i := range r.counts {
		dest = append(dest, &r.counts[i])
	}
	dest = append(dest, &r.streak)
	if held != nil {
		query = evaluateQuery[s.db.Dialect]
		args, dest = append(args, userID), append(dest, held)
	}
	if err := one(ctx, q, dest, query, args...); err != nil {
		return r, err
	}
	if !r.level.Valid {
		return r, notFound("user")
	}
	return r, nil
}

// metricsOf turns what readMetrics read into the metrics need asks for
// (reading a streak's history through q when no best is kept).
func (s *Achievements) metricsOf(ctx context.Context, q queryFn, userID int64, need map[achievements.RuleKind]int64, r metricsRow) (achievements.Metrics, error) {
	level, streak, counts := r.level, r.streak, r.counts
	m := achievements.Metrics{}
	for i, k := range countedKinds {
		if _, ok := need[k]; ok {
			m[k] = counts[i]
		}
	}
	if _, ok := need[achievements.RuleLevel]; ok {
		m[achievements.RuleLevel] = level.Int64
	}
	if _, ok := need[achievements.RuleStreak]; ok {
		if streak.Valid {
			m[achievements.RuleStreak] = streak.Int64
		} else {
			v, err := historyStreak(ctx, q, s.db.Dialect, userID)
			if err != nil {
				return nil, err
			}
			m[achievements.RuleStreak] = v
		}
	}
	return m, nil
}

// awardSQL reads an achievement with the ids of the collectibles that
// come with it (one row per collectible, or one with a NULL id): one
// statement where an award used two.
const awardSQL = `SELECT a.id, a.slug, a.name, a.description, a.icon_url, a.xp, a.rarity, a.rule_kind, a.rule_count, c.id
	FROM achievements a LEFT JOIN collectibles c ON c.achievement_id = a.id WHERE a.id = ? ORDER BY c.id`

// awardedTx reads achievement id and the ids of its collectibles in tx.
func (s *Achievements) awardedTx(ctx context.Context, w *sqldb.Pool, tx *sql.Tx, id int64) (achievements.Achievement, []int64, error) {
	var a achievements.Achievement
	var collectibles []int64
	found := false
	err := w.QueryTx(ctx, tx, func(rows *sql.Rows) error {
		var c sql.NullInt64
		var err error
		if a, err = scanAchievement(rows, &c); err != nil {
			return err
		}
		found = true
		if c.Valid {
			collectibles = append(collectibles, c.Int64)
		}
		return nil
	}, awardSQL, id)
	if err == nil && !found {
		err = notFound("achievement")
	}
	return a, collectibles, err
}

// Award makes g in one transaction. The user's row is read (and locked, on
// MySQL) first, the order AwardTx and ClaimTx lock in, then the award row
// is inserted; a duplicate means the user holds it already and nothing
// else happens, so an achievement is awarded once however many checks
// race. On SQLite, awards that arrive together share one transaction
// with each other and the writes beside them (sqldb.DB.SharedTx): the
// queue's workers run a burst of first posts' checks at once, and a
// transaction's commit cost more than the award's statements. On MySQL
// each runs in its own: a batch of awards would lock its users' rows in
// arrival order, and could then deadlock with a batch of posts locking
// theirs in another.
func (s *Achievements) Award(ctx context.Context, g achievements.Grant) (achievements.Granted, bool, error) {
	var out achievements.Granted
	var created bool
	err := s.db.SharedTx(ctx, func(tx *sql.Tx, c *sqldb.Call) error {
		var err error
		out, created, err = s.awardTx(ctx, s.db.Write(), tx, c, g)
		return err
	})
	return out, created, err
}

// awardTx is Award in tx, a transaction of w (c is its call in a shared
// write group, or nil).
func (s *Achievements) awardTx(ctx context.Context, w *sqldb.Pool, tx *sql.Tx, c *sqldb.Call, g achievements.Grant) (achievements.Granted, bool, error) {
	out := achievements.Granted{UserID: g.UserID, AwardedAt: fromMS(ms(g.At))}
	held, err := s.xp.HoldTx(ctx, tx, g.UserID)
	if err != nil {
		return out, false, err
	}
	a, collectibles, err := s.awardedTx(ctx, w, tx, g.AchievementID)
	if err != nil {
		return out, false, err
	}
	out.Achievement = a
	if err := c.Guard(); err != nil { // what follows writes
		return out, false, err
	}
	_, err = w.ExecTx(ctx, tx, `INSERT INTO user_achievements (user_id, achievement_id, source, awarded_at) VALUES (?, ?, ?, ?)`,
		g.UserID, a.ID, g.Source, ms(g.At))
	if _, dup := sqldb.IsDuplicate(err); dup {
		var at int64
		if err := tx.QueryRowContext(ctx, `SELECT awarded_at FROM user_achievements WHERE user_id = ? AND achievement_id = ?`, g.UserID, a.ID).Scan(&at); err != nil {
			return out, false, err
		}
		out.AwardedAt = fromMS(at)
		return out, false, nil
	}
	if err != nil {
		return out, false, err
	}
	if a.XP > 0 {
		if out.XP, err = s.xp.AwardHeldTx(ctx, tx, g.At, gamification.Award{UserID: g.UserID, Amount: a.XP,
			Reason: gamification.ReasonAchievement, Ref: "achievement:" + strconv.FormatInt(a.ID, 10)}, held); err != nil {
			return out, false, err
		}
	}
	for _, id := range collectibles {
		o, err := s.ClaimTx(ctx, tx, id, g.UserID, achievements.SourceAchievement, g.At)
		if apperr.Is(err, apperr.SoldOut) || apperr.Is(err, apperr.AlreadyOwned) {
			continue // the award stands without it
		}
		if err != nil {
			return out, false, err
		}
		out.Collectibles = append(out.Collectibles, o)
	}
	if g.Audit != nil {
		e := *g.Audit
		e.After = map[string]any{"achievementId": a.ID, "userId": g.UserID, "source": g.Source, "xp": out.XP.Awarded}
		if _, err := s.audit.AppendTx(ctx, tx, e); err != nil {
			return out, false, err
		}
	}
	return out, true, nil
}

// checkTx is achievements.Service.Check in tx, a transaction of w whose
// write may have met a rule (c is its call in a shared write group, or
// nil): it evaluates userID's rules there and awards each met, returning
// the awards made. The caller announces them once tx commits
// (achievements.Service.Announce).
func (s *Achievements) checkTx(ctx context.Context, w *sqldb.Pool, tx *sql.Tx, c *sqldb.Call, userID int64, at time.Time) ([]achievements.Granted, error) {
	pending, m, err := s.evaluate(ctx, preparedTx(w, tx), userID)
	if err != nil || len(pending) == 0 {
		return nil, err
	}
	var out []achievements.Granted
	for _, a := range achievements.Met(pending, m) {
		g, created, err := s.awardTx(ctx, w, tx, c, achievements.Grant{AchievementID: a.ID, UserID: userID, Source: achievements.SourceRule, At: at})
		if err != nil {
			return nil, err
		}
		if created {
			out = append(out, g)
		}
	}
	return out, nil
}

// UserIDs pages user ids in ascending order.
func (s *Achievements) UserIDs(ctx context.Context, after int64, limit int) ([]int64, error) {
	var out []int64
	err := s.db.Read().Query(ctx, func(rows *sql.Rows) error {
		var id int64
		err := rows.Scan(&id)
		out = append(out, id)
		return err
	}, `SELECT id FROM users WHERE id > ? ORDER BY id LIMIT ?`, after, limit)
	return out, err
}

// ---- collectibles ----

const collectibleCols = `id, slug, name, image_url, rarity, supply, minted, price_credits, achievement_id, created_at, updated_at`

func scanCollectible(sc interface{ Scan(...any) error }, extra ...any) (achievements.Collectible, error) {
	var c achievements.Collectible
	var supply, price, ach sql.NullInt64
	var created, updated int64
	err := sc.Scan(append([]any{&c.ID, &c.Slug, &c.Name, &c.ImageURL, &c.Rarity, &supply, &c.Minted, &price, &ach, &created, &updated}, extra...)...)
	ptr := func(v sql.NullInt64) *int64 {
		if !v.Valid {
			return nil
		}
		return &v.Int64
	}
	c.Supply, c.PriceCredits, c.AchievementID = ptr(supply), ptr(price), ptr(ach)
	c.Remaining = achievements.Remaining(c.Supply, c.Minted)
	c.CreatedAt, c.UpdatedAt = fromMS(created), fromMS(updated)
	return c, err
}

func nullInt(p *int64) any {
	if p == nil {
		return nil
	}
	return *p
}

// Collectibles returns the catalog in id order.
func (s *Achievements) Collectibles(ctx context.Context) ([]achievements.Collectible, error) {
	out := []achievements.Collectible{}
	err := s.db.Fresh().Query(ctx, func(rows *sql.Rows) error {
		c, err := scanCollectible(rows)
		out = append(out, c)
		return err
	}, `SELECT `+collectibleCols+` FROM collectibles ORDER BY id`)
	return out, err
}

// Collectible returns one collectible.
func (s *Achievements) Collectible(ctx context.Context, id int64) (achievements.Collectible, error) {
	return s.collectibleTx(ctx, s.db.Fresh().Query, id, "")
}

func (s *Achievements) collectibleTx(ctx context.Context, q queryFn, id int64, lock string) (achievements.Collectible, error) {
	var c achievements.Collectible
	found := false
	err := q(ctx, func(rows *sql.Rows) error {
		var err error
		c, err = scanCollectible(rows)
		found = true
		return err
	}, `SELECT `+collectibleCols+` FROM collectibles WHERE id = ?`+lock, id)
	if err == nil && !found {
		err = sql.ErrNoRows
	}
	if errors.Is(err, sql.ErrNoRows) {
		return c, notFound("collectible")
	}
	return c, err
}

func (s *Achievements) checkAchievementRef(ctx context.Context, tx *sql.Tx, id *int64) error {
	if id == nil {
		return nil
	}
	if _, err := s.achievementTx(ctx, txQuery(tx), *id); apperr.Is(err, apperr.NotFound) {
		return apperr.Invalid(map[string]string{"achievementId": "no achievement has id " + strconv.FormatInt(*id, 10)})
	} else if err != nil {
		return err
	}
	return nil
}

// CreateCollectible inserts c and records e in the same transaction.
func (s *Achievements) CreateCollectible(ctx context.Context, c achievements.Collectible, now time.Time, e audit.Entry) (achievements.Collectible, error) {
	err := s.db.Write().Tx(ctx, func(tx *sql.Tx) error {
		if err := s.checkAchievementRef(ctx, tx, c.AchievementID); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO collectibles (slug, name, image_url, rarity, supply, minted, price_credits, achievement_id, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, 0, ?, ?, ?, ?)`, c.Slug, c.Name, c.ImageURL, string(c.Rarity), nullInt(c.Supply), nullInt(c.PriceCredits),
			nullInt(c.AchievementID), ms(now), ms(now))
		if _, dup := sqldb.IsDuplicate(err); dup {
			return slugConflict("collectible", err)
		}
		if err != nil {
			return err
		}
		if c.ID, err = res.LastInsertId(); err != nil {
			return err
		}
		c.Minted, c.Remaining = 0, achievements.Remaining(c.Supply, 0)
		c.CreatedAt, c.UpdatedAt = fromMS(ms(now)), fromMS(ms(now))
		e.TargetID, e.After = c.ID, c
		_, err = s.audit.AppendTx(ctx, tx, e)
		return err
	})
	return c, err
}

// UpdateCollectible applies p under the collectible's lock: a supply below
// what was minted already is refused (409).
func (s *Achievements) UpdateCollectible(ctx context.Context, id int64, p achievements.CollectiblePatch, now time.Time, e audit.Entry) (achievements.Collectible, error) {
	var c achievements.Collectible
	err := s.db.Write().Tx(ctx, func(tx *sql.Tx) error {
		before, err := s.collectibleTx(ctx, txQuery(tx), id, forUpdate(s.db))
		if err != nil {
			return err
		}
		c = p.Apply(before)
		if c.Supply != nil && *c.Supply < c.Minted {
			return &apperr.Error{Code: apperr.Conflict, Message: strconv.FormatInt(c.Minted, 10) + " were handed out already; the supply cannot be lower",
				Fields: map[string]string{"supply": "is below what was handed out"}}
		}
		if p.AchievementID.Set {
			if err := s.checkAchievementRef(ctx, tx, c.AchievementID); err != nil {
				return err
			}
		}
		c.UpdatedAt = fromMS(ms(now))
		if _, err := tx.ExecContext(ctx, `UPDATE collectibles SET name = ?, image_url = ?, rarity = ?, supply = ?, price_credits = ?, achievement_id = ?, updated_at = ?
			WHERE id = ?`, c.Name, c.ImageURL, string(c.Rarity), nullInt(c.Supply), nullInt(c.PriceCredits), nullInt(c.AchievementID), ms(now), id); err != nil {
			return err
		}
		e.Before, e.After = before, c
		_, err = s.audit.AppendTx(ctx, tx, e)
		return err
	})
	return c, err
}

// UserCollectibles returns what userID holds, newest first.
func (s *Achievements) UserCollectibles(ctx context.Context, userID int64) ([]achievements.Owned, error) {
	q := s.db.Fresh().Query
	if err := s.userExists(ctx, q, userID); err != nil {
		return nil, err
	}
	out := []achievements.Owned{}
	err := q(ctx, func(rows *sql.Rows) error {
		var o achievements.Owned
		var at int64
		c, err := scanCollectible(rows, &o.Serial, &at)
		o.Collectible, o.AcquiredAt = c, fromMS(at)
		out = append(out, o)
		return err
	}, `SELECT c.id, c.slug, c.name, c.image_url, c.rarity, c.supply, c.minted, c.price_credits, c.achievement_id, c.created_at, c.updated_at,
		uc.serial, uc.acquired_at
		FROM user_collectibles uc JOIN collectibles c ON c.id = uc.collectible_id
		WHERE uc.user_id = ? ORDER BY uc.acquired_at DESC, c.id DESC`, userID)
	return out, err
}

// Claim runs ClaimTx in a transaction of its own.
func (s *Achievements) Claim(ctx context.Context, collectibleID, userID int64, source string, now time.Time) (achievements.Owned, error) {
	var o achievements.Owned
	err := s.db.Write().Tx(ctx, func(tx *sql.Tx) error {
		var err error
		o, err = s.ClaimTx(ctx, tx, collectibleID, userID, source, now)
		return err
	})
	return o, err
}

// ClaimTx hands userID the next serial of a collectible inside tx, the
// caller's transaction (a purchase debits the wallet in the same one):
// 404 not_found for an unknown collectible or user, 409 already_owned
// when the user holds one, 409 sold_out when a limited supply is gone.
// On an error the caller rolls tx back; sold_out and already_owned change
// nothing, so a caller may also carry on.
//
// The supply is guarded by the write itself: minted is incremented only
// WHERE minted < supply, which takes the collectible's row lock (MySQL)
// or runs on the single writer (SQLite), so concurrent claims get
// distinct serials 1..supply and never one more. The user's row is locked
// first (MySQL), in the order awards lock, so a purchase and an award for
// one user cannot deadlock. The returned collectible is read after the
// claim, under its lock: o.Collectible.PriceCredits is the price to charge
// (nil when it is not for sale: the purchase route refuses that).
func (s *Achievements) ClaimTx(ctx context.Context, tx *sql.Tx, collectibleID, userID int64, source string, now time.Time) (achievements.Owned, error) {
	var o achievements.Owned
	if _, err := s.xp.HoldTx(ctx, tx, userID); err != nil { // the user exists, and is locked on MySQL
		return o, err
	}
	var owned int
	err := tx.QueryRowContext(ctx, `SELECT 1 FROM user_collectibles WHERE collectible_id = ? AND user_id = ?`, collectibleID, userID).Scan(&owned)
	switch {
	case err == nil:
		return o, apperr.New(apperr.AlreadyOwned, "you hold this collectible already")
	case !errors.Is(err, sql.ErrNoRows):
		return o, err
	}
	res, err := tx.ExecContext(ctx, `UPDATE collectibles SET minted = minted + 1 WHERE id = ? AND (supply IS NULL OR minted < supply)`, collectibleID)
	if err != nil {
		return o, err
	}
	if affected(res) == 0 {
		if _, err := s.collectibleTx(ctx, txQuery(tx), collectibleID, ""); err != nil {
			return o, err
		}
		return o, apperr.New(apperr.SoldOut, "this collectible is sold out")
	}
	if o.Collectible, err = s.collectibleTx(ctx, txQuery(tx), collectibleID, ""); err != nil {
		return o, err
	}
	o.Serial, o.AcquiredAt = o.Collectible.Minted, fromMS(ms(now))
	_, err = tx.ExecContext(ctx, `INSERT INTO user_collectibles (collectible_id, user_id, serial, source, acquired_at) VALUES (?, ?, ?, ?, ?)`,
		collectibleID, userID, o.Serial, source, ms(now))
	if _, dup := sqldb.IsDuplicate(err); dup {
		// Raced by the same user (the lock above rules it out on MySQL):
		// give the serial back, under the row lock we still hold.
		if _, err := tx.ExecContext(ctx, `UPDATE collectibles SET minted = minted - 1 WHERE id = ?`, collectibleID); err != nil {
			return o, err
		}
		return achievements.Owned{}, apperr.New(apperr.AlreadyOwned, "you hold this collectible already")
	}
	return o, err
}
