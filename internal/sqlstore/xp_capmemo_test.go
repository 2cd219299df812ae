package sqlstore_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/plazahq/plaza/internal/community"
	"github.com/plazahq/plaza/internal/gamification"
	"github.com/plazahq/plaza/internal/sqldb"
	"github.com/plazahq/plaza/internal/sqldb/sqldbtest"
	"github.com/plazahq/plaza/internal/sqlstore"
)

// TestPostXPExactWithCapMemo posts in parallel, past the daily cap, as
// several users at once (through the group committer, where awards share
// transactions): each earns exactly the cap, the memo then knows them
// capped for that day only, and the next day's posts earn again. Both
// engines.
func TestPostXPExactWithCapMemo(t *testing.T) {
	sqldbtest.ForEach(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		now := time.Date(2026, 12, 1, 23, 59, 0, 0, time.UTC)
		users := mkUsers(t, db, "cap", 4)
		xp := sqlstore.NewXP(db, nil)
		rules := gamification.DefaultRules // 1 XP a message, 20 a day
		comm := sqlstore.NewCommunity(db, xp, rules)
		ch, err := comm.CreateChannel(ctx, community.Channel{Slug: "cap", Name: "Cap", CreatedAt: now}, users[0])
		if err != nil {
			t.Fatal(err)
		}
		post := func(at time.Time, perUser int) map[int64]int64 {
			var wg sync.WaitGroup
			var mu sync.Mutex
			awarded := map[int64]int64{}
			for _, u := range users {
				for i := range perUser {
					wg.Go(func() {
						_, res, err := comm.PostMessage(ctx, community.Message{ChannelID: ch.ID, SenderID: u, Body: fmt.Sprint("post ", i), CreatedAt: at}, nil)
						if err != nil {
							t.Error(err)
							return
						}
						mu.Lock()
						awarded[u] += res.Awarded
						mu.Unlock()
					})
				}
			}
			wg.Wait()
			return awarded
		}
		capped := func(u int64, at time.Time) bool {
			return xp.CappedToday(u, gamification.ReasonMessage, rules.MessageDailyCap, at)
		}

		for _, u := range users {
			if capped(u, now) {
				t.Fatalf("user %d capped before posting", u)
			}
		}
		for u, got := range post(now, 35) {
			if got != rules.MessageDailyCap {
				t.Errorf("user %d: 35 posts reported %d XP awarded, want the cap %d", u, got, rules.MessageDailyCap)
			}
		}
		for _, u := range users {
			if total, ledger := xpOf(t, db, u); total != 20 || ledger != 20 {
				t.Errorf("user %d after 35 posts: users.xp %d, ledger %d; want 20 and 20", u, total, ledger)
			}
			if !capped(u, now) {
				t.Errorf("user %d reached the cap but the memo does not know it", u)
			}
			if capped(u, now.Add(time.Minute)) { // 00:00 the next day
				t.Errorf("user %d still capped on the next UTC day", u)
			}
		}
		// Capped posts still post: more of them change nothing.
		post(now, 5)
		next := now.Add(2 * time.Minute)
		for u, got := range post(next, 25) {
			if got != 20 {
				t.Errorf("user %d: next day's 25 posts awarded %d, want 20", u, got)
			}
		}
		for _, u := range users {
			if total, ledger := xpOf(t, db, u); total != 40 || ledger != 40 {
				t.Errorf("user %d after two days: users.xp %d, ledger %d; want 40 and 40", u, total, ledger)
			}
			if !capped(u, next) {
				t.Errorf("user %d capped on the second day but the memo does not know it", u)
			}
		}
		var n int
		if err := db.Write().QueryRow(ctx, []any{&n}, `SELECT COUNT(*) FROM messages WHERE channel_id = ?`, ch.ID); err != nil {
			t.Fatal(err)
		}
		if want := len(users) * (35 + 5 + 25); n != want {
			t.Errorf("%d messages stored, want %d", n, want)
		}
	})
}

// TestCapMemoOnlyAfterCommit: an award that reaches the cap in a
// transaction that rolls back, an award one short of it, and an award
// whose ref was already awarded (no new row) leave the memo unaware;
// only a committed sum at the cap marks the user capped. Both engines.
func TestCapMemoOnlyAfterCommit(t *testing.T) {
	sqldbtest.ForEach(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
		u := mkUsers(t, db, "memo", 1)[0]
		xp := sqlstore.NewXP(db, nil)
		award := func(ref string, amount int64) gamification.Award {
			return gamification.Award{UserID: u, Amount: amount, Reason: gamification.ReasonMessage, Ref: ref, DailyCap: 10}
		}
		capped := func() bool { return xp.CappedToday(u, gamification.ReasonMessage, 10, now) }

		if res, err := xp.Award(ctx, now, award("message:1", 9)); err != nil || res.Awarded != 9 {
			t.Fatalf("first award: %+v %v", res, err)
		}
		if capped() {
			t.Fatal("capped at 9 of 10")
		}
		// The same ref again: a duplicate, no row, the sum stays 9.
		if res, err := xp.Award(ctx, now, award("message:1", 1)); err != nil || res.Awarded != 0 {
			t.Fatalf("duplicate award: %+v %v", res, err)
		}
		if capped() {
			t.Fatal("a duplicate ref (no new row) marked the user capped")
		}
		// Reaching the cap in a transaction that rolls back.
		errUndo := errors.New("undo")
		err := db.Write().Tx(ctx, func(tx *sql.Tx) error {
			res, err := xp.AwardTx(ctx, tx, now, award("message:2", 5))
			if err != nil {
				return err
			}
			if res.Awarded != 1 {
				t.Errorf("award to the cap: %+v, want 1 awarded", res)
			}
			return errUndo
		})
		if !errors.Is(err, errUndo) {
			t.Fatalf("rolled-back award: %v", err)
		}
		if capped() {
			t.Fatal("an award rolled back marked the user capped")
		}
		if res, err := xp.Award(ctx, now, award("message:3", 5)); err != nil || res.Awarded != 1 {
			t.Fatalf("award to the cap: %+v %v; want 1 awarded", res, err)
		}
		if !capped() {
			t.Fatal("a committed award reached the cap but the memo does not know it")
		}
		// A lower cap is reached too; a higher one is not known to be.
		if !xp.CappedToday(u, gamification.ReasonMessage, 5, now) || xp.CappedToday(u, gamification.ReasonMessage, 11, now) {
			t.Error("memo wrong about other caps")
		}
		if xp.CappedToday(u, gamification.ReasonPlay, 10, now) {
			t.Error("capped for messages made another reason capped")
		}
		if total, ledger := xpOf(t, db, u); total != 10 || ledger != 10 {
			t.Errorf("users.xp %d, ledger %d; want 10 and 10", total, ledger)
		}
	})
}
