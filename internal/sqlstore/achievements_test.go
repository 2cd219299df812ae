package sqlstore_test

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plazahq/plaza/internal/account"
	"github.com/plazahq/plaza/internal/achievements"
	"github.com/plazahq/plaza/internal/achievements/achievementstest"
	"github.com/plazahq/plaza/internal/audit"
	"github.com/plazahq/plaza/internal/community"
	"github.com/plazahq/plaza/internal/gamification"
	"github.com/plazahq/plaza/internal/jobs"
	"github.com/plazahq/plaza/internal/music"
	"github.com/plazahq/plaza/internal/sqldb"
	"github.com/plazahq/plaza/internal/sqldb/sqldbtest"
	"github.com/plazahq/plaza/internal/sqlstore"
)

func mkUsers(t *testing.T, db *sqldb.DB, prefix string, n int) []int64 {
	t.Helper()
	accounts := sqlstore.NewAccounts(db)
	var ids []int64
	for i := range n {
		u, err := accounts.CreateUser(context.Background(), account.NewUser{Email: fmt.Sprintf("%s%d@example.com", prefix, i),
			Username: fmt.Sprintf("%s_%d", prefix, i), PasswordHash: "h", Role: account.RoleUser}, nil, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, u.ID)
	}
	return ids
}

// act records one unit of activity: messages and shouts through the
// community store's writes (which keep the streak), the rest with plain
// SQL (the triggers are tested on their own below).
func act(db *sqldb.DB) func(ctx context.Context, kind achievements.RuleKind, userID int64, at time.Time, n int) error {
	posts := sqlstore.NewCommunity(db, nil, gamification.Rules{}) // no XP: the suite counts XP from awards alone
	var once sync.Once
	var channel int64
	var channelErr error
	return func(ctx context.Context, kind achievements.RuleKind, userID int64, at time.Time, n int) error {
		w := db.Write()
		var err error
		insert := func(q string, args ...any) int64 {
			if err != nil {
				return 0
			}
			res, e := w.Exec(ctx, q, args...)
			if e != nil {
				err = e
				return 0
			}
			id, _ := res.LastInsertId()
			return id
		}
		t := at.UnixMilli()
		switch kind {
		case achievements.RuleMessages:
			once.Do(func() {
				c, err := posts.CreateChannel(ctx, community.Channel{Slug: "ach-fixture", Name: "fixture"}, userID)
				channel, channelErr = c.ID, err
			})
			if channelErr != nil {
				return channelErr
			}
			_, _, err = posts.PostMessage(ctx, community.Message{ChannelID: channel, SenderID: userID, Body: "hi", CreatedAt: at}, nil)
		case achievements.RuleShouts:
			_, err = posts.PostShout(ctx, community.Shout{UserID: userID, Body: "hey", CreatedAt: at})
		case achievements.RuleMixes:
			insert(`INSERT INTO mixes (creator_id, title, genres, duration_sec, audio_path, cover_path, created_at, updated_at) VALUES (?, 'mix', '', 60, 'a.mp3', '', ?, ?)`, userID, t, t)
		case achievements.RuleEvents:
			e := insert(`INSERT INTO events (owner_id, title, description, location, stream_url, starts_at, ends_at, created_at, updated_at) VALUES (?, 'ev', '', '', '', ?, ?, ?, ?)`, userID, t, t+1, t, t)
			insert(`INSERT INTO event_attendance (event_id, user_id, marked_at) VALUES (?, ?, ?)`, e, userID, t)
		case achievements.RuleCourses:
			c := insert(`INSERT INTO courses (slug, title, summary, cover_path, created_at, updated_at) VALUES (?, 'c', '', '', ?, ?)`, fmt.Sprintf("ach-%d-%d", userID, time.Now().UnixNano()), t, t)
			insert(`INSERT INTO course_enrollments (user_id, course_id, enrolled_at, completed_at) VALUES (?, ?, ?, ?)`, userID, c, t, t)
		case achievements.RuleLevel:
			insert(`UPDATE users SET level = ? WHERE id = ?`, n, userID)
		}
		return err
	}
}

