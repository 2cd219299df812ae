package leaderboard_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plazahq/plaza/internal/gamification"
	"github.com/plazahq/plaza/internal/leaderboard"
	"github.com/plazahq/plaza/internal/redisx"
	"github.com/plazahq/plaza/internal/redisx/redistest"
	"github.com/plazahq/plaza/internal/sqldb"
	"github.com/plazahq/plaza/internal/sqldb/sqldbtest"
	"github.com/redis/go-redis/v9"
)

// The figures of issue 11 not covered by TestFigures (BENCHMARKS.md,
// "Leaderboard: cross-instance latency and award throughput"). Both are
// skipped unless PLAZA_BENCH is set.

func benchInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// TestCrossInstanceFigures: two instances, each with its own connection
// pool to one MariaDB database and its own client to one Redis, hooked as
// the app wires them. Each award is made on A (sqlstore.XP.Award, its own
// transaction); the clock runs from before the award until a read on B
// (the route's query: all-time, limit 50, around the user) shows the
// user's new xp.
//
//	PLAZA_BENCH=1 PLAZA_TEST_MYSQL_DSN=mysql://root@127.0.0.1:3306/test \
//	PLAZA_TEST_REDIS_URL=redis://127.0.0.1:6379/0 \
//	go test ./internal/leaderboard -run TestCrossInstanceFigures -v
func TestCrossInstanceFigures(t *testing.T) {
	if os.Getenv("PLAZA_BENCH") == "" {
		t.Skip("PLAZA_BENCH not set")
	}
	url := sqldbtest.CreateMySQLDatabase(t)
	ctx := context.Background()
	open := func() *sqldb.DB {
		db, err := sqldb.Open(ctx, sqldb.Config{URL: url})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	dbA, dbB := open(), open()
	if err := dbA.Migrate(ctx, sqldbtest.Quiet()); err != nil {
		t.Fatal(err)
	}
	rcA, prefix := redistest.Open(t)
	rcB, err := redisx.Open(ctx, redistest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rcA.Close(); rcB.Close() })
	ids := users(t, dbA, 20)
	a, b := newInstance(t, dbA, rcA, prefix), newInstance(t, dbB, rcB, prefix)

	n := benchInt("PLAZA_BENCH_AWARDS", 200)
	want := map[int64]int64{}
	var total, commit, read []time.Duration
	polls := 0
	for i := range n {
		user := ids[i%len(ids)]
		amount := int64(i%7 + 1)
		want[user] += amount
		start := time.Now()
		if _, err := a.xp.Award(ctx, time.Now(), gamification.Award{UserID: user, Amount: amount,
			Reason: gamification.ReasonAdjustment, Ref: fmt.Sprint("x", i)}); err != nil {
			t.Fatal(err)
		}
		commit = append(commit, time.Since(start))
		for {
			polls++
			rs := time.Now()
			v, err := b.board.Get(ctx, leaderboard.Query{Period: leaderboard.AllTime, Limit: 50, User: user, Around: true})
			if err != nil {
				t.Fatal(err)
			}
			if v.Me != nil && v.Me.XP == want[user] {
				read = append(read, time.Since(rs))
				break
			}
			if time.Since(start) > 10*time.Second {
				t.Fatalf("award %d never reached b: me = %+v, want %d", i, v.Me, want[user])
			}
		}
		total = append(total, time.Since(start))
	}
	if down, why := b.board.Down(); down {
		t.Fatalf("b degraded during the run: %s", why)
	}
	t.Logf("award on A -> read on B (MariaDB + Redis), %d awards: p50 %v p99 %v max %v; award commit alone p50 %v p99 %v; the read on B alone p50 %v p99 %v; reads on B per award %.2f",
		n, pct(total, 0.5), pct(total, 0.99), pct(total, 1), pct(commit, 0.5), pct(commit, 0.99), pct(read, 0.5), pct(read, 0.99), float64(polls)/float64(n))
}

// TestAwardThroughputFigures: parallel writers (PLAZA_BENCH_WRITERS, 16)
// each make PLAZA_BENCH_AWARDS (300) awards through sqlstore.XP.Award: three
// in four to users of their own, one in four to one of 4 hot users every
// writer hits, and every tenth of those with a ref all writers share, so
// the same cause races across writers and must count once. Then: every
// user's users.xp equals SUM(amount) of their xp_events and the sum of
// what Award reported awarding them, and the board (live, and rebuilt from
// the ledger by a fresh instance) shows the same totals. SQLite always;
// MariaDB with the in-process index when PLAZA_TEST_MYSQL_DSN is set, and
// MariaDB with the Redis index when PLAZA_TEST_REDIS_URL is set too.
//
//	PLAZA_BENCH=1 go test ./internal/leaderboard -run TestAwardThroughputFigures -v
func TestAwardThroughputFigures(t *testing.T) {
	if os.Getenv("PLAZA_BENCH") == "" {
		t.Skip("PLAZA_BENCH not set")
	}
	for _, e := range sqldbtest.Engines() {
		t.Run(e.Name, func(t *testing.T) {
			throughput(t, e.Open(t, sqldb.Config{}), nil, "")
		})
	}
	t.Run("mysql+redis", func(t *testing.T) {
		db := sqldbtest.OpenMySQL(t, sqldb.Config{})
		rc, prefix := redistest.Open(t)
		t.Cleanup(func() { rc.Close() })
		throughput(t, db, rc, prefix)
	})
}

