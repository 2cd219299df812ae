package jobs

import (
	"context"
	"database/sql"
	"encoding/json"
	"strings"
	"time"

	"github.com/plazahq/plaza/internal/apperr"
	"github.com/plazahq/plaza/internal/sqldb"
)

func ms(t time.Time) int64     { return t.UnixMilli() }
func fromMS(v int64) time.Time { return time.UnixMilli(v).UTC() }

const defaultMaxAttempts = 10

// InsertTx inserts jobs within tx, the caller's transaction: they exist if
// and only if it commits. A job whose UniqueKey is held by an unfinished job
// is skipped. Call Queue.Notify after the commit to wake workers at once.
func InsertTx(ctx context.Context, tx *sql.Tx, dialect sqldb.Dialect, now time.Time, js ...Job) error {
	return InsertPrepared(ctx, nil, tx, dialect, now, js...)
}

// InsertPrepared is InsertTx for a hot path: tx is a transaction of pool,
// whose prepared statement runs the insert (nil pool: tx runs the text).
func InsertPrepared(ctx context.Context, pool *sqldb.Pool, tx *sql.Tx, dialect sqldb.Dialect, now time.Time, js ...Job) error {
	for _, j := range js {
		if _, err := InsertOnePrepared(ctx, pool, tx, dialect, now, j); err != nil {
			return err
		}
	}
	return nil
}

