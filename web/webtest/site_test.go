package webtest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/plazahq/plaza/internal/account"
	"github.com/plazahq/plaza/internal/app"
	"github.com/plazahq/plaza/internal/config"
	"github.com/plazahq/plaza/internal/httpapi"
	"github.com/plazahq/plaza/internal/jobs"
	"github.com/plazahq/plaza/internal/mail"
	"github.com/plazahq/plaza/internal/media"
	"github.com/plazahq/plaza/internal/sqldb"
	"github.com/plazahq/plaza/internal/sqldb/sqldbtest"
)

// site is a Plaza server as `plaza serve` builds it, on SQLite, with the
// dev mailbox, at url.
type site struct {
	t       testing.TB
	url     string
	mailDir string
	app     *app.App
	db      *sqldb.DB
	dir     string
	ln      net.Listener
	srv     *httptest.Server
	env     map[string]string // configuration on top of the tests' own
	kinds   []jobs.Kind       // job kinds registered next to the app's own
}

const password = "correct horse battery"

func newSite(t testing.TB) *site {
	t.Helper()
	return newSiteWith(t, nil)
}

// newSiteWith starts a site with more configuration (PLAZA_* variables).
func newSiteWith(t testing.TB, env map[string]string) *site {
	t.Helper()
	ln, err := listen()
	if err != nil {
		t.Fatal(err)
	}
	s := &site{t: t, url: "http://" + ln.Addr().String(), db: sqldbtest.OpenSQLite(t, sqldb.Config{}), dir: t.TempDir(), env: env}
	s.start(ln)
	return s
}

// newSiteWithJobs starts a site whose queue also runs kinds (registered
// before its workers start, as the app registers its own).
func newSiteWithJobs(t testing.TB, kinds ...jobs.Kind) *site {
	t.Helper()
	ln, err := listen()
	if err != nil {
		t.Fatal(err)
	}
	s := &site{t: t, url: "http://" + ln.Addr().String(), db: sqldbtest.OpenSQLite(t, sqldb.Config{}), dir: t.TempDir(), kinds: kinds}
	s.start(ln)
	return s
}

// listen takes a loopback port from PLAZA_TEST_PORTS ("19300-19399": a
// range this machine gives the tests) or, without it, any free one.
func listen() (net.Listener, error) {
	lo, hi, ok := strings.Cut(os.Getenv("PLAZA_TEST_PORTS"), "-")
	a, errA := strconv.Atoi(lo)
	b, errB := strconv.Atoi(hi)
	if !ok || errA != nil || errB != nil || a > b {
		return net.Listen("tcp", "127.0.0.1:0")
	}
	start := a + int(time.Now().UnixNano()%int64(b-a+1))
	var err error
	for i := range b - a + 1 {
		var ln net.Listener
		if ln, err = net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(a+(start-a+i)%(b-a+1))); err == nil {
			return ln, nil
		}
	}
	return nil, err
}

// start serves a fresh instance of Plaza on ln (same database and data).
func (s *site) start(ln net.Listener) {
	t := s.t
	log := sqldbtest.Quiet()
	box, err := mail.NewMailbox(filepath.Join(s.dir, "mail"), "Plaza <no-reply@test>", log)
	if err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{"PLAZA_DATA_DIR": s.dir, "PLAZA_BASE_URL": s.url, "PLAZA_HASH_CONCURRENCY": "4",
		"PLAZA_JOB_WORKERS": "2", "PLAZA_JOB_POLL": "50ms", "PLAZA_RATE_STRICT": "1000/1m"}
	for k, v := range s.env {
		vars[k] = v
	}
	cfg, err := config.FromEnv(func(k string) string { return vars[k] })
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.New(context.Background(), app.Options{Config: cfg, DB: s.db, Mailer: box, Log: log,
		HashParams: account.HashParams{Memory: 64, Time: 1, Threads: 1}, MediaLimits: media.Limits{media.Image: 256 << 10, media.Audio: 256 << 10}})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range s.kinds {
		a.Jobs.Register(k)
	}
	if err := a.Start(); err != nil {
		t.Fatal(err)
	}
	hcfg, deps := a.HTTP("test")
	api, err := httpapi.New(hcfg, deps)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(api)
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	s.app, s.srv, s.ln, s.mailDir = a, srv, ln, box.Dir()
	t.Cleanup(s.stop)
}

