package httpapi_test

import (
	"fmt"
	"os"
	"sort"
	"testing"
	"time"

	"github.com/plazahq/plaza/internal/redisx/redistest"
	"github.com/plazahq/plaza/internal/sqldb"
	"github.com/plazahq/plaza/internal/sqldb/sqldbtest"
)

// A ban issued on instance A closes the user's sockets on instance B
// within a second (MariaDB + Redis, two instances of one deployment). It
// repeats the ban for PLAZA_BAN_ROUNDS users (default 5) and logs the
// ban -> last socket closed latency's p50 and p99 (BENCHMARKS.md).
func TestBanClosesSocketsOnEveryInstance(t *testing.T) {
	rc, prefix := redistest.Open(t)
	rc2, _ := redistest.Open(t)
	db := sqldbtest.OpenMySQL(t, sqldb.Config{})
	a := newEnv(t, db, withRedis(rc), withEnv("PLAZA_REDIS_PREFIX", prefix, "PLAZA_RATE_STRICT", "off"))
	b := newEnv(t, db, withRedis(rc2), withEnv("PLAZA_REDIS_PREFIX", prefix, "PLAZA_JOB_WORKERS", "0", "PLAZA_RATE_STRICT", "off")) // mail goes through A
	adminTok, _ := a.admin("chief")
	rounds := 5
	if v := os.Getenv("PLAZA_BAN_ROUNDS"); v != "" {
		fmt.Sscan(v, &rounds)
	}
	var took []time.Duration
	for i := range rounds {
		name := fmt.Sprintf("user%d", i)
		tok, u := a.signup(name)
		tok2, _ := b.login(name, pw, "")
		sockets := []*wsClient{a.connect(tok), b.connect(tok), b.connect(tok2)}
		start := time.Now()
		a.must(200, a.do("POST", fmt.Sprintf("/api/admin/users/%d/ban", u.ID), map[string]string{"reason": "spam"}, adminTok))
		done := make(chan int, len(sockets))
		for _, ws := range sockets {
			go func() { done <- int(ws.closedWith()) }()
		}
		for range sockets {
			select {
			case code := <-done:
				if code != 4003 {
					t.Fatalf("socket closed with %d, want 4003", code)
				}
			case <-time.After(time.Second):
				t.Fatalf("round %d: a socket was still open 1 s after the ban", i)
			}
		}
		took = append(took, time.Since(start))
		// Instance B refuses the banned user at once too.
		if r := b.do("GET", "/api/users/me", nil, tok2); r.status != 401 && r.status != 403 {
			t.Fatalf("instance B still serves the banned session: %d", r.status)
		}
		b.must(403, b.do("POST", "/api/auth/login", map[string]string{"login": name, "password": pw}, ""))
	}
	sort.Slice(took, func(i, j int) bool { return took[i] < took[j] })
	p := func(q float64) time.Duration { return took[min(len(took)-1, int(q*float64(len(took))))] }
	t.Logf("ban -> all sockets closed on two instances: n=%d p50=%v p99=%v max=%v", len(took), p(0.5), p(0.99), took[len(took)-1])
}
