package sqlstore_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/plazahq/plaza/internal/account"
	"github.com/plazahq/plaza/internal/gamification"
	"github.com/plazahq/plaza/internal/sqldb"
	"github.com/plazahq/plaza/internal/sqldb/sqldbtest"
	"github.com/plazahq/plaza/internal/sqlstore"
)

// TestXPAwardsExactUnderRaces awards in parallel: one cause raced by many
// writers awards once, distinct causes all count, and a daily cap is never
// exceeded, on both engines.
func TestXPAwardsExactUnderRaces(t *testing.T) {
	sqldbtest.ForEach(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
		u, err := sqlstore.NewAccounts(db).CreateUser(ctx, account.NewUser{Email: "xp@example.com", Username: "xp_user",
			PasswordHash: "h", Role: account.RoleUser}, nil, now)
		if err != nil {
			t.Fatal(err)
		}
		xp := sqlstore.NewXP(db, nil)
		run := func(n int, award func(i int) gamification.Award) int64 {
			var wg sync.WaitGroup
			var mu sync.Mutex
			var total int64
			for i := range n {
				wg.Go(func() {
					res, err := xp.Award(ctx, now, award(i))
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					total += res.Awarded
					mu.Unlock()
				})
			}
			wg.Wait()
			return total
		}

		if got := run(16, func(int) gamification.Award {
			return gamification.Award{UserID: u.ID, Amount: 10, Reason: gamification.ReasonLesson, Ref: "lesson:1"}
		}); got != 10 {
			t.Errorf("one cause raced 16 times awarded %d XP in all, want 10", got)
		}
		if got := run(20, func(i int) gamification.Award {
			return gamification.Award{UserID: u.ID, Amount: 3, Reason: gamification.ReasonMessage, Ref: fmt.Sprint("message:", i), DailyCap: 20}
		}); got != 20 {
			t.Errorf("60 XP of messages under a cap of 20 awarded %d", got)
		}
		if got := run(8, func(i int) gamification.Award {
			return gamification.Award{UserID: u.ID, Amount: 1, Reason: gamification.ReasonReaction, Ref: fmt.Sprint("reaction:", i)}
		}); got != 8 {
			t.Errorf("8 distinct reactions awarded %d, want 8", got)
		}

		// The next day the cap starts again; users.xp and level follow the ledger.
		res, err := xp.Award(ctx, now.Add(24*time.Hour), gamification.Award{UserID: u.ID, Amount: 3, Reason: gamification.ReasonMessage, Ref: "message:next-day", DailyCap: 20})
		if err != nil || res.Awarded != 3 {
			t.Fatalf("next day's award = %+v, %v; want 3 awarded", res, err)
		}
		if want := int64(10 + 20 + 8 + 3); res.XP != want || res.Level != gamification.DefaultLevels.For(want) {
			t.Errorf("after all awards: xp %d level %d, want %d level %d", res.XP, res.Level, want, gamification.DefaultLevels.For(want))
		}
		got, err := sqlstore.NewAccounts(db).UserByID(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.XP != res.XP || got.Level != res.Level {
			t.Errorf("users row: xp %d level %d; award said %d / %d", got.XP, got.Level, res.XP, res.Level)
		}
		if !res.LeveledUp() && res.PrevLevel == res.Level && res.Level == 1 {
			t.Error("41 XP left the user at level 1")
		}
		if _, err := xp.Award(ctx, now, gamification.Award{UserID: u.ID + 1000, Amount: 1, Reason: gamification.ReasonLesson, Ref: "x"}); err == nil {
			t.Error("an award to a missing user succeeded")
		}
	})
}
