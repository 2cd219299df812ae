package leaderboard_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/plazahq/plaza/internal/account"
	"github.com/plazahq/plaza/internal/batch"
	"github.com/plazahq/plaza/internal/cache"
	"github.com/plazahq/plaza/internal/gamification"
	"github.com/plazahq/plaza/internal/leaderboard"
	"github.com/plazahq/plaza/internal/redisx/redistest"
	"github.com/plazahq/plaza/internal/sqldb"
	"github.com/plazahq/plaza/internal/sqldb/sqldbtest"
	"github.com/plazahq/plaza/internal/sqlstore"
	"github.com/redis/go-redis/v9"
)

// published records what a board publishes (the hub's place).
type published struct {
	mu     sync.Mutex
	events []any
}

func (p *published) Publish(_ context.Context, room, typ string, data any) error {
	if room != leaderboard.Room || typ != "leaderboard.updated" {
		return fmt.Errorf("published %s to %s", typ, room)
	}
	p.mu.Lock()
	p.events = append(p.events, data)
	p.mu.Unlock()
	return nil
}

func (p *published) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.events)
}

type instance struct {
	board *leaderboard.Board
	xp    *sqlstore.XP
	pub   *published
}

// newInstance builds one instance's board on the shared database and,
// when rc is set, the shared Redis under prefix, hooked to its ledger.
func newInstance(t *testing.T, db *sqldb.DB, rc *redis.Client, prefix string) *instance {
	t.Helper()
	log := sqldbtest.Quiet()
	c, err := cache.New(context.Background(), cache.Config{}, nil, log)
	if err != nil {
		t.Fatal(err)
	}
	acc := sqlstore.NewAccounts(db)
	in := &instance{xp: sqlstore.NewXP(db, nil), pub: &published{}}
	d := leaderboard.Deps{Source: in.xp, Cache: c, Publisher: in.pub, Log: log,
		Users: func() *batch.Loader[int64, account.User] { return batch.New(acc.UsersByIDs, 500, time.Millisecond) }}
	if rc != nil {
		d.Shared = leaderboard.NewRedis(rc, prefix)
	}
	in.board, err = leaderboard.New(leaderboard.Config{PublishEvery: 100 * time.Millisecond, RefreshWhileDown: 200 * time.Millisecond}, d)
	if err != nil {
		t.Fatal(err)
	}
	in.xp.OnCommit(in.board.Record)
	if err := in.board.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(in.board.Stop)
	return in
}

func users(t *testing.T, db *sqldb.DB, n int) []int64 {
	var ids []int64
	for i := range n {
		u, err := sqlstore.NewAccounts(db).CreateUser(context.Background(), account.NewUser{Email: fmt.Sprintf("b%d@example.com", i),
			Username: fmt.Sprintf("board_user%d", i), PasswordHash: "h", Role: account.RoleUser}, nil, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, u.ID)
	}
	return ids
}

func top(t *testing.T, in *instance, user int64) leaderboard.View {
	t.Helper()
	v, err := in.board.Get(context.Background(), leaderboard.Query{Period: leaderboard.AllTime, Limit: 10, User: user})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestTwoInstancesShareRedis: an award made on one instance is in the
// very next read on the other; with Redis cut, both serve their own index
// (health degraded), and once it is back the shared index is rebuilt with
// the awards it missed.
func TestTwoInstancesShareRedis(t *testing.T) {
	rc, proxy, prefix := redistest.Proxied(t)
	db := sqldbtest.OpenSQLite(t, sqldb.Config{})
	ids := users(t, db, 3)
	a, b := newInstance(t, db, rc, prefix), newInstance(t, db, rc, prefix)
	ctx := context.Background()
	award := func(in *instance, user, amount int64, ref string) {
		t.Helper()
		if _, err := in.xp.Award(ctx, time.Now(), gamification.Award{UserID: user, Amount: amount, Reason: gamification.ReasonAdjustment, Ref: ref}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 20 {
		award(a, ids[i%2], 1, fmt.Sprint("a", i))
		v := top(t, b, ids[i%2])
		if v.Me == nil || v.Me.XP != int64(i/2+1) {
			t.Fatalf("read on b right after award %d on a: me = %+v", i, v.Me)
		}
	}
	award(b, ids[2], 50, "b1")
	if v := top(t, a, 0); len(v.Items) != 3 || v.Items[0].User.ID != ids[2] || v.Items[0].XP != 50 {
		t.Fatalf("a after b's award: %+v", v.Items)
	}
	if down, _ := a.board.Down(); down {
		t.Fatal("down with Redis up")
	}

	proxy.Cut()
	award(a, ids[0], 100, "a-cut")
	if down, why := a.board.Down(); !down || why == "" {
		t.Fatal("a does not report Redis lost after a failed award")
	}
	if v := top(t, a, ids[0]); v.Items[0].User.ID != ids[0] || v.Me.XP != 110 {
		t.Fatalf("a's own index while Redis is cut: %+v", v.Items)
	}
	// b learns of the award from the ledger while Redis is lost.
	deadline := time.Now().Add(10 * time.Second)
	for top(t, b, 0).Items[0].XP != 110 {
		if time.Now().After(deadline) {
			t.Fatalf("b never saw a's award while Redis was cut: %+v", top(t, b, 0).Items)
		}
		time.Sleep(50 * time.Millisecond)
	}
	proxy.Restore()
	for {
		da, _ := a.board.Down()
		db, _ := b.board.Down()
		if !da && !db {
			break
		}
		if time.Now().After(deadline.Add(10 * time.Second)) {
			t.Fatal("still down after Redis came back")
		}
		time.Sleep(50 * time.Millisecond)
	}
	award(b, ids[1], 1, "b-after")
	for _, in := range []*instance{a, b} {
		v := top(t, in, 0)
		got := fmt.Sprint(v.Items[0].XP, v.Items[1].XP, v.Items[2].XP)
		if got != "110 50 11" {
			t.Errorf("after Redis came back: %s", got)
		}
	}
	if a.pub.count()+b.pub.count() == 0 {
		t.Error("no leaderboard.updated published")
	}
}

// TestPublishCoalesced: a burst of awards publishes at most one update per
// period.
func TestPublishCoalesced(t *testing.T) {
	db := sqldbtest.OpenSQLite(t, sqldb.Config{})
	ids := users(t, db, 2)
	in := newInstance(t, db, nil, "")
	start := time.Now()
	for i := range 60 {
		if _, err := in.xp.Award(context.Background(), time.Now(), gamification.Award{UserID: ids[i%2], Amount: 1,
			Reason: gamification.ReasonAdjustment, Ref: fmt.Sprint("p", i)}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(250 * time.Millisecond)
	periods := int(time.Since(start)/(100*time.Millisecond)) + 1
	if n := in.pub.count(); n == 0 || n > periods {
		t.Errorf("%d updates published over %d periods", n, periods)
	}
}
