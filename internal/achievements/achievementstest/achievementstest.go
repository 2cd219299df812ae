// Package achievementstest is the conformance suite every
// achievements.Store passes.
package achievementstest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plazahq/plaza/internal/achievements"
	"github.com/plazahq/plaza/internal/apperr"
	"github.com/plazahq/plaza/internal/audit"
)

// Fixture is what the suite needs from the world around the store.
type Fixture struct {
	// Users are at least 50 existing user ids at level 1 with no activity.
	Users []int64
	// XPOf reads a user's total XP.
	XPOf func(ctx context.Context, userID int64) (int64, error)
	// Act records one unit of what kind counts for userID at at: a channel
	// message, a shout, a mix, an event attended, a course completed; for
	// RuleLevel it sets the user's level to n (at is ignored). Messages
	// and shouts go through the writes that keep the streak, and may run
	// concurrently.
	Act func(ctx context.Context, kind achievements.RuleKind, userID int64, at time.Time, n int) error
}

var seq atomic.Int64

var now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

var admin = audit.Entry{Actor: audit.Actor{ID: 1, IP: "127.0.0.1"}, Action: "test", TargetKind: "test"}

func wantCode(t *testing.T, err error, code apperr.Code) {
	t.Helper()
	if !apperr.Is(err, code) {
		t.Fatalf("got error %v, want code %s", err, code)
	}
}

