package sqlstore_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/plazahq/plaza/internal/achievements"
	"github.com/plazahq/plaza/internal/community"
	"github.com/plazahq/plaza/internal/gamification"
	"github.com/plazahq/plaza/internal/sqldb"
	"github.com/plazahq/plaza/internal/sqldb/sqldbtest"
	"github.com/plazahq/plaza/internal/sqlstore"
)

// TestStreakCountsHistoryBeforeItsRow: a user whose messages and shouts
// predate the streak table (written here with plain SQL, as before
// migration 00016) has no row; the check counts their history, and their
// first post after it counts the history once and carries the run on.
// Both engines.
func TestStreakCountsHistoryBeforeItsRow(t *testing.T) {
	sqldbtest.ForEach(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		u := mkUsers(t, db, "hist", 1)[0]
		ach := sqlstore.NewAchievements(db, sqlstore.NewXP(db, nil), sqlstore.NewAudit(db, nil))
		comm := sqlstore.NewCommunity(db, nil, gamification.Rules{})
		midnight := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
		ch, err := comm.CreateChannel(ctx, community.Channel{Slug: "hist", Name: "History", CreatedAt: midnight}, u)
		if err != nil {
			t.Fatal(err)
		}
		w := db.Write()
		for _, d := range []int{0, 1, 2, 5} { // a run of 3, then day 5
			at := midnight.AddDate(0, 0, d).Add(time.Duration(d) * time.Hour).UnixMilli()
			if _, err := w.Exec(ctx, `INSERT INTO messages (channel_id, sender_id, body, created_at) VALUES (?, ?, 'old', ?)`, ch.ID, u, at); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := w.Exec(ctx, `INSERT INTO shouts (user_id, body, created_at) VALUES (?, 'old', ?)`, u, midnight.AddDate(0, 0, 3).UnixMilli()); err != nil {
			t.Fatal(err)
		}
		streak := func() int64 {
			t.Helper()
			m, err := ach.Metrics(ctx, u, map[achievements.RuleKind]int64{achievements.RuleStreak: 100})
			if err != nil {
				t.Fatal(err)
			}
			return m[achievements.RuleStreak]
		}
		var rows int
		if err := w.QueryRow(ctx, []any{&rows}, `SELECT COUNT(*) FROM user_streaks WHERE user_id = ?`, u); err != nil || rows != 0 {
			t.Fatalf("streak rows before a post = %d, %v; want 0", rows, err)
		}
		if got := streak(); got != 4 { // days 0-3
			t.Errorf("streak from history = %d, want 4", got)
		}
		if _, _, err := comm.PostMessage(ctx, community.Message{ChannelID: ch.ID, SenderID: u, Body: "new", CreatedAt: midnight.AddDate(0, 0, 4)}, nil); err != nil {
			t.Fatal(err)
		}
		if got := streak(); got != 6 { // days 0-5
			t.Errorf("streak after a post on day 4 = %d, want 6", got)
		}
		if _, _, err := comm.PostMessage(ctx, community.Message{ChannelID: ch.ID, SenderID: u, Body: "new", CreatedAt: midnight.AddDate(0, 0, 6)}, nil); err != nil {
			t.Fatal(err)
		}
		var last, run, best int64
		if err := w.QueryRow(ctx, []any{&last, &run, &best}, `SELECT last_day, run, best FROM user_streaks WHERE user_id = ?`, u); err != nil {
			t.Fatal(err)
		}
		if day := midnight.UnixMilli()/86_400_000 + 6; last != day || run != 7 || best != 7 {
			t.Errorf("streak row = (%d, %d, %d), want (%d, 7, 7)", last, run, best, day)
		}
	})
}

