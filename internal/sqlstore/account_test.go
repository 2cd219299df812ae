package sqlstore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/plazahq/plaza/internal/account"
	"github.com/plazahq/plaza/internal/account/accounttest"
	"github.com/plazahq/plaza/internal/analytics"
	"github.com/plazahq/plaza/internal/community"
	"github.com/plazahq/plaza/internal/community/communitytest"
	"github.com/plazahq/plaza/internal/events/eventstest"
	"github.com/plazahq/plaza/internal/gamification"
	"github.com/plazahq/plaza/internal/sqldb"
	"github.com/plazahq/plaza/internal/sqldb/sqldbtest"
	"github.com/plazahq/plaza/internal/sqlstore"
)

func TestAccountsConformance(t *testing.T) {
	sqldbtest.ForEach(t, func(t *testing.T, db *sqldb.DB) {
		accounttest.Exercise(t, sqlstore.NewAccounts(db))
	})
}

func TestCommunityConformance(t *testing.T) {
	sqldbtest.ForEach(t, func(t *testing.T, db *sqldb.DB) {
		accounts := sqlstore.NewAccounts(db)
		var ids []int64
		for i := range 4 {
			u, err := accounts.CreateUser(context.Background(), account.NewUser{Email: fmt.Sprintf("c%d@example.com", i),
				Username: fmt.Sprintf("member_%d", i), PasswordHash: "h", Role: account.RoleUser}, nil, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, u.ID)
		}
		communitytest.Exercise(t, sqlstore.NewCommunity(db, nil, gamification.DefaultRules), ids)
	})
}

func TestAnalyticsRollup(t *testing.T) {
	sqldbtest.ForEach(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		accounts, comm, an := sqlstore.NewAccounts(db), sqlstore.NewCommunity(db, nil, gamification.DefaultRules), sqlstore.NewAnalytics(db)
		day := time.Date(2026, 5, 4, 0, 0, 0, 0, time.UTC)
		var ids []int64
		for i := range 3 {
			u, _ := accounts.CreateUser(ctx, account.NewUser{Email: fmt.Sprintf("an%d@example.com", i), Username: fmt.Sprintf("an_%d", i), PasswordHash: "h", Role: account.RoleUser}, nil, day)
			ids = append(ids, u.ID)
		}
		ch1, _ := comm.CreateChannel(ctx, community.Channel{Slug: "one", Name: "One", CreatedAt: day}, ids[0])
		ch2, _ := comm.CreateChannel(ctx, community.Channel{Slug: "two", Name: "Two", CreatedAt: day}, ids[0])
		post := func(ch, user int64, at time.Time) {
			if _, _, err := comm.PostMessage(ctx, community.Message{ChannelID: ch, SenderID: user, Body: "x", CreatedAt: at}, nil); err != nil {
				t.Fatal(err)
			}
		}
		post(ch1.ID, ids[0], day.Add(time.Hour))
		post(ch1.ID, ids[0], day.Add(2*time.Hour))
		post(ch2.ID, ids[1], day.Add(23*time.Hour))
		post(ch2.ID, ids[2], day.Add(25*time.Hour))                                                     // the next day
		comm.PostShout(ctx, community.Shout{UserID: ids[2], Body: "y", CreatedAt: day.Add(-time.Hour)}) // the day before
		d := analytics.DayOf(day)
		from, to, _ := d.Bounds()
		for range 2 { // idempotent
			if err := an.Rollup(ctx, d, from, to); err != nil {
				t.Fatal(err)
			}
		}
		rep, err := an.Report(ctx, d, d)
		if err != nil || len(rep) != 1 {
			t.Fatalf("report %+v %v", rep, err)
		}
		f := rep[0]
		if f.ActiveUsers != 2 || f.Messages != 3 || f.MessagesByChannel[fmt.Sprint(ch1.ID)] != 2 || f.MessagesByChannel[fmt.Sprint(ch2.ID)] != 1 {
			t.Fatalf("figures %+v", f)
		}
	})
}

func TestEventsConformance(t *testing.T) {
	sqldbtest.ForEach(t, func(t *testing.T, db *sqldb.DB) {
		accounts := sqlstore.NewAccounts(db)
		var ids []int64
		for i := range eventstest.Users {
			u, err := accounts.CreateUser(context.Background(), account.NewUser{Email: fmt.Sprintf("ev%d@example.com", i),
				Username: fmt.Sprintf("event_member_%d", i), PasswordHash: "h", Role: account.RoleUser}, nil, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, u.ID)
		}
		eventstest.Exercise(t, sqlstore.NewEvents(db, sqlstore.NewXP(db, nil)), ids)
	})
}