// InsertOnePrepared is InsertPrepared for one job. made is true when the
// insert is known to have made a row, false when it joined a waiting job
// of the same unique key or cannot tell: MySQL's upsert counts the
// matched row as affected (ClientFoundRows), so there it is always false.
func InsertOnePrepared(ctx context.Context, pool *sqldb.Pool, tx *sql.Tx, dialect sqldb.Dialect, now time.Time, j Job) (made bool, err error) {
	q := insertSQLite
	if dialect == sqldb.MySQL {
		q = insertMySQL
	}
	if j.RunAt.IsZero() {
		j.RunAt = now
	}
	if j.MaxAttempts <= 0 {
		j.MaxAttempts = defaultMaxAttempts
	}
	if len(j.Payload) == 0 {
		j.Payload = json.RawMessage("{}")
	}
	var unique any
	if j.UniqueKey != "" {
		unique = j.UniqueKey
	}
	args := []any{j.Kind, string(j.Payload), j.Priority, j.MaxAttempts, ms(j.RunAt), unique, ms(now), ms(now)}
	var res sql.Result
	if pool != nil {
		res, err = pool.ExecTx(ctx, tx, q, args...)
	} else {
		res, err = tx.ExecContext(ctx, q, args...)
	}
	if err != nil || dialect == sqldb.MySQL {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

const insertJob = `INSERT INTO jobs (kind, payload, priority, state, max_attempts, run_at, unique_key, errors, created_at, updated_at)
	VALUES (?, ?, ?, 'available', ?, ?, ?, '[]', ?, ?)`

const (
	insertSQLite = insertJob + ` ON CONFLICT (unique_key) DO NOTHING`
	insertMySQL  = insertJob + ` ON DUPLICATE KEY UPDATE id = id`
)

const jobCols = `id, kind, payload, priority, state, attempts, max_attempts, run_at, unique_key, errors, created_at, updated_at, finished_at`

func scanJob(sc interface{ Scan(...any) error }) (Job, error) {
	var j Job
	var payload, errs string
	var unique sql.NullString
	var runAt, created, updated int64
	var finished sql.NullInt64
	err := sc.Scan(&j.ID, &j.Kind, &payload, &j.Priority, &j.State, &j.Attempts, &j.MaxAttempts, &runAt, &unique, &errs, &created, &updated, &finished)
	if err != nil {
		return j, err
	}
	j.Payload = json.RawMessage(payload)
	j.UniqueKey = unique.String
	json.Unmarshal([]byte(errs), &j.Errors)
	if j.Errors == nil {
		j.Errors = []AttemptError{}
	}
	j.RunAt, j.CreatedAt, j.UpdatedAt = fromMS(runAt), fromMS(created), fromMS(updated)
	if finished.Valid {
		t := fromMS(finished.Int64)
		j.FinishedAt = &t
	}
	return j, nil
}

// store is the queue's SQL.
type store struct {
	db      *sqldb.DB
	backoff func(attempts int) time.Duration
	// coalesce names the kinds whose jobs give up their unique key as they
	// are claimed (Kind.Coalesce), so a write after that makes a new job
	// rather than joining one already running; set by Start.
	coalesce []string
}

// claimSet is the SET list of a claim: the lease, and for the kinds in
// s.coalesce a released unique key (in the same statement, rather than a
// write of its own per job). Its arguments follow lease, worker and now.
func (s store) claimSet() (string, []any) {
	set := `state = 'running', attempts = attempts + 1, lease_until = ?, locked_by = ?, updated_at = ?`
	if len(s.coalesce) == 0 {
		return set, nil
	}
	args := make([]any, len(s.coalesce))
	for i, k := range s.coalesce {
		args[i] = k
	}
	return set + `, unique_key = CASE WHEN kind IN (` + strings.TrimSuffix(strings.Repeat("?,", len(args)), ",") + `) THEN NULL ELSE unique_key END`, args
}

// claimableSQLite picks the jobs a claim on SQLite leases, in claim
// order. Its state is a constant so that the partial claim index (only
// available jobs, migration 00017) answers it.
const claimableSQLite = `SELECT id FROM jobs WHERE state = 'available' AND run_at <= ? ORDER BY priority DESC, run_at, id LIMIT ? + 0`

// claim leases up to n due jobs to worker until lease.
func (s store) claim(ctx context.Context, worker string, n int, now, lease time.Time) ([]Job, error) {
	var out []Job
	each := func(rows *sql.Rows) error {
		j, err := scanJob(rows)
		out = append(out, j)
		return err
	}
	if s.db.Dialect == sqldb.SQLite {
		// One writer: the UPDATE is atomic, RETURNING hands back the rows.
		// A constant text, run for every claim: kept prepared. The limit
		// is written "? + 0": a plain "LIMIT ?" makes SQLite re-prepare
		// the statement whenever its value is bound anew.
		set, kinds := s.claimSet()
		args := append(append([]any{ms(lease), worker, ms(now)}, kinds...), ms(now), n)
		err := s.db.Write().QueryPrepared(ctx, each, `UPDATE jobs SET `+set+`
			WHERE id IN (`+claimableSQLite+`) RETURNING `+jobCols, args...)
		return out, err
	}
	err := s.db.Write().Tx(ctx, func(tx *sql.Tx) error {
		out = out[:0] // a deadlock victim runs again
		var ids []any
		err := sqldb.QueryRows(ctx, tx, func(rows *sql.Rows) error {
			var id int64
			ids = append(ids, &id)
			return rows.Scan(&id)
		}, `SELECT id FROM jobs WHERE state = 'available' AND run_at <= ? ORDER BY priority DESC, run_at, id LIMIT ? FOR UPDATE SKIP LOCKED`, ms(now), n)
		if err != nil || len(ids) == 0 {
			return err
		}
		args := make([]any, len(ids))
		for i, p := range ids {
			args[i] = *(p.(*int64))
		}
		in := strings.TrimSuffix(strings.Repeat("?,", len(args)), ",")
		set, kinds := s.claimSet()
		if _, err := tx.ExecContext(ctx, `UPDATE jobs SET `+set+` WHERE id IN (`+in+`)`,
			append(append([]any{ms(lease), worker, ms(now)}, kinds...), args...)...); err != nil {
			return err
		}
		return sqldb.QueryRows(ctx, tx, each, `SELECT `+jobCols+` FROM jobs WHERE id IN (`+in+`) ORDER BY priority DESC, run_at, id`, args...)
	})
	return out, err
}

// complete records the success of a batch of jobs. The payload is cleared:
// it may hold secrets (a mailed code) and nothing reads a finished job's.
func (s store) complete(ctx context.Context, ids []int64, worker string, now time.Time) error {
	args := []any{ms(now), ms(now), worker}
	for _, id := range ids {
		args = append(args, id)
	}
	in := strings.TrimSuffix(strings.Repeat("?,", len(ids)), ",")
	_, err := s.db.Write().Exec(ctx, `UPDATE jobs SET state = 'completed', finished_at = ?, updated_at = ?, lease_until = NULL, unique_key = NULL, payload = '{}'
		WHERE locked_by = ? AND state = 'running' AND id IN (`+in+`)`, args...)
	return err
}

// fail records a failed attempt: back to available after a backoff, or
// dead after the last one (or at once for a permanent failure).
func (s store) fail(ctx context.Context, j Job, worker string, cause error, permanent bool, now time.Time) (string, error) {
	msg := cause.Error()
	if len(msg) > 2000 {
		msg = msg[:2000]
	}
	errs := append(j.Errors, AttemptError{At: now, Attempt: j.Attempts, Error: msg})
	if len(errs) > 20 {
		errs = errs[len(errs)-20:]
	}
	eb, _ := json.Marshal(errs)
	cond, args := `id = ? AND state = 'running'`, []any{j.ID}
	if worker != "" {
		cond, args = cond+` AND locked_by = ?`, append(args, worker)
	}
	if permanent || j.Attempts >= j.MaxAttempts {
		_, err := s.db.Write().Exec(ctx, `UPDATE jobs SET state = 'dead', errors = ?, finished_at = ?, updated_at = ?, lease_until = NULL, unique_key = NULL
			WHERE `+cond, append([]any{string(eb), ms(now), ms(now)}, args...)...)
		return Dead, err
	}
	_, err := s.db.Write().Exec(ctx, `UPDATE jobs SET state = 'available', errors = ?, run_at = ?, updated_at = ?, lease_until = NULL, locked_by = ''
		WHERE `+cond, append([]any{string(eb), ms(now.Add(s.backoff(j.Attempts))), ms(now)}, args...)...)
	return Available, err
}

// release hands claimed jobs back without counting the attempt (shutdown).
func (s store) release(ctx context.Context, j Job, worker string, now time.Time) error {
	_, err := s.db.Write().Exec(ctx, `UPDATE jobs SET state = 'available', attempts = attempts - 1, lease_until = NULL, locked_by = '', updated_at = ?
		WHERE id = ? AND locked_by = ? AND state = 'running'`, ms(now), j.ID, worker)
	return err
}

// heartbeat extends the leases of every job worker runs.
func (s store) heartbeat(ctx context.Context, worker string, lease, now time.Time) error {
	_, err := s.db.Write().Exec(ctx, `UPDATE jobs SET lease_until = ? WHERE state = 'running' AND locked_by = ?`, ms(lease), worker)
	return err
}

// expiredWhere finds running jobs whose lease ran out; on SQLite the
// partial lease index (only running jobs) answers it.
const expiredWhere = `WHERE state = 'running' AND lease_until < ?`

// expired returns running jobs whose lease ran out: their worker died.
func (s store) expired(ctx context.Context, now time.Time) ([]Job, error) {
	var out []Job
	err := s.db.Write().Query(ctx, func(rows *sql.Rows) error {
		j, err := scanJob(rows)
		out = append(out, j)
		return err
	}, `SELECT `+jobCols+` FROM jobs `+expiredWhere+` LIMIT 100`, ms(now))
	return out, err
}

// purge deletes finished jobs older than keep.
//
// It deletes by primary key, purgeBatch rows at a time: one DELETE over a
// range of the state index made MySQL lock that range and its gaps until
// it committed, which stalled every job insert and completion of every
// instance behind it (and held SQLite's one writer as long).
func (s store) purge(ctx context.Context, now time.Time, keep time.Duration) (int64, error) {
	var total int64
	for {
		var ids []any
		err := s.db.Write().Query(ctx, func(rows *sql.Rows) error {
			var id int64
			err := rows.Scan(&id)
			ids = append(ids, id)
			return err
		}, `SELECT id FROM jobs WHERE state IN ('completed', 'discarded') AND finished_at < ? ORDER BY id LIMIT ?`, ms(now.Add(-keep)), purgeBatch)
		if err != nil || len(ids) == 0 {
			return total, err
		}
		// The state again: an admin may have retried a discarded job since.
		res, err := s.db.Write().Exec(ctx, `DELETE FROM jobs WHERE id IN (`+strings.TrimSuffix(strings.Repeat("?,", len(ids)), ",")+`)
			AND state IN ('completed', 'discarded')`, ids...)
		if err != nil {
			return total, err
		}
		n, _ := res.RowsAffected()
		total += n
		if len(ids) < purgeBatch {
			return total, nil
		}
	}
}

// purgeBatch is how many finished jobs one purge statement deletes.
const purgeBatch = 500

// Depth is how many jobs of a kind are in a state.
type Depth struct {
	Kind  string `json:"kind"`
	State string `json:"state"`
	Count int64  `json:"count"`
	// Due counts the available jobs whose run_at has come (at the time of
	// reading): work waiting for a worker, not work scheduled for later.
	Due int64 `json:"due"`
}

func (s store) depth(ctx context.Context, now time.Time) ([]Depth, error) {
	out := []Depth{}
	err := s.db.Read().Query(ctx, func(rows *sql.Rows) error {
		var d Depth
		err := rows.Scan(&d.Kind, &d.State, &d.Count, &d.Due)
		out = append(out, d)
		return err
	}, `SELECT kind, state, COUNT(*), COALESCE(SUM(CASE WHEN state = 'available' AND run_at <= ? THEN 1 ELSE 0 END), 0)
		FROM jobs WHERE state IN ('available', 'running', 'dead') GROUP BY kind, state ORDER BY kind, state`, ms(now))
	return out, err
}

func (s store) list(ctx context.Context, state, kind string, before int64, limit int) ([]Job, error) {
	out := []Job{}
	where, args := []string{"id < ?"}, []any{before}
	if state != "" {
		where, args = append(where, "state = ?"), append(args, state)
	}
	if kind != "" {
		where, args = append(where, "kind = ?"), append(args, kind)
	}
	err := s.db.Read().Query(ctx, func(rows *sql.Rows) error {
		j, err := scanJob(rows)
		out = append(out, j)
		return err
	}, `SELECT `+jobCols+` FROM jobs WHERE `+strings.Join(where, " AND ")+` ORDER BY id DESC LIMIT ?`, append(args, limit)...)
	return out, err
}

func (s store) get(ctx context.Context, id int64) (Job, error) {
	var j Job
	found := false
	err := s.db.Fresh().Query(ctx, func(rows *sql.Rows) error {
		var err error
		j, err = scanJob(rows)
		found = true
		return err
	}, `SELECT `+jobCols+` FROM jobs WHERE id = ?`, id)
	if err == nil && !found {
		err = apperr.New(apperr.NotFound, "job not found")
	}
	return j, err
}

// setState moves a job from one of the from states to to (operator
// actions): back to available for a fresh set of attempts, or finished.
// A job made available again keeps its schedule: it runs now, or when it
// was due if that is later (an event's reminder discarded hours before
// the event, then retried, waits for its hour instead of going out now).
func (s store) setState(ctx context.Context, id int64, to string, now time.Time, from ...string) error {
	set := `state = ?, updated_at = ?, finished_at = ?, unique_key = NULL`
	args := []any{to, ms(now), ms(now)}
	if to == Available {
		set = `state = ?, updated_at = ?, run_at = CASE WHEN run_at > ? THEN run_at ELSE ? END, attempts = 0, finished_at = NULL, locked_by = ''`
		args = append(args, ms(now))
	}
	args = append(args, id)
	for _, f := range from {
		args = append(args, f)
	}
	in := strings.TrimSuffix(strings.Repeat("?,", len(from)), ",")
	res, err := s.db.Write().Exec(ctx, `UPDATE jobs SET `+set+` WHERE id = ? AND state IN (`+in+`)`, args...)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		if _, err := s.get(ctx, id); err != nil {
			return err
		}
		return apperr.New(apperr.Conflict, "the job is not in a state that allows this ("+strings.Join(from, " or ")+")")
	}
	return nil
}
