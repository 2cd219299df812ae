package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plazahq/plaza/internal/account"
	"github.com/plazahq/plaza/internal/analytics"
	"github.com/plazahq/plaza/internal/app"
	"github.com/plazahq/plaza/internal/cache"
	"github.com/plazahq/plaza/internal/config"
	"github.com/plazahq/plaza/internal/httpapi"
	"github.com/plazahq/plaza/internal/jobs"
	"github.com/plazahq/plaza/internal/mail"
	"github.com/plazahq/plaza/internal/media"
	"github.com/plazahq/plaza/internal/monitor"
	"github.com/plazahq/plaza/internal/music"
	"github.com/plazahq/plaza/internal/realtime"
	"github.com/plazahq/plaza/internal/sqldb"
	"github.com/plazahq/plaza/internal/sqldb/sqldbtest"
	"github.com/redis/go-redis/v9"
)

// fastHash keeps tests quick; production uses account.DefaultHashParams.
var fastHash = account.HashParams{Memory: 64, Time: 1, Threads: 1}

// clock is real time plus an offset the test can move forward, shared by
// the services and the test.
type clock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().UTC().Add(c.offset)
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.offset += d
	c.mu.Unlock()
}

type env struct {
	t         *testing.T
	srv       *httptest.Server
	db        *sqldb.DB
	mailDir   string
	clock     *clock
	accounts  *account.Service
	cache     *cache.Cache
	metrics   *monitor.Metrics
	uploads   string
	hub       *realtime.Hub
	jobs      *jobs.Queue
	analytics *analytics.Service
	plays     *music.Counter
}

// option adjusts a test environment: env sets configuration variables
// before the services are built, http adjusts the transport after.
type option struct {
	env  []string // name, value pairs
	http func(*httpapi.Config, *httpapi.Deps)

	redis *redis.Client // shared with other instances (withRedis)
}

func withEnv(kv ...string) option { return option{env: kv} }

func withHTTP(f func(*httpapi.Config, *httpapi.Deps)) option { return option{http: f} }

// withRedis builds the instance on Redis (set PLAZA_REDIS_PREFIX too, so
// instances of one test share it and other tests do not).
func withRedis(c *redis.Client) option { return option{redis: c} }

// newEnv serves Plaza as internal/app builds it for `plaza serve`, on db,
// with test settings: fast password hashing, a clock the test can move, two
// job workers with short backoffs, small upload limits, the dev mailbox.
func newEnv(t *testing.T, db *sqldb.DB, opts ...option) *env {
	t.Helper()
	log := sqldbtest.Quiet()
	dir := t.TempDir()
	box, err := mail.NewMailbox(filepath.Join(dir, "mail"), "Plaza <no-reply@test>", log)
	if err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{"PLAZA_DATA_DIR": dir, "PLAZA_BASE_URL": "https://plaza.test", "PLAZA_MAX_BODY_BYTES": "65536",
		"PLAZA_HASH_CONCURRENCY": "4", "PLAZA_JOB_WORKERS": "2", "PLAZA_JOB_POLL": "50ms"}
	for _, o := range opts {
		for i := 0; i+1 < len(o.env); i += 2 {
			vars[o.env[i]] = o.env[i+1]
		}
	}
	cfg, err := config.FromEnv(func(k string) string { return vars[k] })
	if err != nil {
		t.Fatal(err)
	}
	clk := &clock{}
	var rc *redis.Client
	for _, o := range opts {
		if o.redis != nil {
			rc = o.redis
		}
	}
	a, err := app.New(context.Background(), app.Options{Config: cfg, DB: db, Redis: rc, Mailer: box, Log: log,
		HashParams: fastHash, MediaLimits: media.Limits{media.Image: 64 << 10, media.Audio: 256 << 10}, HistorySize: 100,
		JobBackoff: func(int) time.Duration { return 20 * time.Millisecond }, Now: clk.Now, ManualRollups: true,
		PlaysFlushInterval: 100 * time.Millisecond,
		// Rules would award first-message XP behind other tests' figures.
		AchievementRulesOff: vars["PLAZA_TEST_ACHIEVEMENT_RULES"] != "on"})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(); err != nil {
		t.Fatal(err)
	}
	hcfg, deps := a.HTTP("test")
	for _, o := range opts {
		if o.http != nil {
			o.http(&hcfg, &deps)
		}
	}
	api, err := httpapi.New(hcfg, deps)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(api)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		a.Stop(ctx)
		srv.Close()
	})
	return &env{t: t, srv: srv, db: db, mailDir: box.Dir(), clock: clk, accounts: a.Accounts, cache: a.Cache, metrics: deps.Metrics,
		uploads: a.Media.Dir(), hub: a.Hub, jobs: a.Jobs, analytics: a.Analytics, plays: a.Plays}
}

