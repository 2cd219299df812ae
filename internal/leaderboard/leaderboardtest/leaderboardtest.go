// Package leaderboardtest is the conformance suite every leaderboard
// index passes (leaderboard.Memory, leaderboard.Redis), fed by the real
// ledger (sqlstore.XP) through its after-commit hook, on every engine.
package leaderboardtest

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/plazahq/plaza/internal/account"
	"github.com/plazahq/plaza/internal/gamification"
	"github.com/plazahq/plaza/internal/leaderboard"
	"github.com/plazahq/plaza/internal/sqldb"
	"github.com/plazahq/plaza/internal/sqldb/sqldbtest"
	"github.com/plazahq/plaza/internal/sqlstore"
)

// NewIndex returns an empty index of the backend under test.
type NewIndex func(t *testing.T, now time.Time) leaderboard.Index

// t0 is the suite's clock: half past an hour.
var t0 = time.Date(2026, 11, 20, 12, 30, 0, 0, time.UTC)

type env struct {
	t     *testing.T
	ctx   context.Context
	db    *sqldb.DB
	xp    *sqlstore.XP
	idx   leaderboard.Index
	users []int64
	n     int
}

func setup(t *testing.T, db *sqldb.DB, newIndex NewIndex, users int) *env {
	e := &env{t: t, ctx: context.Background(), db: db, xp: sqlstore.NewXP(db, nil)}
	e.idx = newIndex(t, t0)
	if err := e.idx.Rebuild(e.ctx, e.xp, t0); err != nil {
		t.Fatal(err)
	}
	e.xp.OnCommit(func(row gamification.Posted) {
		if err := e.idx.Apply(e.ctx, row); err != nil {
			t.Errorf("apply %+v: %v", row, err)
		}
	})
	acc := sqlstore.NewAccounts(db)
	for i := range users {
		u, err := acc.CreateUser(e.ctx, account.NewUser{Email: fmt.Sprintf("lb%d@example.com", i), Username: fmt.Sprintf("lb_user%d", i),
			PasswordHash: "h", Role: account.RoleUser}, nil, t0)
		if err != nil {
			t.Fatal(err)
		}
		e.users = append(e.users, u.ID)
	}
	return e
}

func (e *env) award(user int, amount int64, at time.Time) {
	e.t.Helper()
	e.n++
	if _, err := e.xp.Award(e.ctx, at, gamification.Award{UserID: e.users[user], Amount: amount, Reason: gamification.ReasonAdjustment,
		Ref: fmt.Sprint("test:", e.n)}); err != nil {
		e.t.Fatal(err)
	}
}

// board returns p at now as "user index:xp" in rank order.
func (e *env) board(idx leaderboard.Index, p leaderboard.Period, now time.Time) []string {
	e.t.Helper()
	h, err := idx.Head(e.ctx, p, 0, now)
	if err != nil {
		e.t.Fatal(err)
	}
	got, err := idx.Range(e.ctx, p, 0, leaderboard.MaxLimit)
	if err != nil {
		e.t.Fatal(err)
	}
	if len(got) != h.Total {
		e.t.Errorf("%s: head says %d on the board, range gave %d", p, h.Total, len(got))
	}
	out := []string{}
	for i, g := range got {
		if g.Rank != i+1 {
			e.t.Errorf("%s: rank %d at position %d", p, g.Rank, i)
		}
		out = append(out, fmt.Sprintf("%d:%d", e.index(g.UserID), g.XP))
	}
	return out
}

func (e *env) index(id int64) int {
	for i, u := range e.users {
		if u == id {
			return i
		}
	}
	return -1
}

func (e *env) want(idx leaderboard.Index, p leaderboard.Period, now time.Time, want ...string) {
	e.t.Helper()
	if want == nil {
		want = []string{}
	}
	if diff := cmp.Diff(want, e.board(idx, p, now)); diff != "" {
		e.t.Errorf("%s board (-want +got):\n%s", p, diff)
	}
}

func (e *env) me(p leaderboard.Period, user int, now time.Time) *leaderboard.Entry {
	e.t.Helper()
	h, err := e.idx.Head(e.ctx, p, e.users[user], now)
	if err != nil {
		e.t.Fatal(err)
	}
	return h.Me
}