func TestAchievementsConformance(t *testing.T) {
	sqldbtest.ForEach(t, func(t *testing.T, db *sqldb.DB) {
		accounts := sqlstore.NewAccounts(db)
		xpOf := func(ctx context.Context, id int64) (int64, error) {
			u, err := accounts.UserByID(ctx, id)
			return u.XP, err
		}
		achievementstest.Exercise(t, sqlstore.NewAchievements(db, sqlstore.NewXP(db, nil), sqlstore.NewAudit(db, nil)),
			achievementstest.Fixture{Users: mkUsers(t, db, "ach", 50), XPOf: xpOf, Act: act(db)})
	})
}

// TestAchievementChecksEnqueuedWithTheirWrites: each write that may meet a
// rule leaves one pending check for its user in its own transaction, and
// checks of one user coalesce while they wait. A level-up queues one only
// when a level rule the user does not hold asks for that level or less.
func TestAchievementChecksEnqueuedWithTheirWrites(t *testing.T) {
	sqldbtest.ForEach(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		now := time.Now()
		users := mkUsers(t, db, "trig", 4)
		q := jobs.NewQueue(db, jobs.Config{}, nil, sqldbtest.Quiet())
		pending := func() map[string]bool {
			js, err := q.List(ctx, jobs.Available, achievements.CheckKind, 0, 100)
			if err != nil {
				t.Fatal(err)
			}
			keys := map[string]bool{}
			for _, j := range js {
				if keys[j.UniqueKey] {
					t.Errorf("two pending checks for %s", j.UniqueKey)
				}
				keys[j.UniqueKey] = true
			}
			return keys
		}
		xp := sqlstore.NewXP(db, nil)
		comm := sqlstore.NewCommunity(db, xp, gamification.DefaultRules)
		ch, err := comm.CreateChannel(ctx, community.Channel{Slug: "trig", Name: "trig", CreatedAt: now}, users[0])
		if err != nil {
			t.Fatal(err)
		}
		for range 3 {
			if _, _, err := comm.PostMessage(ctx, community.Message{ChannelID: ch.ID, SenderID: users[0], Body: "hi", CreatedAt: now}, nil); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := comm.PostShout(ctx, community.Shout{UserID: users[1], Body: "hey", CreatedAt: now}); err != nil {
			t.Fatal(err)
		}
		if _, err := sqlstore.NewMusic(db, xp).CreateMix(ctx, music.Mix{CreatorID: users[2], Title: "m", DurationSec: 60, AudioPath: "a.mp3", CreatedAt: now, UpdatedAt: now}); err != nil {
			t.Fatal(err)
		}
		// A level reached through any award, when a level rule the user
		// does not hold asks for it: level 4 meets none (the lowest is
		// level-5), level 5 does.
		if _, err := xp.Award(ctx, now, gamification.Award{UserID: users[3], Amount: 100, Reason: gamification.ReasonAdjustment, Ref: "t"}); err != nil {
			t.Fatal(err)
		}
		if got := pending(); got[achievements.CheckKey(users[3])] {
			t.Errorf("a check for reaching level 4, which no rule asks for: %v", got)
		}
		if _, err := xp.Award(ctx, now, gamification.Award{UserID: users[3], Amount: 60, Reason: gamification.ReasonAdjustment, Ref: "t2"}); err != nil {
			t.Fatal(err)
		}
		got := pending()
		for _, u := range users {
			if !got[achievements.CheckKey(u)] {
				t.Errorf("no pending check for user %d: %v", u, got)
			}
		}
	})
}

