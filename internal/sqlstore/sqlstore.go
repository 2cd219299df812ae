// Package sqlstore implements the stores of Plaza's business packages on
// SQLite and MySQL/MariaDB. The SQL is plain and shared between the two
// dialects where it can be; where it cannot, both versions sit side by side.
// Times are stored as Unix milliseconds in BIGINT columns on both engines.
package sqlstore

import (
	"database/sql"
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
