// Package sqlstore implements the stores of Plaza's business packages on
// SQLite and MySQL/MariaDB. The SQL is plain and shared between the two
// dialects where it can be; where it cannot, both versions sit side by side.
// Times are stored as Unix milliseconds in BIGINT columns on both engines.
package sqlstore

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/plazahq/plaza/internal/apperr"
	"github.com/plazahq/plaza/internal/sqldb"
)

func ms(t time.Time) int64 { return t.UnixMilli() }

func fromMS(v int64) time.Time { return time.UnixMilli(v).UTC() }

func nullMS(v sql.NullInt64) (time.Time, bool) {
	if !v.Valid {
		return time.Time{}, false
	}
	return fromMS(v.Int64), true
}

func notFound(what string) error {
	return apperr.New(apperr.NotFound, what+" not found")
}

// forUpdate locks the rows a transaction reads on MySQL; SQLite's
// transactions are already exclusive (BEGIN IMMEDIATE).
func forUpdate(db *sqldb.DB) string {
	if db.Dialect == sqldb.MySQL {
		return " FOR UPDATE"
	}
	return ""
}

func affected(res sql.Result) int64 {
	n, err := res.RowsAffected()
	if err != nil {
		return 0
	}
	return n
}

// placeholders returns "?,?,...,?" with n marks.
func placeholders(n int) string {
	if n <= 0 {
		return ""
	}
	b := make([]byte, 2*n-1)
	for i := range b {
		if i%2 == 0 {
			b[i] = '?'
		} else {
			b[i] = ','
		}
	}
	return string(b)
}

// inIDs marks where queryIDs puts an IN list's placeholders.
const inIDs = "/*ids*/"

// maxPreparedIDs is the longest IN list queryIDs runs prepared.
const maxPreparedIDs = 128

// queryIDs is Query for a hot read with an IN list of ids (written inIDs
// in query; lead are the arguments before it). The list is padded with
// its first id again (which changes no IN predicate) to the next power of
// two, so the statement's text is one of a few and stays prepared
// (QueryPrepared) instead of being parsed on every call; a list longer
// than maxPreparedIDs runs unprepared.
func queryIDs(ctx context.Context, p *sqldb.Pool, each func(*sql.Rows) error, query string, lead []any, ids []int64) error {
	n := len(ids)
	if n <= maxPreparedIDs {
		n = 1
		for n < len(ids) {
			n *= 2
		}
	}
	args := make([]any, 0, len(lead)+n)
	args = append(args, lead...)
	for i := range n {
		if i < len(ids) {
			args = append(args, ids[i])
		} else {
			args = append(args, ids[0])
		}
	}
	q := strings.Replace(query, inIDs, placeholders(n), 1)
	if n > maxPreparedIDs {
		return p.Query(ctx, each, q, args...)
	}
	return p.QueryPrepared(ctx, each, q, args...)
}
