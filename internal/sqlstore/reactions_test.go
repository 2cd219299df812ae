package sqlstore_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/plazahq/plaza/internal/account"
	"github.com/plazahq/plaza/internal/apperr"
	"github.com/plazahq/plaza/internal/community"
	"github.com/plazahq/plaza/internal/gamification"
	"github.com/plazahq/plaza/internal/sqldb"
	"github.com/plazahq/plaza/internal/sqldb/sqldbtest"
	"github.com/plazahq/plaza/internal/sqlstore"
)

func xpOf(t *testing.T, db *sqldb.DB, user int64) (total, ledger int64) {
	t.Helper()
	ctx := context.Background()
	if err := db.Write().QueryRow(ctx, []any{&total}, `SELECT xp FROM users WHERE id = ?`, user); err != nil {
		t.Fatal(err)
	}
	if err := db.Write().QueryRow(ctx, []any{&ledger}, `SELECT COALESCE(SUM(amount), 0) FROM xp_events WHERE user_id = ?`, user); err != nil {
		t.Fatal(err)
	}
	return total, ledger
}

// TestReactionXPExactUnderRaces: 20 users react to one message at once,
// each with two emoji, twice over: the author gets exactly +20 (one per
// distinct reactor), their own reaction earns nothing, removing takes
// nothing back and re-adding awards nothing again; the ledger and the
// users' total agree. Both engines.
func TestReactionXPExactUnderRaces(t *testing.T) {
	sqldbtest.ForEach(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
		accounts := sqlstore.NewAccounts(db)
		var ids []int64
		for i := range 21 {
			u, err := accounts.CreateUser(ctx, account.NewUser{Email: fmt.Sprintf("r%d@example.com", i), Username: fmt.Sprintf("reactor_%d", i),
				PasswordHash: "h", Role: account.RoleUser}, nil, now)
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, u.ID)
		}
		author, reactors := ids[0], ids[1:]
		comm := sqlstore.NewCommunity(db, nil, gamification.DefaultRules)
		ch, err := comm.CreateChannel(ctx, community.Channel{Slug: "r", Name: "R", CreatedAt: now}, author)
		if err != nil {
			t.Fatal(err)
		}
		m, posted, err := comm.PostMessage(ctx, community.Message{ChannelID: ch.ID, SenderID: author, Body: "react to me", CreatedAt: now}, nil)
		if err != nil || posted.Awarded != 1 {
			t.Fatalf("post: %+v %v", posted, err)
		}
		react := func(user int64, emoji string, on bool) community.ReactionChange {
			c, err := comm.React(ctx, community.Reaction{Kind: community.KindMessage, ItemID: m.ID, Author: author, UserID: user, Emoji: emoji, CreatedAt: now}, on)
			if err != nil {
				t.Error(err)
			}
			return c
		}
		var mu sync.Mutex
		var awarded int64
		changed := 0
		var wg sync.WaitGroup
		for range 2 {
			for _, u := range reactors {
				for _, e := range []string{"👍", "🔥"} {
					wg.Go(func() {
						c := react(u, e, true)
						mu.Lock()
						awarded += c.XP.Awarded
						if c.Changed {
							changed++
						}
						mu.Unlock()
					})
				}
			}
		}
		wg.Wait()
		if awarded != 20 || changed != 40 {
			t.Fatalf("awarded %d XP over %d new reactions, want 20 over 40", awarded, changed)
		}
		if c := react(author, "👍", true); c.XP.Awarded != 0 || !c.Changed || c.Count != 21 {
			t.Fatalf("own reaction: %+v", c)
		}
		for _, u := range reactors {
			react(u, "👍", false)
		}
		if c := react(reactors[0], "👍", false); c.Changed || c.Count != 1 {
			t.Fatalf("removing twice: %+v", c)
		}
		if c := react(reactors[0], "👍", true); c.XP.Awarded != 0 || !c.Changed {
			t.Fatalf("re-adding: %+v", c)
		}
		if total, ledger := xpOf(t, db, author); total != 21 || ledger != 21 {
			t.Fatalf("author xp %d, ledger %d, want 21 (1 post + 20 reactors)", total, ledger)
		}

		counts, err := comm.Reactions(ctx, community.KindMessage, []int64{m.ID, m.ID + 1000}, reactors[0])
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]community.ReactionCount{"👍": {Emoji: "👍", Count: 2, Mine: true}, "🔥": {Emoji: "🔥", Count: 20, Mine: true}}
		if len(counts) != 1 || len(counts[m.ID]) != 2 {
			t.Fatalf("counts %+v", counts)
		}
		for _, c := range counts[m.ID] {
			if c != want[c.Emoji] {
				t.Errorf("count %+v, want %+v", c, want[c.Emoji])
			}
		}
		mine, err := comm.MyReactions(ctx, community.KindMessage, []int64{m.ID}, author)
		if err != nil || len(mine[m.ID]) != 1 || mine[m.ID][0] != "👍" {
			t.Fatalf("mine %v %v", mine, err)
		}
	})
}