// stop shuts the instance down as plaza serve does (WebSockets get 1001).
func (s *site) stop() {
	if s.srv == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s.app.Stop(ctx)
	s.srv.Close()
	s.srv = nil
}

// restart starts a new instance on the address and database of one that
// stop ended, like a deploy.
func (s *site) restart() {
	s.t.Helper()
	addr := s.ln.Addr().String()
	var ln net.Listener
	var err error
	for range 50 {
		if ln, err = net.Listen("tcp", addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		s.t.Fatal(err)
	}
	s.start(ln)
}

// call sends a JSON request to the API and decodes the answer into out.
func (s *site) call(method, path, token string, body, out any) int {
	s.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, s.url+path, rd)
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode >= 300 {
		s.t.Logf("%s %s: %d %s", method, path, res.StatusCode, b)
	}
	if out != nil && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			s.t.Fatalf("%s %s: %v: %s", method, path, err, b)
		}
	}
	return res.StatusCode
}

// mail waits for the newest mail to addr containing subject.
func (s *site) mail(addr, subject string) string {
	s.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		files, _ := filepath.Glob(filepath.Join(s.mailDir, "*-"+addr+".eml"))
		for i := len(files) - 1; i >= 0; i-- {
			b, err := os.ReadFile(files[i])
			if err == nil && strings.Contains(string(b), subject) {
				return string(b)
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.t.Fatalf("no mail %q to %s", subject, addr)
	return ""
}

var codeRE = regexp.MustCompile(`verification code is (\d{6})`)

type member struct {
	id    int64
	name  string
	token string
}

// member registers and verifies name@example.com through the API and
// signs in.
func (s *site) member(name string) member {
	s.t.Helper()
	email := name + "@example.com"
	if st := s.call("POST", "/api/auth/register", "", map[string]string{"email": email, "username": name, "password": password}, nil); st != 201 {
		s.t.Fatalf("register %s: %d", name, st)
	}
	code := codeRE.FindStringSubmatch(s.mail(email, "verification code"))
	if code == nil {
		s.t.Fatal("no code in the mail")
	}
	s.call("POST", "/api/auth/signup-verification", "", map[string]string{"email": email, "code": code[1]}, nil)
	return s.login(name)
}

func (s *site) login(name string) member {
	s.t.Helper()
	var out struct {
		Token string
		User  struct{ ID int64 }
	}
	if st := s.call("POST", "/api/auth/login", "", map[string]string{"login": name, "password": password}, &out); st != 200 {
		s.t.Fatalf("login %s: %d", name, st)
	}
	return member{id: out.User.ID, name: name, token: out.Token}
}

// admin creates an administrator and signs in.
func (s *site) admin(name string) member {
	s.t.Helper()
	if _, err := s.app.Accounts.CreateAdmin(context.Background(), account.RegisterInput{Email: name + "@example.com", Username: name, Password: password}); err != nil {
		s.t.Fatal(err)
	}
	return s.login(name)
}

// channel creates a public channel and returns its id.
func (s *site) channel(admin member, name string) int64 {
	s.t.Helper()
	var ch struct{ ID int64 }
	if st := s.call("POST", "/api/community/channels", admin.token, map[string]any{"name": name, "slug": name, "description": "Talk about " + name}, &ch); st != 201 {
		s.t.Fatalf("create channel: %d", st)
	}
	return ch.ID
}

func (s *site) post(m member, channel int64, body string) int64 {
	s.t.Helper()
	var msg struct{ ID int64 }
	if st := s.call("POST", "/api/community/channels/"+itoa(channel)+"/messages", m.token, map[string]string{"body": body}, &msg); st != 201 {
		s.t.Fatalf("post: %d", st)
	}
	return msg.ID
}
