package sqldb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/go-sql-driver/mysql"
	"github.com/plazahq/plaza/internal/apperr"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// classify turns errors that mean "the database cannot be reached right now"
// into a 503 the client may retry; everything else passes through unchanged.
func classify(err error) error {
	if err == nil || errors.Is(err, sql.ErrNoRows) || errors.Is(err, context.Canceled) {
		return err
	}
	var ae *apperr.Error
	if errors.As(err, &ae) {
		return err
	}
	if isUnavailable(err) {
		return &apperr.Error{Code: apperr.Unavailable, Message: "the database is unavailable; retry shortly", RetryAfter: 2e9, Err: err}
	}
	return err
}

// isDeadlock reports whether MySQL/MariaDB rolled the transaction back as a
// deadlock victim (error 1213): running it again is the documented fix.
func isDeadlock(err error) bool {
	var me *mysql.MySQLError
	return errors.As(err, &me) && me.Number == 1213
}

func isUnavailable(err error) bool {
	if errors.Is(err, driver.ErrBadConn) || errors.Is(err, mysql.ErrInvalidConn) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, context.DeadlineExceeded) || errors.Is(err, sql.ErrConnDone) {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		switch me.Number {
		case 1040, // too many connections
			1053, // server shutdown in progress
			1205, // lock wait timeout
			1213, // deadlock: retrying is the fix
			2002, 2003, 2006, 2013:
			return true
		}
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_FULL:
			return true
		}
	}
	return strings.Contains(err.Error(), "connection refused") || strings.Contains(err.Error(), "bad connection")
}

// IsDuplicate reports whether err is a unique-constraint violation, and if
// so the index or column the engine names (e.g. "users.email" on SQLite,
// "uq_users_email" on MySQL); callers match on the column name within it.
func IsDuplicate(err error) (column string, ok bool) {
	var me *mysql.MySQLError
	var se *sqlite.Error
	switch {
	case errors.As(err, &me) && me.Number == 1062:
		return duplicateColumn(me.Message), true
	case errors.As(err, &se) && (se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY):
		return duplicateColumn(se.Error()), true
	}
	return "", false
}

// duplicateColumn finds the constraint in an engine message. Plaza's unique
// indexes are named uq_<table>_<column> so MySQL's "for key" names the column.
func duplicateColumn(msg string) string {
	for _, marker := range []string{"for key '", "UNIQUE constraint failed: "} {
		i := strings.LastIndex(msg, marker)
		if i < 0 {
			continue
		}
		name := strings.Trim(msg[i+len(marker):], "' )")
		if j := strings.IndexAny(name, " ,'"); j >= 0 {
			name = name[:j]
		}
		return name
	}
	return ""
}