// TestMessageXPDailyCap: message XP stops at the daily cap, even with
// posts racing, and starts again the next UTC day.
func TestMessageXPDailyCap(t *testing.T) {
	sqldbtest.ForEach(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		now := time.Date(2026, 12, 1, 23, 0, 0, 0, time.UTC)
		u, err := sqlstore.NewAccounts(db).CreateUser(ctx, account.NewUser{Email: "cap@example.com", Username: "capped",
			PasswordHash: "h", Role: account.RoleUser}, nil, now)
		if err != nil {
			t.Fatal(err)
		}
		comm := sqlstore.NewCommunity(db, nil, gamification.DefaultRules)
		ch, err := comm.CreateChannel(ctx, community.Channel{Slug: "cap", Name: "Cap", CreatedAt: now}, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for range 30 {
			wg.Go(func() {
				if _, _, err := comm.PostMessage(ctx, community.Message{ChannelID: ch.ID, SenderID: u.ID, Body: "x", CreatedAt: now}, nil); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if total, ledger := xpOf(t, db, u.ID); total != 20 || ledger != 20 {
			t.Fatalf("xp %d ledger %d after 30 posts, want the cap 20", total, ledger)
		}
		_, res, err := comm.PostMessage(ctx, community.Message{ChannelID: ch.ID, SenderID: u.ID, Body: "x", CreatedAt: now.Add(2 * time.Hour)}, nil)
		if err != nil || res.Awarded != 1 || res.XP != 21 {
			t.Fatalf("next day: %+v %v", res, err)
		}

		// Rules with the message amount at 0 award nothing.
		off := sqlstore.NewCommunity(db, nil, gamification.Rules{})
		if _, res, err := off.PostMessage(ctx, community.Message{ChannelID: ch.ID, SenderID: u.ID, Body: "x", CreatedAt: now.Add(3 * time.Hour)}, nil); err != nil || res.Awarded != 0 {
			t.Fatalf("rules off: %+v %v", res, err)
		}
	})
}

// TestXPLedgerPages pages a user's ledger newest first with the total,
// level and next threshold.
func TestXPLedgerPages(t *testing.T) {
	sqldbtest.ForEach(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
		u, err := sqlstore.NewAccounts(db).CreateUser(ctx, account.NewUser{Email: "led@example.com", Username: "ledger",
			PasswordHash: "h", Role: account.RoleUser}, nil, now)
		if err != nil {
			t.Fatal(err)
		}
		xp := sqlstore.NewXP(db, nil)
		for i := range 5 {
			if _, err := xp.Award(ctx, now.Add(time.Duration(i)*time.Minute), gamification.Award{UserID: u.ID, Amount: 2, Reason: gamification.ReasonLesson, Ref: fmt.Sprint("lesson:", i)}); err != nil {
				t.Fatal(err)
			}
		}
		l, err := xp.Ledger(ctx, u.ID, 0, 3)
		if err != nil {
			t.Fatal(err)
		}
		if l.XP != 10 || l.Level != 2 || l.NextLevelAt == nil || *l.NextLevelAt != 20 || len(l.Items) != 3 || l.Items[0].Ref != "lesson:4" || l.NextCursor == "" {
			t.Fatalf("first page %+v", l)
		}
		var before int64
		fmt.Sscan(l.NextCursor, &before)
		l, err = xp.Ledger(ctx, u.ID, before, 3)
		if err != nil || len(l.Items) != 2 || l.Items[1].Ref != "lesson:0" || l.NextCursor != "" {
			t.Fatalf("second page %+v %v", l, err)
		}
		if _, err := xp.Ledger(ctx, u.ID+1000, 0, 3); err == nil {
			t.Fatal("ledger of a missing user")
		}
	})
}

// TestReactionToDeletedItemRefused: the store refuses, in the reaction's
// own transaction, a reaction to a message deleted or a shout removed
// after the caller looked: no row, no XP. Taking one off stays harmless.
func TestReactionToDeletedItemRefused(t *testing.T) {
	sqldbtest.ForEach(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
		ids := mkUsers(t, db, "deleted", 2)
		author, reactor := ids[0], ids[1]
		comm := sqlstore.NewCommunity(db, nil, gamification.DefaultRules)
		ch, err := comm.CreateChannel(ctx, community.Channel{Slug: "d", Name: "D", CreatedAt: now}, author)
		if err != nil {
			t.Fatal(err)
		}
		m, _, err := comm.PostMessage(ctx, community.Message{ChannelID: ch.ID, SenderID: author, Body: "soon gone", CreatedAt: now}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := comm.DeleteMessage(ctx, m.ID, now); err != nil {
			t.Fatal(err)
		}
		before, _ := xpOf(t, db, author)
		for _, item := range []struct {
			kind community.ItemKind
			id   int64
		}{{community.KindMessage, m.ID}, {community.KindShout, 1 << 40}} {
			r := community.Reaction{Kind: item.kind, ItemID: item.id, Author: author, UserID: reactor, Emoji: "👍", CreatedAt: now}
			if c, err := comm.React(ctx, r, true); !apperr.Is(err, apperr.NotFound) || c.Changed {
				t.Fatalf("%s: reacting to a gone item: %+v %v, want not found", item.kind, c, err)
			}
			if c, err := comm.React(ctx, r, false); err != nil || c.Changed {
				t.Fatalf("%s: taking a reaction off a gone item: %+v %v", item.kind, c, err)
			}
		}
		var rows int
		if err := db.Write().QueryRow(ctx, []any{&rows}, `SELECT COUNT(*) FROM reactions`); err != nil {
			t.Fatal(err)
		}
		if after, _ := xpOf(t, db, author); after != before || rows != 0 {
			t.Fatalf("xp %d -> %d, %d reactions stored", before, after, rows)
		}
	})
}
