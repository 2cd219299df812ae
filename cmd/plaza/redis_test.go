package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/plazahq/plaza/internal/netfault"
	"github.com/plazahq/plaza/internal/redisx/redistest"
	"github.com/redis/go-redis/v9"
)

type health struct {
	Status string
	Cache  struct{ Backend string }
	Alerts []string
}

func getHealth(base string) (health, error) {
	res, err := http.Get(base + "/api/health")
	if err != nil {
		return health{}, err
	}
	defer res.Body.Close()
	var h health
	return h, json.NewDecoder(res.Body).Decode(&h)
}

func waitHealth(t *testing.T, base string, ok func(health) bool) health {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		h, err := getHealth(base)
		if err == nil && ok(h) {
			return h
		}
		if time.Now().After(deadline) {
			t.Fatalf("health never reached the expected state: %+v", h)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestServeSurvivesRedisLoss runs the real server with REDIS_URL behind a
// proxy: Redis down at start, then up, then lost mid-run, then back.
// Requests succeed throughout; health says degraded, and why, while Redis
// is away.
func TestServeSurvivesRedisLoss(t *testing.T) {
	u := redistest.URL(t)
	opts, err := redis.ParseURL(u)
	if err != nil {
		t.Fatal(err)
	}
	p := netfault.New(t, opts.Addr)
	p.Cut()                        // down at start
	_, prefix := redistest.Open(t) // a key prefix of its own, cleaned up after
	in := startInstance(t, map[string]string{"REDIS_URL": strings.Replace(u, opts.Addr, p.Addr(), 1), "PLAZA_REDIS_PREFIX": prefix})
	base := in.base
	h, err := getHealth(base)
	if err != nil || h.Status != "degraded" || !strings.Contains(strings.Join(h.Alerts, " "), "Redis") || h.Cache.Backend != "redis" {
		t.Fatalf("started without Redis: %+v %v", h, err)
	}

	if code := in.call(t, "POST", "/api/auth/register", "", map[string]string{"email": "rae@example.com", "username": "rae", "password": "correct horse battery"}, nil); code != 201 {
		t.Fatalf("register without Redis: %d", code)
	}

	p.Restore()
	waitHealth(t, base, func(h health) bool { return h.Status == "ok" })
	var login struct{ Token string }
	in.call(t, "POST", "/api/auth/login", "", map[string]string{"login": "rae", "password": "correct horse battery"}, &login)
	me := func() (int, time.Duration) {
		start := time.Now()
		code := in.call(t, "GET", "/api/users/me", login.Token, nil, nil)
		return code, time.Since(start)
	}
	if code, _ := me(); code != 200 {
		t.Fatalf("me with Redis: %d", code)
	}

	p.Cut() // lost mid-run
	for i := range 20 {
		code, d := me()
		if code != 200 || d > time.Second {
			t.Fatalf("request %d while Redis is lost: %d in %v", i, code, d)
		}
	}
	h = waitHealth(t, base, func(h health) bool { return h.Status == "degraded" })
	if !strings.Contains(strings.Join(h.Alerts, " "), "Redis") {
		t.Fatalf("alerts %v", h.Alerts)
	}
	in.call(t, "POST", "/api/auth/logout", login.Token, nil, nil) // invalidation while Redis is away
	if code, _ := me(); code != 401 {
		t.Fatalf("revoked session accepted while Redis is lost: %d", code)
	}

	p.Restore()
	waitHealth(t, base, func(h health) bool { return h.Status == "ok" })
	if code, _ := me(); code != 401 {
		t.Fatalf("revoked session accepted after Redis returned: %d", code)
	}
}

// TestRevokedSessionWhileRedisIsLost: two instances share a database and
// Redis; Redis is lost; a session signed out on A stops working on B,
// which had it cached, within about a second (not the local tier's 10 s).
func TestRevokedSessionWhileRedisIsLost(t *testing.T) {
	u := redistest.URL(t)
	opts, err := redis.ParseURL(u)
	if err != nil {
		t.Fatal(err)
	}
	p := netfault.New(t, opts.Addr)
	_, prefix := redistest.Open(t)
	env := map[string]string{"PLAZA_DATA_DIR": t.TempDir(), "REDIS_URL": strings.Replace(u, opts.Addr, p.Addr(), 1), "PLAZA_REDIS_PREFIX": prefix}
	a := startInstance(t, env)
	b := startInstance(t, env)
	if code := a.call(t, "POST", "/api/auth/register", "", map[string]string{"email": "sam@example.com", "username": "sam", "password": "correct horse battery"}, nil); code != 201 {
		t.Fatalf("register: %d", code)
	}
	var login struct{ Token string }
	a.call(t, "POST", "/api/auth/login", "", map[string]string{"login": "sam", "password": "correct horse battery"}, &login)
	if code := b.call(t, "GET", "/api/users/me", login.Token, nil, nil); code != 200 { // cached on B now
		t.Fatalf("me on B: %d", code)
	}
	p.Cut()
	if code := a.call(t, "POST", "/api/auth/logout", login.Token, nil, nil); code != 204 {
		t.Fatalf("logout on A: %d", code)
	}
	start := time.Now()
	for b.call(t, "GET", "/api/users/me", login.Token, nil, nil) != 401 {
		if time.Since(start) > 2500*time.Millisecond {
			t.Fatalf("B still accepts the revoked session %v after the logout", time.Since(start))
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("revoked session refused on B %v after the logout on A", time.Since(start))
}