type resp struct {
	status int
	header http.Header
	body   []byte
}

func (r resp) json(v any) {
	if err := json.Unmarshal(r.body, v); err != nil {
		panic(err.Error() + ": " + string(r.body))
	}
}

func (r resp) code() string {
	var e struct {
		Error struct{ Code string } `json:"error"`
	}
	json.Unmarshal(r.body, &e)
	return e.Error.Code
}

// do sends a request; body may be nil, a string (sent raw as JSON) or any
// value (JSON-encoded). Headers are name, value pairs.
func (e *env) do(method, path string, body any, token string, headers ...string) resp {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		buf, _ := json.Marshal(b)
		rd = bytes.NewReader(buf)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, e.srv.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return e.send(req)
}

// send performs req and reads the whole answer.
func (e *env) send(req *http.Request) resp {
	e.t.Helper()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return resp{status: res.StatusCode, header: res.Header, body: b}
}

func (e *env) must(want int, r resp) resp {
	e.t.Helper()
	if r.status != want {
		e.t.Fatalf("status %d, want %d: %s", r.status, want, r.body)
	}
	return r
}

// waitMail returns the newest mail to addr whose subject contains subject,
// waiting for the background sender.
func (e *env) waitMail(addr, subject string) string {
	e.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		files, _ := filepath.Glob(filepath.Join(e.mailDir, "*-"+addr+".eml"))
		for i := len(files) - 1; i >= 0; i-- {
			b, err := os.ReadFile(files[i])
			if err == nil && strings.Contains(string(b), subject) {
				return string(b)
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	e.t.Fatalf("no mail %q to %s", subject, addr)
	return ""
}

func (e *env) mailCount(addr string) int {
	files, _ := filepath.Glob(filepath.Join(e.mailDir, "*-"+addr+".eml"))
	return len(files)
}

var (
	codeRE  = regexp.MustCompile(`verification code is (\d{6})`)
	tokenRE = regexp.MustCompile(`token=([A-Za-z0-9_-]{43})`)
	resetRE = regexp.MustCompile(`reset-password\?token=([A-Za-z0-9_-]{43})`)
)

func match(t *testing.T, re *regexp.Regexp, s string) string {
	t.Helper()
	m := re.FindStringSubmatch(s)
	if m == nil {
		t.Fatalf("%s not found in:\n%s", re, s)
	}
	return m[1]
}

const pw = "correct horse battery"

// signup registers and verifies name@example.com and returns a session token.
func (e *env) signup(name string) (string, account.User) {
	e.t.Helper()
	email := name + "@example.com"
	e.must(201, e.do("POST", "/api/auth/register", map[string]string{"email": email, "username": name, "password": pw}, ""))
	code := match(e.t, codeRE, e.waitMail(email, "verification code"))
	e.must(200, e.do("POST", "/api/auth/signup-verification", map[string]string{"email": email, "code": code}, ""))
	return e.login(name, pw, "")
}

func (e *env) login(login, password, mfa string) (string, account.User) {
	e.t.Helper()
	body := map[string]string{"login": login, "password": password}
	if mfa != "" {
		body["mfaCode"] = mfa
	}
	var out struct {
		Token string
		User  account.User
	}
	e.must(200, e.do("POST", "/api/auth/login", body, "")).json(&out)
	return out.Token, out.User
}

// userCount counts rows in users, to check that failures change nothing.
func (e *env) userCount() int {
	var n int
	if err := e.db.Write().QueryRow(context.Background(), []any{&n}, "SELECT COUNT(*) FROM users"); err != nil {
		e.t.Fatal(err)
	}
	return n
}