// TestPostSkipsTheCheckInsertWhileItsCheckWaits: on SQLite, once a post's
// insert made the author's check due at the window's end, the author's
// next posts before it is due insert nothing (that check runs after
// them; the throttle's own test shows the skip); on MySQL each post
// inserts. Either way exactly one check waits, due after the posts, and
// no extra row was made. Wall clock: the skip compares with the time the
// workers take jobs by.
func TestPostSkipsTheCheckInsertWhileItsCheckWaits(t *testing.T) {
	sqldbtest.ForEach(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		u := mkUsers(t, db, "skip", 1)[0]
		comm := sqlstore.NewCommunity(db, nil, gamification.Rules{})
		t0 := time.Now()
		ch, err := comm.CreateChannel(ctx, community.Channel{Slug: "skip", Name: "Skip", CreatedAt: t0}, u)
		if err != nil {
			t.Fatal(err)
		}
		post := func(at time.Time) {
			t.Helper()
			if _, _, err := comm.PostMessage(ctx, community.Message{ChannelID: ch.ID, SenderID: u, Body: "hi", CreatedAt: at}, nil); err != nil {
				t.Fatal(err)
			}
		}
		// The first post's check is due at once; a worker takes it
		// (releasing its key). The second, within the window, makes the
		// check due at its end.
		post(time.Now())
		if _, err := db.Write().Exec(ctx, `UPDATE jobs SET state = 'running', unique_key = NULL WHERE kind = ? AND state = 'available'`, achievements.CheckKind); err != nil {
			t.Fatal(err)
		}
		post(time.Now())
		post(time.Now())
		post(time.Now())
		var waiting, dueAt int64
		if err := db.Write().QueryRow(ctx, []any{&waiting, &dueAt}, `SELECT COUNT(*), COALESCE(MAX(run_at), 0) FROM jobs WHERE kind = ? AND state = 'available'`, achievements.CheckKind); err != nil {
			t.Fatal(err)
		}
		if waiting != 1 || dueAt < time.Now().Add(-time.Second).UnixMilli() {
			t.Errorf("waiting checks = %d due %d; want 1, due after the posts", waiting, dueAt)
		}
		var inserts int64 // job rows ever made for the user's checks
		if err := db.Write().QueryRow(ctx, []any{&inserts}, `SELECT COUNT(*) FROM jobs WHERE kind = ?`, achievements.CheckKind); err != nil {
			t.Fatal(err)
		}
		if inserts != 2 {
			t.Errorf("check rows = %d, want 2", inserts)
		}
	})
}

// TestStreakExactUnderRaces: new members' first writes (messages and
// shouts, some on earlier days than others, as across midnight) race on
// one row each; every row ends as counting the user's messages and shouts
// gives, whichever made the row. Both engines, several post batches at
// once on MySQL.
func TestStreakExactUnderRaces(t *testing.T) {
	sqldbtest.ForEach(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		users := mkUsers(t, db, "race", 6)
		comm := sqlstore.NewCommunity(db, sqlstore.NewXP(db, nil), gamification.DefaultRules)
		midnight := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
		ch, err := comm.CreateChannel(ctx, community.Channel{Slug: "race", Name: "Race", CreatedAt: midnight}, users[0])
		if err != nil {
			t.Fatal(err)
		}
		days := []int{3, 0, 1, 3, 5, 2, 1, 4} // a run of 6 written out of order
		var wg sync.WaitGroup
		errs := make(chan error, len(users)*len(days))
		for _, u := range users {
			for i, d := range days {
				wg.Add(1)
				go func() {
					defer wg.Done()
					at := midnight.AddDate(0, 0, d).Add(time.Duration(i) * time.Minute)
					var err error
					if i%3 == 2 {
						_, err = comm.PostShout(ctx, community.Shout{UserID: u, Body: "hey", CreatedAt: at})
					} else {
						_, _, err = comm.PostMessage(ctx, community.Message{ChannelID: ch.ID, SenderID: u, Body: "hi", CreatedAt: at}, nil)
					}
					errs <- err
				}()
			}
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		first := midnight.UnixMilli() / 86_400_000
		for _, u := range users {
			var last, run, best int64
			if err := db.Write().QueryRow(ctx, []any{&last, &run, &best}, `SELECT last_day, run, best FROM user_streaks WHERE user_id = ?`, u); err != nil {
				t.Fatal(err)
			}
			if last != first+5 || run != 6 || best != 6 {
				t.Errorf("user %d: streak row = (%d, %d, %d), want (%d, 6, 6)", u, last, run, best, first+5)
			}
		}
	})
}