// TestLevelUpChecksOnlyUnheldLevelRules: a level-up past a level rule the
// user already holds queues no check; reaching a level rule they do not
// hold does.
func TestLevelUpChecksOnlyUnheldLevelRules(t *testing.T) {
	sqldbtest.ForEach(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		now := time.Now()
		u := mkUsers(t, db, "lvl", 1)[0]
		q := jobs.NewQueue(db, jobs.Config{}, nil, sqldbtest.Quiet())
		xp := sqlstore.NewXP(db, nil)
		s := sqlstore.NewAchievements(db, xp, sqlstore.NewAudit(db, nil))
		checks := func() int { return queuedChecks(t, q, u) }
		var level5 int64
		as, err := s.Achievements(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range as {
			if a.Slug == "level-5" {
				level5 = a.ID
			}
		}
		// Held by hand before the user reaches it (its XP takes them to 105).
		if _, _, err := s.Award(ctx, achievements.Grant{AchievementID: level5, UserID: u, Source: achievements.SourceAdmin, At: now}); err != nil {
			t.Fatal(err)
		}
		if n := checks(); n != 0 {
			t.Fatalf("%d checks after a level-up to 4 (no rule asks for it)", n)
		}
		// 105 + 60 = 165: level 5, held already.
		if _, err := xp.Award(ctx, now, gamification.Award{UserID: u, Amount: 60, Reason: gamification.ReasonAdjustment, Ref: "a"}); err != nil {
			t.Fatal(err)
		}
		if n := checks(); n != 0 {
			t.Fatalf("%d checks after reaching level 5, whose rule the user holds", n)
		}
		// 165 + 1900 = 2065: level 7, whose rule the user does not hold.
		if _, err := xp.Award(ctx, now, gamification.Award{UserID: u, Amount: 1900, Reason: gamification.ReasonAdjustment, Ref: "b"}); err != nil {
			t.Fatal(err)
		}
		if n := checks(); n != 1 {
			t.Fatalf("%d checks after reaching level 7, want 1", n)
		}
		// And that check meets level-7 (the job's handler is this, then Award).
		pending, err := s.Pending(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		m, err := s.Metrics(ctx, u, achievements.Needs(pending))
		if err != nil {
			t.Fatal(err)
		}
		var met []string
		for _, a := range achievements.Met(pending, m) {
			for _, c := range as {
				if c.ID == a.ID {
					met = append(met, c.Slug)
				}
			}
		}
		if !slices.Equal(met, []string{"level-7"}) {
			t.Fatalf("the check meets %v, want [level-7]", met)
		}
	})
}

// TestLevelRuleDefinedHereCountsAtOnce: level-ups consult the catalog's
// memo (a level no rule asks for queues no check, without a statement),
// and a level rule defined on the same store counts at the next level-up,
// not after the memo's TTL.
func TestLevelRuleDefinedHereCountsAtOnce(t *testing.T) {
	sqldbtest.ForEach(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		now := time.Now()
		u := mkUsers(t, db, "lvlhere", 1)[0]
		q := jobs.NewQueue(db, jobs.Config{}, nil, sqldbtest.Quiet())
		xp := sqlstore.NewXP(db, nil)
		s := sqlstore.NewAchievements(db, xp, sqlstore.NewAudit(db, nil))
		checks := func() int { return queuedChecks(t, q, u) }
		award := func(amount int64, ref string) {
			t.Helper()
			if _, err := xp.Award(ctx, now, gamification.Award{UserID: u, Amount: amount, Reason: gamification.ReasonAdjustment, Ref: ref}); err != nil {
				t.Fatal(err)
			}
		}
		award(5, "a") // level 2: no rule of the default catalog asks for it (and the memo is loaded)
		if n := checks(); n != 0 {
			t.Fatalf("%d checks after a level-up to 2, want 0", n)
		}
		if _, err := s.CreateAchievement(ctx, achievements.Achievement{Slug: "level-3-here", Name: "Three", Rarity: achievements.Common,
			Rule: &achievements.Rule{Kind: achievements.RuleLevel, Count: 3}}, now,
			audit.Entry{Actor: audit.Actor{ID: 1, IP: "127.0.0.1"}, Action: "achievement.create", TargetKind: "achievement"}); err != nil {
			t.Fatal(err)
		}
		award(15, "b") // 20 XP: level 3, which the rule just defined asks for
		if n := checks(); n != 1 {
			t.Fatalf("%d checks after reaching level 3 of a rule defined just before, want 1", n)
		}
	})
}

