package sqlstore

import (
	"database/sql"
	"sync"

	"github.com/plazahq/plaza/internal/sqldb"
)

// dayMemo holds what this instance learned from committed transactions
// about the current UTC day (who reached a daily XP cap, who has been
// active): facts that only accumulate within a day, so a remembered one
// stays true until the day ends. Entries are added only after the
// transaction that learned them commits (a rolled-back one learned
// nothing), only for the day they hold for; a later day starts empty and
// a fact of a day already over is dropped. Days are any increasing
// numbering of UTC days, the same for every call on one memo.
type dayMemo[K comparable, V any] struct {
	mu    sync.Mutex
	day   int64
	byKey map[K]V
}

// get returns what is remembered for k on day.
func (m *dayMemo[K, V]) get(day int64, k K) (V, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var zero V
	if m.day != day {
		return zero, false
	}
	v, ok := m.byKey[k]
	if !ok {
		return zero, false
	}
	return v, true
}

// rememberAfterCommit stores, once tx commits, merge(old) for k on day
// (old is the zero value when nothing was remembered). A transaction the
// database did not start has no commit to wait for: nothing is stored.
func (m *dayMemo[K, V]) rememberAfterCommit(db *sqldb.DB, tx *sql.Tx, day int64, k K, merge func(old V) V) {
	_ = db.AfterCommit(tx, func() {
		m.mu.Lock()
		defer m.mu.Unlock()
		switch {
		case day < m.day:
			return // a transaction of a day already over
		case day > m.day || m.byKey == nil:
			m.day, m.byKey = day, map[K]V{}
		}
		m.byKey[k] = merge(m.byKey[k])
	})
}
