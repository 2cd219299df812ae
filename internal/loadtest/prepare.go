// Package loadtest simulates community users against running Plaza
// instances: each signs in with a prepared session, keeps one WebSocket
// subscribed to its rooms, and follows an open-loop mix of reads, posts,
// direct messages and typing, while the run measures HTTP latency per route,
// end-to-end delivery latency, and any event that arrives late, twice or
// not at all.
package loadtest

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/plazahq/plaza/internal/account"
	"github.com/plazahq/plaza/internal/community"
	"github.com/plazahq/plaza/internal/gamification"
	"github.com/plazahq/plaza/internal/sqldb"
	"github.com/plazahq/plaza/internal/sqlstore"
)

// Prepared is what `plaza loadtest prepare` writes: accounts with live
// sessions and the channels they talk in.
type Prepared struct {
	Channels []int64 `json:"channels"`
	Users    []User  `json:"users"`
	Courses  []int64 `json:"courses,omitempty"` // published courses the mix reads
	Mixes    []int64 `json:"mixes,omitempty"`   // mixes the mix lists and plays
	Events   []int64 `json:"events,omitempty"`  // upcoming events the mix lists, some with RSVPs
}

// User is one prepared account.
type User struct {
	ID    int64  `json:"id"`
	Token string `json:"token"`
}

// Prepare creates users loadtest_<run>_<i> with sessions valid for a day,
// and channels (one per 100 users unless told), in bulk, directly in the
// database: a run then measures steady state, not password hashing.
func Prepare(ctx context.Context, db *sqldb.DB, users, channels int, progress func(string)) (Prepared, error) {
	if channels <= 0 {
		channels = max(1, users/100)
	}
	run := time.Now().Format("0102150405")
	now := time.Now()
	var p Prepared
	accounts := sqlstore.NewAccounts(db)
	for start := 0; start < users; start += 500 {
		var rows []string
		var args []any
		for i := start; i < min(start+500, users); i++ {
			name := fmt.Sprintf("lt%s_%d", run, i)
			rows = append(rows, "(?, ?, ?, 'x', ?, '', '{}', 'user', ?, ?, ?)")
			args = append(args, name+"@load.test", name, name, "Load "+name, now.UnixMilli(), now.UnixMilli(), now.UnixMilli())
		}
		if _, err := db.Write().Exec(ctx, `INSERT INTO users (email, username, username_key, password_hash, display_name, bio, settings, role, email_verified_at, created_at, updated_at)
			VALUES `+strings.Join(rows, ","), args...); err != nil {
			return p, err
		}
		ids, err := idsOf(ctx, db, fmt.Sprintf("lt%s_%%", run), start, len(rows))
		if err != nil {
			return p, err
		}
		for _, id := range ids {
			tok, err := account.MintSession(ctx, accounts, id, 24*time.Hour, now)
			if err != nil {
				return p, err
			}
			p.Users = append(p.Users, User{ID: id, Token: tok})
		}
		if progress != nil {
			progress(fmt.Sprintf("prepared %d of %d users", len(p.Users), users))
		}
	}
	if len(p.Users) == 0 {
		return p, fmt.Errorf("loadtest: no users to prepare")
	}
	comm := sqlstore.NewCommunity(db, nil, gamification.DefaultRules)
	for i := range channels {
		ch, err := comm.CreateChannel(ctx, community.Channel{Slug: fmt.Sprintf("load-%s-%d", run, i), Name: fmt.Sprintf("Load %s %d", run, i), CreatedAt: now}, p.Users[0].ID)
		if err != nil {
			return p, err
		}
		p.Channels = append(p.Channels, ch.ID)
	}
	if err := prepareContent(ctx, db, &p, run, now); err != nil {
		return p, err
	}
	return p, nil
}

// idsOf reads back the ids of the batch just inserted (the engines differ
// on what LastInsertId means for a multi-row insert).
func idsOf(ctx context.Context, db *sqldb.DB, like string, offset, n int) ([]int64, error) {
	var ids []int64
	var id int64
	err := db.Write().Query(ctx, func(rows *sql.Rows) error {
		if err := rows.Scan(&id); err != nil {
			return err
		}
		ids = append(ids, id)
		return nil
	}, `SELECT id FROM users WHERE username_key LIKE ? ORDER BY id LIMIT ? OFFSET ?`, like, n, offset)
	return ids, err
}

// Save writes p as JSON.
func (p Prepared) Save(path string) error {
	b, err := json.Marshal(p)
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o600)
}

// Load reads a prepared file.
func Load(path string) (Prepared, error) {
	var p Prepared
	b, err := os.ReadFile(path)
	if err != nil {
		return p, err
	}
	if err := json.Unmarshal(b, &p); err != nil {
		return p, fmt.Errorf("loadtest: %s: %w", path, err)
	}
	if len(p.Users) == 0 || len(p.Channels) == 0 {
		return p, fmt.Errorf("loadtest: %s has no users or channels; run plaza loadtest prepare", path)
	}
	return p, nil
}