// TestAwardsShareATransaction: awards that arrive together (the job
// queue's workers checking a burst of first posts) are exact on both
// engines, each made once however many race, and on SQLite share
// transactions: 24 awards queued while the writer is busy take a few
// batches, not 24 transactions.
func TestAwardsShareATransaction(t *testing.T) {
	sqldbtest.ForEach(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		now := time.Now()
		s := sqlstore.NewAchievements(db, sqlstore.NewXP(db, nil), sqlstore.NewAudit(db, nil))
		a, err := s.CreateAchievement(ctx, achievements.Achievement{Slug: "burst", Name: "Burst", XP: 7, Rarity: achievements.Common}, now,
			audit.Entry{Actor: audit.Actor{ID: 1, IP: "127.0.0.1"}, Action: "achievement.create", TargetKind: "achievement"})
		if err != nil {
			t.Fatal(err)
		}
		users := walletUsers(t, db, "burst", 12)
		release := holdWriter(t, db) // the awards queue behind it
		before := sharedGroupStats(db)
		var wg sync.WaitGroup
		created := make([]atomic.Int64, len(users))
		for i := range 2 * len(users) { // every user twice
			wg.Go(func() {
				u := i % len(users)
				g, ok, err := s.Award(ctx, achievements.Grant{AchievementID: a.ID, UserID: users[u], Source: achievements.SourceRule, At: now})
				if err != nil {
					t.Error(err)
					return
				}
				if ok {
					created[u].Add(1)
					if g.XP.Awarded != 7 || g.Achievement.ID != a.ID {
						t.Errorf("user %d: award %+v, want 7 XP for achievement %d", users[u], g, a.ID)
					}
				}
			})
		}
		time.Sleep(200 * time.Millisecond) // the awards queue behind the writer
		release()
		wg.Wait()
		for i, u := range users {
			if n := created[i].Load(); n != 1 {
				t.Errorf("user %d was awarded %d times, want once", u, n)
			}
			got, err := sqlstore.NewAccounts(db).UserByID(ctx, u)
			if err != nil || got.XP != 7 {
				t.Errorf("user %d: xp %d (%v), want 7", u, got.XP, err)
			}
		}
		if db.Dialect != sqldb.SQLite {
			return
		}
		st := sharedGroupStats(db)
		if calls, batches := st.Calls-before.Calls, st.Batches-before.Batches; calls != 24 || batches > 4 {
			t.Errorf("24 awards queued together took %d calls in %d transactions, want 24 in at most 4", calls, batches)
		}
	})
}

// queuedChecks counts the achievement checks of user waiting in q.
func queuedChecks(t *testing.T, q *jobs.Queue, user int64) int {
	t.Helper()
	js, err := q.List(context.Background(), jobs.Available, achievements.CheckKind, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, j := range js {
		if j.UniqueKey == achievements.CheckKey(user) {
			n++
		}
	}
	return n
}

// holdWriter takes db's writer in a transaction that waits until release
// is called (release returns once it has committed): on SQLite the writes
// made meanwhile queue, and then run together.
func holdWriter(t *testing.T, db *sqldb.DB) (release func()) {
	t.Helper()
	holding, free, done := make(chan struct{}), make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		if err := db.Write().Tx(context.Background(), func(*sql.Tx) error { close(holding); <-free; return nil }); err != nil {
			t.Error(err)
		}
	}()
	<-holding
	return func() { close(free); <-done }
}

// sharedGroupStats returns the counts of SQLite's shared write group
// (sqldb.DB.WriteGroup); zero on MySQL, which has none.
func sharedGroupStats(db *sqldb.DB) sqldb.GroupStats {
	if db.Dialect != sqldb.SQLite {
		return sqldb.GroupStats{}
	}
	return db.WriteGroup(0).Stats()
}