func bySlug(t *testing.T, s achievements.Store, slug string) achievements.Achievement {
	t.Helper()
	as, err := s.Achievements(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range as {
		if a.Slug == slug {
			return a
		}
	}
	t.Fatalf("no achievement %q in the catalog", slug)
	return achievements.Achievement{}
}

func mkAchievement(t *testing.T, s achievements.Store, xp int64, rule *achievements.Rule) achievements.Achievement {
	t.Helper()
	n := seq.Add(1)
	a, err := s.CreateAchievement(context.Background(), achievements.Achievement{Slug: fmt.Sprintf("test-%d", n), Name: fmt.Sprint("Test ", n),
		XP: xp, Rarity: achievements.Rare, Rule: rule}, now, admin)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func mkCollectible(t *testing.T, s achievements.Store, supply *int64, achievementID *int64) achievements.Collectible {
	t.Helper()
	n := seq.Add(1)
	c, err := s.CreateCollectible(context.Background(), achievements.Collectible{Slug: fmt.Sprintf("coll-%d", n), Name: fmt.Sprint("Collectible ", n),
		Rarity: achievements.Epic, Supply: supply, AchievementID: achievementID}, now, admin)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func ptr(v int64) *int64 { return &v }

// Exercise checks s against f.
func Exercise(t *testing.T, s achievements.Store, f Fixture) {
	ctx := context.Background()
	if len(f.Users) < 50 {
		t.Fatal("the suite needs 50 users")
	}

	t.Run("built-in catalog", func(t *testing.T) {
		want := map[string]achievements.Rule{
			"first-message": {Kind: achievements.RuleMessages, Count: 1}, "first-shout": {Kind: achievements.RuleShouts, Count: 1},
			"messages-100": {Kind: achievements.RuleMessages, Count: 100}, "streak-7": {Kind: achievements.RuleStreak, Count: 7},
			"first-course": {Kind: achievements.RuleCourses, Count: 1}, "level-5": {Kind: achievements.RuleLevel, Count: 5},
			"level-7": {Kind: achievements.RuleLevel, Count: 7}, "level-9": {Kind: achievements.RuleLevel, Count: 9},
			"first-mix": {Kind: achievements.RuleMixes, Count: 1}, "events-5": {Kind: achievements.RuleEvents, Count: 5},
		}
		for slug, rule := range want {
			a := bySlug(t, s, slug)
			if a.Rule == nil || *a.Rule != rule || !a.Rarity.Valid() || a.Name == "" || a.XP <= 0 {
				t.Errorf("%s = %+v (rule %v), want rule %v", slug, a, a.Rule, rule)
			}
		}
		if _, err := s.Achievement(ctx, 1<<40); !apperr.Is(err, apperr.NotFound) {
			t.Errorf("unknown achievement: %v", err)
		}
	})

	t.Run("define", func(t *testing.T) {
		a := mkAchievement(t, s, 0, nil)
		got, err := s.Achievement(ctx, a.ID)
		if err != nil || got.Slug != a.Slug || got.Rule != nil {
			t.Fatalf("Achievement(%d) = %+v, %v", a.ID, got, err)
		}
		_, err = s.CreateAchievement(ctx, achievements.Achievement{Slug: a.Slug, Name: "again", Rarity: achievements.Common}, now, admin)
		wantCode(t, err, apperr.Conflict)
	})

	t.Run("an award is made once under races, with its XP once", func(t *testing.T) {
		u := f.Users[0]
		a := mkAchievement(t, s, 40, nil)
		before, _ := f.XPOf(ctx, u)
		var created atomic.Int64
		var wg sync.WaitGroup
		for range 20 {
			wg.Go(func() {
				_, ok, err := s.Award(ctx, achievements.Grant{AchievementID: a.ID, UserID: u, Source: achievements.SourceAdmin, At: now})
				if err != nil {
					t.Error(err)
				}
				if ok {
					created.Add(1)
				}
			})
		}
		wg.Wait()
		if created.Load() != 1 {
			t.Errorf("20 racing awards created %d, want 1", created.Load())
		}
		after, _ := f.XPOf(ctx, u)
		if after-before != 40 {
			t.Errorf("XP moved by %d, want 40", after-before)
		}
		list, err := s.UserAchievements(ctx, u)
		if err != nil || len(list) != 1 || list[0].Achievement.ID != a.ID || !list[0].AwardedAt.Equal(now) {
			t.Fatalf("UserAchievements = %+v, %v", list, err)
		}
		counts, err := s.AwardedCounts(ctx)
		if err != nil || counts[a.ID] != 1 {
			t.Errorf("AwardedCounts[%d] = %d, %v; want 1", a.ID, counts[a.ID], err)
		}
		_, _, err = s.Award(ctx, achievements.Grant{AchievementID: 1 << 40, UserID: u, Source: achievements.SourceAdmin, At: now})
		wantCode(t, err, apperr.NotFound)
		_, _, err = s.Award(ctx, achievements.Grant{AchievementID: a.ID, UserID: 1 << 40, Source: achievements.SourceAdmin, At: now})
		wantCode(t, err, apperr.NotFound)
		_, err = s.UserAchievements(ctx, 1<<40)
		wantCode(t, err, apperr.NotFound)
	})

	t.Run("metrics", func(t *testing.T) {
		u := f.Users[1]
		all := map[achievements.RuleKind]int64{}
		for _, k := range achievements.RuleKinds {
			all[k] = 1000
		}
		m, err := s.Metrics(ctx, u, all)
		if err != nil {
			t.Fatal(err)
		}
		zero := achievements.Metrics{achievements.RuleLevel: 1}
		for _, k := range achievements.RuleKinds {
			if m[k] != zero[k] {
				t.Errorf("a new user's %s = %d, want %d", k, m[k], zero[k])
			}
		}
		// Streak: days 0-2, a gap, days 4-8 (5 in a row) with two posts
		// on one day; messages and shouts both count.
		day := func(d int) time.Time { return now.AddDate(0, 0, d) }
		for _, d := range []int{0, 1, 2, 4, 5, 6, 7, 8} {
			kind := achievements.RuleMessages
			if d%2 == 0 {
				kind = achievements.RuleShouts
			}
			if err := f.Act(ctx, kind, u, day(d), 0); err != nil {
				t.Fatal(err)
			}
		}
		if err := f.Act(ctx, achievements.RuleMessages, u, day(5).Add(time.Hour), 0); err != nil {
			t.Fatal(err)
		}
		for _, k := range []achievements.RuleKind{achievements.RuleMixes, achievements.RuleMixes, achievements.RuleEvents, achievements.RuleCourses} {
			if err := f.Act(ctx, k, u, now, 0); err != nil {
				t.Fatal(err)
			}
		}
		if err := f.Act(ctx, achievements.RuleLevel, u, now, 6); err != nil {
			t.Fatal(err)
		}
		m, err = s.Metrics(ctx, u, all)
		if err != nil {
			t.Fatal(err)
		}
		want := achievements.Metrics{achievements.RuleMessages: 4, achievements.RuleShouts: 5, achievements.RuleStreak: 5,
			achievements.RuleMixes: 2, achievements.RuleEvents: 1, achievements.RuleCourses: 1, achievements.RuleLevel: 6}
		for k, v := range want {
			if m[k] != v {
				t.Errorf("%s = %d, want %d", k, m[k], v)
			}
		}
		// Counting may stop at the need.
		m, err = s.Metrics(ctx, u, map[achievements.RuleKind]int64{achievements.RuleMessages: 2, achievements.RuleStreak: 7})
		if err != nil || m[achievements.RuleMessages] < 2 || m[achievements.RuleMessages] > 4 || m[achievements.RuleStreak] != 5 {
			t.Errorf("metrics up to a need = %v, %v; want messages 2-4, streak 5", m, err)
		}
		_, err = s.Metrics(ctx, 1<<40, all)
		wantCode(t, err, apperr.NotFound)
	})

	t.Run("streak across days, gaps and late writes", func(t *testing.T) {
		u := f.Users[10]
		streak := func() int64 {
			t.Helper()
			m, err := s.Metrics(ctx, u, map[achievements.RuleKind]int64{achievements.RuleStreak: 1000})
			if err != nil {
				t.Fatal(err)
			}
			return m[achievements.RuleStreak]
		}
		midnight := now.Truncate(24 * time.Hour) // a UTC midnight
		day := func(d int) time.Time { return midnight.AddDate(0, 0, d) }
		steps := []struct {
			name string
			kind achievements.RuleKind
			at   time.Time
			want int64
		}{
			{"first", achievements.RuleMessages, day(0).Add(23*time.Hour + 59*time.Minute + 59*time.Second + 999*time.Millisecond), 1},
			{"the next UTC day, a millisecond later", achievements.RuleShouts, day(1), 2},
			{"the same day again", achievements.RuleMessages, day(1).Add(12 * time.Hour), 2},
			{"the last millisecond of that day", achievements.RuleMessages, day(1).Add(24*time.Hour - time.Millisecond), 2},
			{"a gap of one day", achievements.RuleMessages, day(3), 2},
			{"the run after the gap", achievements.RuleShouts, day(4), 2},
			{"longer than the first run", achievements.RuleMessages, day(5), 3},
			{"a late write fills the gap", achievements.RuleMessages, day(2).Add(time.Hour), 6},
			{"a late write on a counted day", achievements.RuleShouts, day(0).Add(time.Hour), 6},
			{"a late write before the first day", achievements.RuleMessages, day(-1), 7},
			{"a long gap, then a new run", achievements.RuleMessages, day(40), 7},
			{"today's run goes on", achievements.RuleMessages, day(41), 7},
			{"a late write two days back", achievements.RuleMessages, day(39), 7},
		}
		for _, st := range steps {
			if err := f.Act(ctx, st.kind, u, st.at, 0); err != nil {
				t.Fatal(err)
			}
			if got := streak(); got != st.want {
				t.Errorf("after %s (%s): streak %d, want %d", st.name, st.at.Format(time.RFC3339Nano), got, st.want)
			}
		}
		// Day 42 extends the new run 39-41 to 4; days 43-46 make it 8,
		// longer than the first.
		for d := 42; d <= 46; d++ {
			if err := f.Act(ctx, achievements.RuleMessages, u, day(d).Add(time.Duration(d)*time.Minute), 0); err != nil {
				t.Fatal(err)
			}
		}
		if got := streak(); got != 8 {
			t.Errorf("after days 39-46: streak %d, want 8", got)
		}
	})

	t.Run("streak under concurrent writes", func(t *testing.T) {
		// Writers race on one user's days in any order (across midnight, a
		// day before the latest, the same day twice); the streak is what
		// counting the distinct days gives.
		u := f.Users[11]
		base := now.Truncate(24*time.Hour).AddDate(0, 1, 0)
		var days []int64
		var wg sync.WaitGroup
		for i := range 40 {
			d := (i * 7) % 23 // 0-22, not in order, each a few times
			if d == 11 {
				continue // a gap: runs 0-10 and 12-22
			}
			days = append(days, int64(d))
			kind := achievements.RuleMessages
			if i%3 == 0 {
				kind = achievements.RuleShouts
			}
			at := base.AddDate(0, 0, d).Add(time.Duration(i) * time.Minute)
			wg.Go(func() {
				if err := f.Act(ctx, kind, u, at, 0); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		slices.Sort(days)
		want := achievements.LongestRun(slices.Compact(days))
		m, err := s.Metrics(ctx, u, map[achievements.RuleKind]int64{achievements.RuleStreak: 1000})
		if err != nil || m[achievements.RuleStreak] != want || want != 11 {
			t.Errorf("streak after concurrent writes = %v, %v; want %d (11)", m, err, want)
		}
	})

	t.Run("pending", func(t *testing.T) {
		u := f.Users[2]
		first := bySlug(t, s, "first-message")
		p, err := s.Pending(ctx, u)
		if err != nil || !slices.ContainsFunc(p, func(a achievements.Achievement) bool { return a.ID == first.ID }) {
			t.Fatalf("Pending = %v, %v; want first-message in it", p, err)
		}
		if _, _, err := s.Award(ctx, achievements.Grant{AchievementID: first.ID, UserID: u, Source: achievements.SourceRule, At: now}); err != nil {
			t.Fatal(err)
		}
		p, _ = s.Pending(ctx, u)
		for _, a := range p {
			if a.ID == first.ID || a.Rule == nil {
				t.Errorf("Pending after the award holds %+v", a)
			}
		}
	})

	t.Run("a limited supply is never oversold", func(t *testing.T) {
		c := mkCollectible(t, s, ptr(10), nil)
		const claimers = 50 // distinct users racing for a supply of 10
		ids := slices.Clone(f.Users[len(f.Users)-claimers:])
		var serials []int64
		var mu sync.Mutex
		var soldOut, owned atomic.Int64
		var wg sync.WaitGroup
		for i := range claimers {
			wg.Go(func() {
				o, err := s.Claim(ctx, c.ID, ids[i%len(ids)], achievements.SourcePurchase, now)
				switch {
				case apperr.Is(err, apperr.SoldOut):
					soldOut.Add(1)
				case apperr.Is(err, apperr.AlreadyOwned):
					owned.Add(1)
				case err != nil:
					t.Error(err)
				default:
					mu.Lock()
					serials = append(serials, o.Serial)
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		const n = 10
		slices.Sort(serials)
		want := make([]int64, n)
		for i := range want {
			want[i] = int64(i + 1)
		}
		if !slices.Equal(serials, want) {
			t.Errorf("serials %v, want %v", serials, want)
		}
		if soldOut.Load() != claimers-n || owned.Load() != 0 {
			t.Errorf("%d serials, %d sold out, %d owned: not %d", len(serials), soldOut.Load(), owned.Load(), claimers)
		}
		got, err := s.Collectible(ctx, c.ID)
		if err != nil || got.Remaining == nil || *got.Remaining != 0 || got.Minted != n {
			t.Errorf("remaining = %v, minted %d, %v; want 0 and 10", got.Remaining, got.Minted, err)
		}
	})

	t.Run("claims", func(t *testing.T) {
		u := f.Users[3]
		c := mkCollectible(t, s, nil, nil)
		o, err := s.Claim(ctx, c.ID, u, achievements.SourcePurchase, now)
		if err != nil || o.Serial != 1 || o.Collectible.Remaining != nil || o.Collectible.ID != c.ID {
			t.Fatalf("Claim = %+v, %v", o, err)
		}
		_, err = s.Claim(ctx, c.ID, u, achievements.SourcePurchase, now)
		wantCode(t, err, apperr.AlreadyOwned)
		o2, err := s.Claim(ctx, c.ID, f.Users[4], achievements.SourcePurchase, now)
		if err != nil || o2.Serial != 2 {
			t.Fatalf("second claim = %+v, %v", o2, err)
		}
		_, err = s.Claim(ctx, 1<<40, u, achievements.SourcePurchase, now)
		wantCode(t, err, apperr.NotFound)
		_, err = s.Claim(ctx, c.ID, 1<<40, achievements.SourcePurchase, now)
		wantCode(t, err, apperr.NotFound)
		one := mkCollectible(t, s, ptr(1), nil)
		if _, err := s.Claim(ctx, one.ID, u, achievements.SourcePurchase, now); err != nil {
			t.Fatal(err)
		}
		_, err = s.Claim(ctx, one.ID, f.Users[4], achievements.SourcePurchase, now)
		wantCode(t, err, apperr.SoldOut)
		list, err := s.UserCollectibles(ctx, u)
		serial := map[int64]int64{}
		for _, o := range list {
			serial[o.Collectible.ID] = o.Serial
		}
		if err != nil || serial[c.ID] != 1 || serial[one.ID] != 1 || list[0].Collectible.ID != one.ID {
			t.Fatalf("UserCollectibles = %+v, %v; want %d and %d (newest first) with serial 1", list, err, one.ID, c.ID)
		}
		_, err = s.UserCollectibles(ctx, 1<<40)
		wantCode(t, err, apperr.NotFound)
	})

	t.Run("an award grants its collectibles in its transaction", func(t *testing.T) {
		u, v := f.Users[4], f.Users[5]
		a := mkAchievement(t, s, 5, nil)
		limited := mkCollectible(t, s, ptr(1), &a.ID)
		unlimited := mkCollectible(t, s, nil, &a.ID)
		g, created, err := s.Award(ctx, achievements.Grant{AchievementID: a.ID, UserID: u, Source: achievements.SourceAdmin, At: now})
		if err != nil || !created || len(g.Collectibles) != 2 || g.XP.Awarded != 5 {
			t.Fatalf("Award = %+v, %v, %v; want both collectibles and 5 XP", g, created, err)
		}
		// The limited one is gone: the next award stands without it.
		g, created, err = s.Award(ctx, achievements.Grant{AchievementID: a.ID, UserID: v, Source: achievements.SourceAdmin, At: now})
		if err != nil || !created || len(g.Collectibles) != 1 || g.Collectibles[0].Collectible.ID != unlimited.ID || g.Collectibles[0].Serial != 2 {
			t.Fatalf("second Award = %+v, %v, %v; want the unlimited one, serial 2", g, created, err)
		}
		got, _ := s.Collectible(ctx, limited.ID)
		if *got.Remaining != 0 {
			t.Errorf("limited remaining %d", *got.Remaining)
		}
	})

	t.Run("collectible edits", func(t *testing.T) {
		c := mkCollectible(t, s, ptr(5), nil)
		for _, u := range f.Users[:3] {
			if _, err := s.Claim(ctx, c.ID, u, achievements.SourcePurchase, now); err != nil {
				t.Fatal(err)
			}
		}
		name := "Renamed"
		_, err := s.UpdateCollectible(ctx, c.ID, achievements.CollectiblePatch{Supply: achievements.Nullable{Set: true, Value: 2}}, now, admin)
		wantCode(t, err, apperr.Conflict)
		got, err := s.UpdateCollectible(ctx, c.ID, achievements.CollectiblePatch{Name: &name, Supply: achievements.Nullable{Set: true, Value: 3},
			PriceCredits: achievements.Nullable{Set: true, Value: 250}}, now, admin)
		if err != nil || got.Name != name || *got.Supply != 3 || *got.Remaining != 0 || *got.PriceCredits != 250 {
			t.Fatalf("UpdateCollectible = %+v, %v", got, err)
		}
		_, err = s.Claim(ctx, c.ID, f.Users[3], achievements.SourcePurchase, now)
		wantCode(t, err, apperr.SoldOut)
		got, err = s.UpdateCollectible(ctx, c.ID, achievements.CollectiblePatch{Supply: achievements.Nullable{Set: true, Null: true}}, now, admin)
		if err != nil || got.Supply != nil || got.Remaining != nil || got.Name != name {
			t.Fatalf("unlimited = %+v, %v", got, err)
		}
		if o, err := s.Claim(ctx, c.ID, f.Users[3], achievements.SourcePurchase, now); err != nil || o.Serial != 4 {
			t.Fatalf("claim after the supply was lifted = %+v, %v", o, err)
		}
		_, err = s.UpdateCollectible(ctx, c.ID, achievements.CollectiblePatch{AchievementID: achievements.Nullable{Set: true, Value: 1 << 40}}, now, admin)
		wantCode(t, err, apperr.Validation)
		_, err = s.UpdateCollectible(ctx, 1<<40, achievements.CollectiblePatch{Name: &name}, now, admin)
		wantCode(t, err, apperr.NotFound)
		_, err = s.CreateCollectible(ctx, achievements.Collectible{Slug: c.Slug, Name: "x", Rarity: achievements.Common}, now, admin)
		wantCode(t, err, apperr.Conflict)
		_, err = s.CreateCollectible(ctx, achievements.Collectible{Slug: "orphan-ref", Name: "x", Rarity: achievements.Common, AchievementID: ptr(1 << 40)}, now, admin)
		wantCode(t, err, apperr.Validation)
		cs, err := s.Collectibles(ctx)
		if err != nil || !slices.ContainsFunc(cs, func(x achievements.Collectible) bool { return x.ID == c.ID && x.Name == name }) {
			t.Errorf("Collectibles = %v, %v", cs, err)
		}
	})

	t.Run("user ids", func(t *testing.T) {
		ids, err := s.UserIDs(ctx, 0, 1000)
		if err != nil || !slices.IsSorted(ids) {
			t.Fatalf("UserIDs = %v, %v", ids, err)
		}
		for _, u := range f.Users {
			if !slices.Contains(ids, u) {
				t.Errorf("user %d missing", u)
			}
		}
		page, _ := s.UserIDs(ctx, ids[0], 1)
		if len(ids) > 1 && (len(page) != 1 || page[0] != ids[1]) {
			t.Errorf("page after %d = %v", ids[0], page)
		}
	})

	t.Run("evaluate reads what pending and metrics read", func(t *testing.T) {
		u := f.Users[12]
		same := func(when string) {
			t.Helper()
			pending, m, err := s.Evaluate(ctx, u)
			if err != nil {
				t.Fatal(when, err)
			}
			want, err := s.Pending(ctx, u)
			if err != nil {
				t.Fatal(when, err)
			}
			ids := func(as []achievements.Achievement) (out []string) {
				for _, a := range as {
					out = append(out, fmt.Sprint(a.ID, a.Rule.Kind, a.Rule.Count))
				}
				return out
			}
			if !slices.Equal(ids(pending), ids(want)) {
				t.Errorf("%s: Evaluate's pending %v, Pending %v", when, ids(pending), ids(want))
			}
			need := achievements.Needs(want)
			wantM, err := s.Metrics(ctx, u, need)
			if err != nil {
				t.Fatal(when, err)
			}
			for k, n := range need { // a store may count past the need
				if min(m[k], n) != min(wantM[k], n) {
					t.Errorf("%s: Evaluate's %s = %d, Metrics' %d (need %d)", when, k, m[k], wantM[k], n)
				}
			}
		}
		same("a new user")
		for range 3 {
			if err := f.Act(ctx, achievements.RuleMessages, u, now, 0); err != nil {
				t.Fatal(err)
			}
		}
		first := bySlug(t, s, "first-message")
		if _, _, err := s.Award(ctx, achievements.Grant{AchievementID: first.ID, UserID: u, Source: achievements.SourceRule, At: now}); err != nil {
			t.Fatal(err)
		}
		same("three messages, the first awarded")
		// A rule defined here is evaluated at once.
		a := mkAchievement(t, s, 0, &achievements.Rule{Kind: achievements.RuleMessages, Count: 3})
		pending, m, err := s.Evaluate(ctx, u)
		if err != nil || !slices.ContainsFunc(achievements.Met(pending, m), func(x achievements.Achievement) bool { return x.ID == a.ID }) {
			t.Errorf("a rule just defined: met %v (pending %v, metrics %v, %v), want %d in it", achievements.Met(pending, m), pending, m, err, a.ID)
		}
		same("a rule defined")
		_, _, err = s.Evaluate(ctx, 1<<40)
		wantCode(t, err, apperr.NotFound)
	})

}