// Run runs the suite against the backend newIndex makes.
func Run(t *testing.T, newIndex NewIndex) {
	cases := []struct {
		name string
		fn   func(t *testing.T, db *sqldb.DB, newIndex NewIndex)
	}{
		{"OrderTiesAndNegative", orderTiesAndNegative},
		{"Windows", windows},
		{"RebuildMatchesLive", rebuildMatchesLive},
		{"ParallelAwardsAndRebuild", parallel},
	}
	for _, eng := range sqldbtest.Engines() {
		t.Run(eng.Name, func(t *testing.T) {
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) { c.fn(t, eng.Open(t, sqldb.Config{}), newIndex) })
			}
		})
	}
}

func orderTiesAndNegative(t *testing.T, db *sqldb.DB, newIndex NewIndex) {
	e := setup(t, db, newIndex, 4)
	now := t0
	e.award(0, 10, now)
	e.award(1, 5, now)
	e.award(2, 20, now)
	e.award(1, 5, now) // user 1 reaches 10 after user 0: ranks after
	e.want(e.idx, leaderboard.AllTime, now, "2:20", "0:10", "1:10")
	if got := e.me(leaderboard.AllTime, 1, now); got == nil || got.Rank != 3 || got.XP != 10 {
		t.Errorf("me of user 1 = %+v, want rank 3 with 10", got)
	}
	if got := e.me(leaderboard.AllTime, 3, now); got != nil {
		t.Errorf("me of a user without XP = %+v, want none", got)
	}
	// A compensating row takes XP back; reaching 10 again now ranks last.
	e.award(0, -4, now)
	e.want(e.idx, leaderboard.AllTime, now, "2:20", "1:10", "0:6")
	e.award(0, 4, now)
	e.want(e.idx, leaderboard.AllTime, now, "2:20", "1:10", "0:10")
	// Down to zero leaves the board; negative stays off it.
	e.award(2, -20, now)
	e.award(1, -11, now)
	e.want(e.idx, leaderboard.AllTime, now, "0:10")
	e.want(e.idx, leaderboard.Week, now, "0:10")
	if got := e.me(leaderboard.Week, 2, now); got != nil {
		t.Errorf("me of a user at 0 = %+v, want none", got)
	}
	e.award(1, 12, now) // from -1
	e.want(e.idx, leaderboard.AllTime, now, "1:11", "0:10")
	// Pages and bounds.
	got, err := e.idx.Range(e.ctx, leaderboard.AllTime, 1, 5)
	if err != nil || len(got) != 1 || got[0].Rank != 2 || got[0].UserID != e.users[0] {
		t.Errorf("Range(1, 5) = %+v, %v", got, err)
	}
	if got, err := e.idx.Range(e.ctx, leaderboard.AllTime, 10, 5); err != nil || len(got) != 0 {
		t.Errorf("Range past the end = %+v, %v", got, err)
	}
	if _, err := e.idx.Range(e.ctx, leaderboard.AllTime, 0, leaderboard.MaxLimit+1); err == nil {
		t.Error("Range over the limit accepted")
	}
}

func windows(t *testing.T, db *sqldb.DB, newIndex NewIndex) {
	e := setup(t, db, newIndex, 4)
	e.award(0, 7, t0.Add(-31*24*time.Hour)) // all-time only
	e.award(1, 5, t0.Add(-8*24*time.Hour))  // 30d
	e.award(2, 3, t0.Add(-time.Hour))       // 7d
	e.award(3, 4, t0)
	check := func(idx leaderboard.Index) {
		t.Helper()
		e.want(idx, leaderboard.AllTime, t0, "0:7", "1:5", "3:4", "2:3")
		e.want(idx, leaderboard.Month, t0, "1:5", "3:4", "2:3")
		e.want(idx, leaderboard.Week, t0, "3:4", "2:3")
	}
	check(e.idx)
	// The same from a rebuild.
	fresh := newIndex(t, t0)
	if err := fresh.Rebuild(e.ctx, e.xp, t0); err != nil {
		t.Fatal(err)
	}
	check(fresh)
	// The clock moves: user 2's hour (t0-1h) leaves the week 167 hours on.
	for _, idx := range []leaderboard.Index{e.idx, fresh} {
		e.want(idx, leaderboard.Week, t0.Add(166*time.Hour), "3:4", "2:3")
		e.want(idx, leaderboard.Week, t0.Add(167*time.Hour), "3:4")
		e.want(idx, leaderboard.Week, t0.Add(168*time.Hour))
		e.want(idx, leaderboard.Month, t0.Add(168*time.Hour), "1:5", "3:4", "2:3")
		// User 1 (t0-8d) leaves the month 22 days on.
		e.want(idx, leaderboard.Month, t0.Add(22*24*time.Hour), "3:4", "2:3")
		e.want(idx, leaderboard.AllTime, t0.Add(22*24*time.Hour), "0:7", "1:5", "3:4", "2:3")
	}
	// An award after the roll counts in the windows at its hour.
	later := t0.Add(22 * 24 * time.Hour)
	e.award(1, 2, later)
	e.want(e.idx, leaderboard.Week, later, "1:2")
	e.want(e.idx, leaderboard.Month, later, "3:4", "2:3", "1:2")
	e.want(e.idx, leaderboard.AllTime, later, "0:7", "1:7", "3:4", "2:3")
	if got := e.me(leaderboard.Month, 1, later); got == nil || got.Rank != 3 || got.XP != 2 {
		t.Errorf("me in the month = %+v, want rank 3 with 2", got)
	}
}

