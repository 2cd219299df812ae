package sqlstore_test

import (
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/plazahq/plaza/internal/achievements"
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
