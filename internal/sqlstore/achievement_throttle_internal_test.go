package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"testing"
	"time"

	"github.com/plazahq/plaza/internal/account"
	"github.com/plazahq/plaza/internal/community"
	"github.com/plazahq/plaza/internal/gamification"
	"github.com/plazahq/plaza/internal/sqldb"
	"github.com/plazahq/plaza/internal/sqldb/sqldbtest"
)

// TestThrottleKnowsOnlyCommittedMadeChecks: a check counts as waiting
// only after the transaction that made it commits, and only until it is
// due.
func TestThrottleKnowsOnlyCommittedMadeChecks(t *testing.T) {
	sqldbtest.ForEach(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		th := newCheckThrottle(time.Second)
		due := time.Now().Add(time.Minute)
		err := db.Write().Tx(ctx, func(tx *sql.Tx) error {
			th.madeCheck(db, tx, 7, due)
			return errors.New("rolled back")
		})
		if err == nil || th.waiting(7, time.Now()) {
			t.Fatalf("after a rollback: err %v, waiting %v; want an error and not waiting", err, th.waiting(7, time.Now()))
		}
		if err := db.Write().Tx(ctx, func(tx *sql.Tx) error { th.madeCheck(db, tx, 7, due); return nil }); err != nil {
			t.Fatal(err)
		}
		if !th.waiting(7, time.Now()) || th.waiting(7, due) || th.waiting(8, time.Now()) {
			t.Errorf("waiting(7, now) = %v, (7, due) = %v, (8, now) = %v; want true, false, false",
				th.waiting(7, time.Now()), th.waiting(7, due), th.waiting(8, time.Now()))
		}
	})
}

// TestPostsKnowTheirMadeCheck: on SQLite the post whose insert made the
// author's check leaves it known as waiting (so the next posts skip the
// insert); on MySQL, where the insert cannot tell, never.
func TestPostsKnowTheirMadeCheck(t *testing.T) {
	sqldbtest.ForEach(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		usr, err := NewAccounts(db).CreateUser(ctx, account.NewUser{Email: "mk@example.com", Username: "mk", PasswordHash: "h", Role: account.RoleUser}, nil, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		u := usr.ID
		comm := NewCommunity(db, nil, gamification.Rules{})
		ch, err := comm.CreateChannel(ctx, community.Channel{Slug: "mk", Name: "mk"}, u)
		if err != nil {
			t.Fatal(err)
		}
		for range 3 {
			if _, _, err := comm.PostMessage(ctx, community.Message{ChannelID: ch.ID, SenderID: u, Body: "hi", CreatedAt: time.Now()}, nil); err != nil {
				t.Fatal(err)
			}
		}
		// The first post's check was due at once; the second's is due at
		// the window's end, made by its insert on SQLite (the first's still
		// waits: nothing took it, so the second joined it).
		got := comm.checks.waiting(u, time.Now())
		if want := false; got != want {
			t.Errorf("%s: waiting = %v, want %v (the check due at once was joined, not made)", db.Dialect, got, want)
		}
		if _, err := db.Write().Exec(ctx, `UPDATE jobs SET state = 'running', unique_key = NULL WHERE state = 'available'`); err != nil {
			t.Fatal(err)
		}
		if _, _, err := comm.PostMessage(ctx, community.Message{ChannelID: ch.ID, SenderID: u, Body: "hi", CreatedAt: time.Now()}, nil); err != nil {
			t.Fatal(err)
		}
		if got, want := comm.checks.waiting(u, time.Now()), db.Dialect == sqldb.SQLite; got != want {
			t.Errorf("%s: after a post made the check: waiting = %v, want %v", db.Dialect, got, want)
		}
	})
}
