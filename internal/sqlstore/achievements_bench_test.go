package sqlstore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/plazahq/plaza/internal/achievements"
	"github.com/plazahq/plaza/internal/community"
	"github.com/plazahq/plaza/internal/gamification"
	"github.com/plazahq/plaza/internal/proccpu"
	"github.com/plazahq/plaza/internal/sqldb"
	"github.com/plazahq/plaza/internal/sqldb/sqldbtest"
	"github.com/plazahq/plaza/internal/sqlstore"
)

// BenchmarkAchievementCheck is the store's part of one queued check
// (achievements.Service.Check) for a user who has posted but meets no new
// rule, the common case: Evaluate (the rules not met and their counts).
// cpu-µs/op is the process's CPU per check.
func BenchmarkAchievementCheck(b *testing.B) {
	for _, e := range sqldbtest.Engines() {
		b.Run(e.Name, func(b *testing.B) { benchCheck(b, e.Open(b, sqldb.Config{})) })
	}
}

func benchCheck(b *testing.B, db *sqldb.DB) {
	ctx := context.Background()
	s := sqlstore.NewAchievements(db, sqlstore.NewXP(db, nil), sqlstore.NewAudit(db, nil))
	users := walletUsers(b, db, "achb", 20)
	record := act(db)
	now := time.Now()
	for _, u := range users {
		for d := range 3 {
			if err := record(ctx, achievements.RuleMessages, u, now.Add(-time.Duration(d)*24*time.Hour), 0); err != nil {
				b.Fatal(err)
			}
		}
	}
	check := func(u int64) {
		if _, _, err := s.Evaluate(ctx, u); err != nil {
			b.Fatal(err)
		}
	}
	for _, u := range users {
		check(u)
	}
	b.ResetTimer()
	c0 := proccpu.Now()
	for i := 0; i < b.N; i++ {
		check(users[i%len(users)])
	}
	b.ReportMetric(float64((proccpu.Now()-c0).Microseconds())/float64(b.N), "cpu-µs/op")
}

// BenchmarkFirstPost is a new member's first channel message, with the
// default XP rules: the streak row made from the member's history, the
// award, the achievement check queued. Under `plaza loadtest`, whose users
// are new, nearly every post is one. cpu-µs/op is the process's CPU per
// post; users are made before the timer starts.
func BenchmarkFirstPost(b *testing.B) {
	for _, e := range sqldbtest.Engines() {
		b.Run(e.Name, func(b *testing.B) {
			db := e.Open(b, sqldb.Config{})
			ctx := context.Background()
			xp := sqlstore.NewXP(db, nil)
			sqlstore.NewAchievements(db, xp, nil) // wired as the app wires them: level-ups ask its catalog memo
			comm := sqlstore.NewCommunity(db, xp, gamification.DefaultRules)
			users := walletUsers(b, db, "first", b.N)
			ch, err := comm.CreateChannel(ctx, community.Channel{Slug: "first", Name: "first", CreatedAt: time.Now()}, users[0])
			if err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			c0 := proccpu.Now()
			for i := 0; i < b.N; i++ {
				if _, _, err := comm.PostMessage(ctx, community.Message{ChannelID: ch.ID, SenderID: users[i], Body: "hello", CreatedAt: time.Now()}, nil); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64((proccpu.Now()-c0).Microseconds())/float64(b.N), "cpu-µs/op")
		})
	}
}

// BenchmarkFirstAward is the check a new member's first post queues, as
// the job queue's workers run it: Evaluate, then the award of the
// first-message achievement (its XP and the level it reaches), by four
// workers at once. Under `plaza loadtest`, whose users are new, nearly
// every check is one. cpu-µs/op is the process's CPU per award; the users
// and their first messages are made before the timer starts.
func BenchmarkFirstAward(b *testing.B) {
	for _, e := range sqldbtest.Engines() {
		b.Run(e.Name, func(b *testing.B) {
			db := e.Open(b, sqldb.Config{})
			ctx := context.Background()
			s := sqlstore.NewAchievements(db, sqlstore.NewXP(db, nil), sqlstore.NewAudit(db, nil))
			users := walletUsers(b, db, "award", b.N)
			record := act(db)
			now := time.Now()
			for _, u := range users {
				if err := record(ctx, achievements.RuleMessages, u, now, 0); err != nil {
					b.Fatal(err)
				}
			}
			const workers = 4
			next := make(chan int64)
			errs := make(chan error, workers)
			b.ResetTimer()
			c0 := proccpu.Now()
			for range workers {
				go func() {
					var err error
					for u := range next {
						if err != nil {
							continue
						}
						var pending []achievements.Achievement
						var m achievements.Metrics
						if pending, m, err = s.Evaluate(ctx, u); err != nil {
							continue
						}
						met := achievements.Met(pending, m)
						if len(met) != 1 {
							err = fmt.Errorf("user %d met %d rules, want the first message alone", u, len(met))
							continue
						}
						var created bool
						if _, created, err = s.Award(ctx, achievements.Grant{AchievementID: met[0].ID, UserID: u, Source: achievements.SourceRule, At: now}); err == nil && !created {
							err = fmt.Errorf("user %d: not awarded", u)
						}
					}
					errs <- err
				}()
			}
			for _, u := range users {
				next <- u
			}
			close(next)
			for range workers {
				if err := <-errs; err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64((proccpu.Now()-c0).Microseconds())/float64(b.N), "cpu-µs/op")
		})
	}
}
