package sqlstore_test

import (
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/plazahq/plaza/internal/achievements"
	"github.com/plazahq/plaza/internal/community"
	"github.com/plazahq/plaza/internal/gamification"
	"github.com/plazahq/plaza/internal/sqldb"
	"github.com/plazahq/plaza/internal/sqldb/sqldbtest"
	"github.com/plazahq/plaza/internal/sqlstore"
)

// cpuNow is the process's user+system CPU time.
func cpuNow() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkAchievementCheck is the store's part of one queued check
// (achievements.Service.Check) for a user who has posted but meets no new
// rule, the common case: Pending, then Metrics for what is pending.
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
		pending, err := s.Pending(ctx, u)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := s.Metrics(ctx, u, achievements.Needs(pending)); err != nil {
			b.Fatal(err)
		}
	}
	for _, u := range users {
		check(u)
	}
	b.ResetTimer()
	c0 := cpuNow()
	for i := 0; i < b.N; i++ {
		check(users[i%len(users)])
	}
	b.ReportMetric(float64((cpuNow()-c0).Microseconds())/float64(b.N), "cpu-µs/op")
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
			comm := sqlstore.NewCommunity(db, sqlstore.NewXP(db, nil), gamification.DefaultRules)
			users := walletUsers(b, db, "first", b.N)
			ch, err := comm.CreateChannel(ctx, community.Channel{Slug: "first", Name: "first", CreatedAt: time.Now()}, users[0])
			if err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			c0 := cpuNow()
			for i := 0; i < b.N; i++ {
				if _, _, err := comm.PostMessage(ctx, community.Message{ChannelID: ch.ID, SenderID: users[i], Body: "hello", CreatedAt: time.Now()}, nil); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64((cpuNow()-c0).Microseconds())/float64(b.N), "cpu-µs/op")
		})
	}
}