func rebuildMatchesLive(t *testing.T, db *sqldb.DB, newIndex NewIndex) {
	e := setup(t, db, newIndex, 12)
	for i := range 60 {
		amount := int64(i%7 + 1)
		if i%9 == 8 {
			amount = -2
		}
		e.award(i*5%12, amount, t0.Add(-time.Duration(i*13)*time.Hour))
	}
	fresh := newIndex(t, t0)
	if err := fresh.Rebuild(e.ctx, e.xp, t0); err != nil {
		t.Fatal(err)
	}
	for _, p := range leaderboard.Periods {
		if diff := cmp.Diff(e.board(e.idx, p, t0), e.board(fresh, p, t0)); diff != "" {
			t.Errorf("%s: rebuilt board differs from the live one (-live +rebuilt):\n%s", p, diff)
		}
	}
	if diff := cmp.Diff(ledgerBoard(t, e), e.board(e.idx, leaderboard.AllTime, t0)); diff != "" {
		t.Errorf("all-time board differs from the ledger (-ledger +board):\n%s", diff)
	}
}

// ledgerBoard is the all-time board computed from the ledger by SQL,
// ties by the latest row id.
func ledgerBoard(t *testing.T, e *env) []string {
	type row struct{ user, sum, last int64 }
	var rows []row
	err := e.db.Fresh().Query(e.ctx, func(r *sql.Rows) error {
		var x row
		rows = append(rows, x)
		return r.Scan(&rows[len(rows)-1].user, &rows[len(rows)-1].sum, &rows[len(rows)-1].last)
	}, `SELECT user_id, SUM(amount), MAX(id) FROM xp_events GROUP BY user_id`)
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].sum != rows[j].sum {
			return rows[i].sum > rows[j].sum
		}
		return rows[i].last < rows[j].last
	})
	out := []string{}
	for _, r := range rows {
		if r.sum > 0 && len(out) < leaderboard.MaxLimit {
			out = append(out, fmt.Sprintf("%d:%d", e.index(r.user), r.sum))
		}
	}
	return out
}

// parallel awards from many goroutines while the index is rebuilt twice
// meanwhile: every row counts exactly once.
func parallel(t *testing.T, db *sqldb.DB, newIndex NewIndex) {
	e := setup(t, db, newIndex, 8)
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 25 {
				amount := int64((w*31+i*7)%11 - 2)
				if amount == 0 {
					amount = 1
				}
				_, err := e.xp.Award(e.ctx, t0.Add(-time.Duration(i)*time.Hour), gamification.Award{UserID: e.users[(w+i)%8], Amount: amount,
					Reason: gamification.ReasonAdjustment, Ref: fmt.Sprintf("par:%d:%d", w, i)})
				if err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	for range 2 {
		wg.Go(func() {
			time.Sleep(5 * time.Millisecond)
			if err := e.idx.Rebuild(e.ctx, e.xp, t0); err != nil && err != leaderboard.ErrBuilding {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if diff := cmp.Diff(ledgerBoard(t, e), e.board(e.idx, leaderboard.AllTime, t0)); diff != "" {
		t.Errorf("after parallel awards and rebuilds the board differs from the ledger (-ledger +board):\n%s", diff)
	}
	fresh := newIndex(t, t0)
	if err := fresh.Rebuild(e.ctx, e.xp, t0); err != nil {
		t.Fatal(err)
	}
	for _, p := range []leaderboard.Period{leaderboard.Week, leaderboard.Month} {
		if diff := cmp.Diff(e.board(fresh, p, t0), e.board(e.idx, p, t0)); diff != "" {
			t.Errorf("%s after parallel awards differs from a rebuild (-rebuilt +live):\n%s", p, diff)
		}
	}
}
