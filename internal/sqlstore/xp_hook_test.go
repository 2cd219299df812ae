package sqlstore_test

import (
	"context"
	"database/sql"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/plazahq/plaza/internal/account"
	"github.com/plazahq/plaza/internal/gamification"
	"github.com/plazahq/plaza/internal/sqldb"
	"github.com/plazahq/plaza/internal/sqldb/sqldbtest"
	"github.com/plazahq/plaza/internal/sqlstore"
)

// TestXPOnCommit: listeners hear of each committed row (negative ones
// too) with its id, never of a rolled-back or duplicate one.
func TestXPOnCommit(t *testing.T) {
	sqldbtest.ForEach(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
		u, err := sqlstore.NewAccounts(db).CreateUser(ctx, account.NewUser{Email: "hook@example.com", Username: "hook_user",
			PasswordHash: "h", Role: account.RoleUser}, nil, now)
		if err != nil {
			t.Fatal(err)
		}
		xp := sqlstore.NewXP(db, nil)
		var mu sync.Mutex
		var got []gamification.Posted
		xp.OnCommit(func(p gamification.Posted) { mu.Lock(); got = append(got, p); mu.Unlock() })
		award := gamification.Award{UserID: u.ID, Amount: 10, Reason: gamification.ReasonLesson, Ref: "lesson:1"}
		if _, err := xp.Award(ctx, now, award); err != nil {
			t.Fatal(err)
		}
		if _, err := xp.Award(ctx, now, award); err != nil { // the same cause: no row
			t.Fatal(err)
		}
		boom := errors.New("boom")
		err = db.Write().Tx(ctx, func(tx *sql.Tx) error {
			if _, err := xp.AwardTx(ctx, tx, now, gamification.Award{UserID: u.ID, Amount: 5, Reason: gamification.ReasonLesson, Ref: "lesson:2"}); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatal(err)
		}
		if _, err := xp.Award(ctx, now, gamification.Award{UserID: u.ID, Amount: -4, Reason: gamification.ReasonAdjustment, Ref: "removed:1"}); err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got[0].Amount != 10 || got[1].Amount != -4 || got[0].ID <= 0 || got[1].ID <= got[0].ID || got[1].UserID != u.ID || !got[1].At.Equal(now) {
			t.Fatalf("heard %+v", got)
		}
		tx, err := db.Write().DB().BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		if _, err := xp.AwardTx(ctx, tx, now, gamification.Award{UserID: u.ID, Amount: 1, Reason: gamification.ReasonLesson, Ref: "lesson:3"}); !errors.Is(err, sqldb.ErrNotPoolTx) {
			t.Errorf("award in a transaction Tx did not start: %v", err)
		}
	})
}
