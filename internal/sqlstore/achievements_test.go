package sqlstore_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/plazahq/plaza/internal/account"
	"github.com/plazahq/plaza/internal/achievements"
	"github.com/plazahq/plaza/internal/achievements/achievementstest"
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
// checks of one user coalesce while they wait.
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
		// A level reached through any award.
		if _, err := xp.Award(ctx, now, gamification.Award{UserID: users[3], Amount: 100, Reason: gamification.ReasonAdjustment, Ref: "t"}); err != nil {
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
