package sqlstore_test

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/plazahq/plaza/internal/achievements"
	"github.com/plazahq/plaza/internal/audit"
	"github.com/plazahq/plaza/internal/community"
	"github.com/plazahq/plaza/internal/gamification"
	"github.com/plazahq/plaza/internal/jobs"
	"github.com/plazahq/plaza/internal/sqldb"
	"github.com/plazahq/plaza/internal/sqldb/sqldbtest"
	"github.com/plazahq/plaza/internal/sqlstore"
)

// inlineEnv is a community store whose posts check achievements inline
// (CheckInline), the default catalog's first-message achievement with a
// collectible of supply 5, and the awards announced after each commit.
type inlineEnv struct {
	db      *sqldb.DB
	ach     *sqlstore.Achievements
	comm    *sqlstore.Community
	channel int64
	first   achievements.Achievement
	mu      sync.Mutex
	awarded map[int64][]achievements.Granted // by user
}

// newInlineEnv returns the env on db and n new members (users named
// prefix_1...; prefix_0 owns the channel).
func newInlineEnv(t *testing.T, db *sqldb.DB, prefix string, n int) (*inlineEnv, []int64) {
	t.Helper()
	users := mkUsers(t, db, prefix, n+1)
	owner := users[0]
	ctx := context.Background()
	now := time.Now()
	xp := sqlstore.NewXP(db, nil)
	e := &inlineEnv{db: db, ach: sqlstore.NewAchievements(db, xp, sqlstore.NewAudit(db, nil)), awarded: map[int64][]achievements.Granted{}}
	e.comm = sqlstore.NewCommunity(db, xp, gamification.DefaultRules)
	e.comm.CheckInline(e.ach, func(_ context.Context, g achievements.Granted) {
		e.mu.Lock()
		defer e.mu.Unlock()
		e.awarded[g.UserID] = append(e.awarded[g.UserID], g)
	})
	catalog, err := e.ach.Achievements(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range catalog {
		if a.Slug == "first-message" {
			e.first = a
		}
	}
	if e.first.ID == 0 || e.first.XP <= 0 {
		t.Fatalf("the default catalog has no first-message achievement with XP: %+v", catalog)
	}
	supply := int64(5)
	if _, err := e.ach.CreateCollectible(ctx, achievements.Collectible{Slug: "first-badge", Name: "First badge", Rarity: achievements.Rare,
		Supply: &supply, AchievementID: &e.first.ID}, now,
		audit.Entry{Actor: audit.Actor{ID: 1, IP: "127.0.0.1"}, Action: "collectible.create", TargetKind: "collectible"}); err != nil {
		t.Fatal(err)
	}
	ch, err := e.comm.CreateChannel(ctx, community.Channel{Slug: "inline", Name: "Inline", CreatedAt: now}, owner)
	if err != nil {
		t.Fatal(err)
	}
	e.channel = ch.ID
	return e, users[1:]
}

func (e *inlineEnv) post(t *testing.T, user int64, at time.Time) gamification.Result {
	t.Helper()
	_, res, err := e.comm.PostMessage(context.Background(), community.Message{ChannelID: e.channel, SenderID: user, Body: "hello", CreatedAt: at}, nil)
	if err != nil {
		t.Error(err)
	}
	return res
}

func (e *inlineEnv) announced(user int64) []achievements.Granted {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.awarded[user]
}

// TestFirstPostChecksInItsTransaction: with CheckInline, a member's first
// post on SQLite awards the first-message achievement, its XP and its
// collectible in the post's own transaction, queues no check, and is
// announced once after the commit; a post within PostCheckWindow queues
// its check as before. On MySQL CheckInline does nothing: the post queues
// its check and awards nothing.
func TestFirstPostChecksInItsTransaction(t *testing.T) {
	sqldbtest.ForEach(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		e, members := newInlineEnv(t, db, "inline", 1)
		q := jobs.NewQueue(db, jobs.Config{}, nil, sqldbtest.Quiet()) // lists the queued checks
		u := members[0]
		now := time.Now()
		res := e.post(t, u, now)
		held, err := e.ach.UserAchievements(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		got := e.announced(u)
		if db.Dialect == sqldb.MySQL {
			if len(got) != 0 || len(held) != 0 || queuedChecks(t, q, u) != 1 {
				t.Fatalf("MySQL: %d announced, %d held, %d checks queued after a first post; want 0, 0 and 1", len(got), len(held), queuedChecks(t, q, u))
			}
			return
		}
		if len(got) != 1 || got[0].Achievement.ID != e.first.ID || got[0].XP.Awarded != e.first.XP || len(got[0].Collectibles) != 1 {
			t.Fatalf("announced %+v after a first post, want the first-message achievement once with %d XP and its collectible", got, e.first.XP)
		}
		if got[0].XP.LeveledUp() {
			t.Errorf("the award was announced with a level-up %+v: the post's result announces it", got[0].XP)
		}
		if len(held) != 1 || held[0].Achievement.ID != e.first.ID {
			t.Fatalf("user holds %+v, want the first-message achievement", held)
		}
		if n := queuedChecks(t, q, u); n != 0 {
			t.Fatalf("%d checks queued after a first post checked inline, want 0", n)
		}
		user, err := sqlstore.NewAccounts(db).UserByID(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		// The post's own XP (1) left its author at level 1, the award (5
		// more) took them to level 2: the post's result carries both, so
		// the message is shown at level 2 and its level.up follows it.
		if res.XP != user.XP || res.Level != user.Level || res.PrevLevel != 1 || res.Awarded != 1+e.first.XP || user.Level != 2 {
			t.Fatalf("post's result %+v; the user has %d XP at level %d; want the result to reach the user's from level 1, %d added",
				res, user.XP, user.Level, 1+e.first.XP)
		}
		e.post(t, u, now.Add(100*time.Millisecond)) // within the window of that check: queued for its end
		if n, m := queuedChecks(t, q, u), len(e.announced(u)); n != 1 || m != 1 {
			t.Fatalf("after a second post within the window: %d checks queued, %d announced; want 1 and still 1", n, m)
		}
	})
}

// TestFirstPostsInlineShareALimitedSupply: 24 new members' first posts at
// once, on SQLite checked inline in the posts' shared transactions: each
// member gets the first-message achievement once with its XP, and the
// collectible that comes with it goes to exactly 5 of them (its supply),
// serials 1 to 5 once each; every award is announced once.
func TestFirstPostsInlineShareALimitedSupply(t *testing.T) {
	db := sqldbtest.OpenSQLite(t, sqldb.Config{})
	ctx := context.Background()
	e, posters := newInlineEnv(t, db, "supply", 24)
	release := holdWriter(t, db) // the posts queue behind it, then share transactions
	before := sharedGroupStats(db)
	var wg sync.WaitGroup
	results := make([]gamification.Result, len(posters))
	for i, u := range posters {
		wg.Go(func() { results[i] = e.post(t, u, time.Now()) })
	}
	time.Sleep(200 * time.Millisecond)
	release()
	wg.Wait()
	if st := sharedGroupStats(db); st.Calls-before.Calls != int64(len(posters)) || st.Batches-before.Batches > 4 {
		t.Errorf("%d posts took %d calls in %d transactions, want %d in at most 4", len(posters), st.Calls-before.Calls, st.Batches-before.Batches, len(posters))
	}
	serials := map[int64]int{}
	for i, u := range posters {
		got := e.announced(u)
		if len(got) != 1 || got[0].Achievement.ID != e.first.ID {
			t.Errorf("user %d: announced %+v, want the first-message achievement once", u, got)
			continue
		}
		for _, o := range got[0].Collectibles {
			serials[o.Serial]++
		}
		user, err := sqlstore.NewAccounts(db).UserByID(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		if r := results[i]; user.XP != r.XP || r.Awarded != 1+e.first.XP {
			t.Errorf("user %d: xp %d, the post's result %+v; want it to carry the post's 1 and the achievement's %d", u, user.XP, r, e.first.XP)
		}
	}
	if len(serials) != 5 {
		t.Errorf("serials handed out %v, want 1 to 5 once each", serials)
	}
	for s, n := range serials {
		if s < 1 || s > 5 || n != 1 {
			t.Errorf("serial %d handed out %d times, want serials 1 to 5 once each", s, n)
		}
	}
	var minted int64
	if err := db.Write().QueryRow(ctx, []any{&minted}, `SELECT minted FROM collectibles WHERE slug = 'first-badge'`); err != nil {
		t.Fatal(err)
	}
	if minted != 5 {
		t.Errorf("minted %d, want 5", minted)
	}
}

// TestInlineCheckFailureFailsThePost: on SQLite, when the check a post
// runs inline fails (here the award's insert, refused by a trigger), the
// post fails whole: no message, no XP, no award, no check queued, nothing
// announced; once the cause is gone the same post goes through.
func TestInlineCheckFailureFailsThePost(t *testing.T) {
	db := sqldbtest.OpenSQLite(t, sqldb.Config{})
	ctx := context.Background()
	e, members := newInlineEnv(t, db, "fails", 1)
	u := members[0]
	if _, err := db.Write().Exec(ctx, `CREATE TRIGGER refuse_awards BEFORE INSERT ON user_achievements BEGIN SELECT RAISE(ABORT, 'awards refused'); END`); err != nil {
		t.Fatal(err)
	}
	msg := community.Message{ChannelID: e.channel, SenderID: u, Body: "hello", CreatedAt: time.Now()}
	if _, _, err := e.comm.PostMessage(ctx, msg, nil); err == nil {
		t.Fatal("the post went through though its inline check failed")
	}
	var messages, xpEvents, checks int64
	count := func() {
		t.Helper()
		if err := db.Write().QueryRow(ctx, []any{&messages, &xpEvents, &checks}, `SELECT
			(SELECT COUNT(*) FROM messages WHERE sender_id = ?), (SELECT COUNT(*) FROM xp_events WHERE user_id = ?),
			(SELECT COUNT(*) FROM jobs WHERE kind = ?)`, u, u, achievements.CheckKind); err != nil {
			t.Fatal(err)
		}
	}
	count()
	user, err := sqlstore.NewAccounts(db).UserByID(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	if messages != 0 || xpEvents != 0 || checks != 0 || user.XP != 0 || len(e.announced(u)) != 0 {
		t.Fatalf("after a failed post: %d messages, %d XP events, %d checks, xp %d, %d announced; want nothing",
			messages, xpEvents, checks, user.XP, len(e.announced(u)))
	}
	if _, err := db.Write().Exec(ctx, `DROP TRIGGER refuse_awards`); err != nil {
		t.Fatal(err)
	}
	msg.CreatedAt = time.Now().Add(2 * sqlstore.PostCheckWindow) // its own window: checked inline again
	if _, _, err := e.comm.PostMessage(ctx, msg, nil); err != nil {
		t.Fatal(err)
	}
	count()
	if messages != 1 || len(e.announced(u)) != 1 {
		t.Fatalf("after the cause is gone: %d messages, %d announced; want 1 and 1", messages, len(e.announced(u)))
	}
}

// TestInlineCheckFailureInASharedBatch: on SQLite, posts queued together
// share a transaction; when one post's inline check fails (awards refused
// for its author by a trigger), that post fails and changes nothing, and
// the others commit with their awards, each announced once.
func TestInlineCheckFailureInASharedBatch(t *testing.T) {
	db := sqldbtest.OpenSQLite(t, sqldb.Config{})
	ctx := context.Background()
	e, posters := newInlineEnv(t, db, "batchfail", 4)
	refused := posters[0]
	if _, err := db.Write().Exec(ctx, `CREATE TRIGGER refuse_awards BEFORE INSERT ON user_achievements WHEN NEW.user_id = `+
		strconv.FormatInt(refused, 10)+` BEGIN SELECT RAISE(ABORT, 'awards refused'); END`); err != nil {
		t.Fatal(err)
	}
	release := holdWriter(t, db)
	before := sharedGroupStats(db)
	errs := make([]error, len(posters))
	var wg sync.WaitGroup
	for i, u := range posters {
		wg.Go(func() {
			_, _, errs[i] = e.comm.PostMessage(ctx, community.Message{ChannelID: e.channel, SenderID: u, Body: "hello", CreatedAt: time.Now()}, nil)
		})
	}
	time.Sleep(200 * time.Millisecond)
	release()
	wg.Wait()
	if st := sharedGroupStats(db); st.Batches-before.Batches >= int64(len(posters)) {
		t.Errorf("%d posts took %d transactions: they did not share one", len(posters), st.Batches-before.Batches)
	}
	for i, u := range posters {
		var messages int64
		if err := db.Write().QueryRow(ctx, []any{&messages}, `SELECT COUNT(*) FROM messages WHERE sender_id = ?`, u); err != nil {
			t.Fatal(err)
		}
		user, err := sqlstore.NewAccounts(db).UserByID(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		announced := len(e.announced(u))
		if u == refused {
			if errs[i] == nil || messages != 0 || user.XP != 0 || announced != 0 {
				t.Errorf("refused author: err %v, %d messages, xp %d, %d announced; want an error and nothing written", errs[i], messages, user.XP, announced)
			}
			continue
		}
		if errs[i] != nil || messages != 1 || user.XP == 0 || announced != 1 {
			t.Errorf("user %d: err %v, %d messages, xp %d, %d announced; want the post, its XP and one award", u, errs[i], messages, user.XP, announced)
		}
	}
}

// TestInlineAwardsLevelUpOnceAfterThePosts: on SQLite, when a post's own
// XP moves its author up a level and its inline check's awards move them
// further, the post's result carries the level the awards reached (the
// caller announces it once, after the message) and the awards are
// announced without a level-up of their own: no level.up is followed by
// a lower one.
func TestInlineAwardsLevelUpOnceAfterThePosts(t *testing.T) {
	db := sqldbtest.OpenSQLite(t, sqldb.Config{})
	ctx := context.Background()
	e, members := newInlineEnv(t, db, "levels", 1)
	u := members[0]
	now := time.Now()
	big, err := e.ach.CreateAchievement(ctx, achievements.Achievement{Slug: "big-hello", Name: "Big hello", XP: 100, Rarity: achievements.Rare,
		Rule: &achievements.Rule{Kind: achievements.RuleMessages, Count: 1}}, now,
		audit.Entry{Actor: audit.Actor{ID: 1, IP: "127.0.0.1"}, Action: "achievement.create", TargetKind: "achievement"})
	if err != nil {
		t.Fatal(err)
	}
	// 4 XP: level 1, one short of level 2 (the default levels: 0, 5, 20, 65, 155).
	if _, err := sqlstore.NewXP(db, nil).Award(ctx, now, gamification.Award{UserID: u, Amount: 4, Reason: gamification.ReasonAdjustment, Ref: "start"}); err != nil {
		t.Fatal(err)
	}
	res := e.post(t, u, now) // its own +1: level 2; first-message +5 and big-hello +100: 110, level 4
	user, err := sqlstore.NewAccounts(db).UserByID(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	if want := 4 + 1 + e.first.XP + big.XP; user.XP != want || user.Level != 4 {
		t.Fatalf("user has %d XP at level %d, want %d at level 4", user.XP, user.Level, want)
	}
	if res.XP != user.XP || res.Level != 4 || res.PrevLevel != 1 || res.Awarded != 1+e.first.XP+big.XP {
		t.Errorf("post's result %+v, want %d XP at level 4 from level 1, %d added", res, user.XP, 1+e.first.XP+big.XP)
	}
	got := e.announced(u)
	if len(got) != 2 {
		t.Fatalf("announced %d awards, want 2", len(got))
	}
	for _, g := range got {
		if g.XP.LeveledUp() {
			t.Errorf("award %s announced with a level-up %+v: the post's result announces it", g.Achievement.Slug, g.XP)
		}
	}
}