func throughput(t *testing.T, db *sqldb.DB, rc *redis.Client, prefix string) {
	ctx := context.Background()
	writers := benchInt("PLAZA_BENCH_WRITERS", 16)
	per := benchInt("PLAZA_BENCH_AWARDS", 300)
	const own, hot = 8, 4
	ids := users(t, db, writers*own+hot)
	hotIDs := ids[writers*own:]
	in := newInstance(t, db, rc, prefix)

	var mu sync.Mutex
	awarded := map[int64]int64{}
	var calls, rows, dups atomic.Int64
	var errs []error
	start := time.Now()
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mine := map[int64]int64{}
			for i := range per {
				user, ref := ids[w*own+i%own], fmt.Sprintf("w%d-%d", w, i)
				if i%4 == 3 {
					user = hotIDs[(w+i)%hot]
					if i%40 == 3 { // a cause every writer races for
						user, ref = hotIDs[(i/40)%hot], fmt.Sprintf("shared-%d", i)
					}
				}
				res, err := in.xp.Award(ctx, time.Now(), gamification.Award{UserID: user, Amount: int64(i%5 + 1),
					Reason: gamification.ReasonAdjustment, Ref: ref})
				calls.Add(1)
				if err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
					continue
				}
				if res.Awarded == 0 {
					dups.Add(1)
					continue
				}
				rows.Add(1)
				mine[user] += res.Awarded
			}
			mu.Lock()
			for u, x := range mine {
				awarded[u] += x
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if len(errs) > 0 {
		t.Fatalf("%d awards failed, first: %v", len(errs), errs[0])
	}
	wantDups := int64(0)
	for i := range per {
		if i%40 == 3 {
			wantDups += int64(writers - 1)
		}
	}
	if dups.Load() != wantDups {
		t.Errorf("%d awards deduplicated, want %d (shared causes counted once)", dups.Load(), wantDups)
	}

	// The ledger/total invariant, per user.
	type totals struct{ xp, ledger int64 }
	got := map[int64]totals{}
	if err := db.Read().Query(ctx, func(r *sql.Rows) error {
		var id, xp, sum int64
		if err := r.Scan(&id, &xp, &sum); err != nil {
			return err
		}
		got[id] = totals{xp, sum}
		return nil
	}, `SELECT u.id, u.xp, COALESCE((SELECT SUM(e.amount) FROM xp_events e WHERE e.user_id = u.id), 0) FROM users u`); err != nil {
		t.Fatal(err)
	}
	var ledgerRows int64
	if err := db.Read().QueryRow(ctx, []any{&ledgerRows}, `SELECT COUNT(*) FROM xp_events`); err != nil {
		t.Fatal(err)
	}
	if ledgerRows != rows.Load() {
		t.Errorf("ledger has %d rows, awards reported %d", ledgerRows, rows.Load())
	}
	fresh := newInstance(t, db, nil, "") // rebuilt from the ledger at start
	bad := 0
	for _, id := range ids {
		g := got[id]
		live := meXP(t, in, id)
		rebuilt := meXP(t, fresh, id)
		if g.xp != g.ledger || g.xp != awarded[id] || live != g.xp || rebuilt != g.xp {
			bad++
			t.Errorf("user %d: users.xp %d, SUM(xp_events) %d, awarded %d, board %d, rebuilt board %d",
				id, g.xp, g.ledger, awarded[id], live, rebuilt)
		}
	}
	shared := "in-process index"
	if rc != nil {
		shared = "Redis index"
	}
	t.Logf("%s (%s): %d writers x %d awards = %d calls in %v: %.0f awards/s (%d rows, %d duplicates refused); invariant over %d users: %d mismatches",
		db.Dialect, shared, writers, per, calls.Load(), elapsed.Round(time.Millisecond),
		float64(calls.Load())/elapsed.Seconds(), rows.Load(), dups.Load(), len(ids), bad)
}

func meXP(t *testing.T, in *instance, user int64) int64 {
	t.Helper()
	v, err := in.board.Get(context.Background(), leaderboard.Query{Period: leaderboard.AllTime, Limit: 1, User: user})
	if err != nil {
		t.Fatal(err)
	}
	if v.Me == nil {
		return 0
	}
	return v.Me.XP
}
