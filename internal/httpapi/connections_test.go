package httpapi_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/plazahq/plaza/internal/httpapi"
	"github.com/plazahq/plaza/internal/monitor"
	"github.com/plazahq/plaza/internal/sqldb"
	"github.com/plazahq/plaza/internal/sqldb/sqldbtest"
)

const metricsToken = "test-metrics-token-0123456789"

// GET /metrics on the API port: 404 without PLAZA_METRICS_TOKEN, 401 for a
// missing or wrong token, the figures (with one Vary line) for the right one.
func TestMetricsNeedTheToken(t *testing.T) {
	e := newEnv(t, sqldbtest.OpenSQLite(t, sqldb.Config{}))
	if r := e.do("GET", "/metrics", nil, ""); r.status != 404 || r.code() != "not_found" {
		t.Fatalf("no token configured: %d %s", r.status, r.body)
	}
	if r := e.do("GET", "/metrics", nil, metricsToken); r.status != 404 || strings.Contains(string(r.body), "go_goroutines") {
		t.Fatalf("no token configured, one sent: %d %.100s", r.status, r.body)
	}

	e = newEnv(t, sqldbtest.OpenSQLite(t, sqldb.Config{}), withEnv("PLAZA_METRICS_TOKEN", metricsToken))
	for name, auth := range map[string]string{
		"none":        "",
		"wrong":       "Bearer " + strings.Repeat("x", len(metricsToken)),
		"prefix":      "Bearer " + metricsToken[:len(metricsToken)-1],
		"longer":      "Bearer " + metricsToken + "0",
		"basic":       "Basic " + metricsToken,
		"bare":        metricsToken,
		"empty token": "Bearer ",
	} {
		r := e.do("GET", "/metrics", nil, "", "Authorization", auth)
		if r.status != 401 || r.code() != "unauthorized" || r.header.Get("WWW-Authenticate") == "" || strings.Contains(string(r.body), "go_goroutines") {
			t.Errorf("%s: %d %.100s", name, r.status, r.body)
		}
	}
	for _, enc := range []string{"", "gzip", "gzip, deflate, br, zstd", "identity"} {
		r := e.must(200, e.do("GET", "/metrics", nil, metricsToken, "Accept-Encoding", enc))
		if body := decode(t, r.header.Get("Content-Encoding"), r.body); !strings.Contains(string(body), "plaza_http_requests_total") {
			t.Fatalf("%q: figures missing: %.200s", enc, r.body)
		}
		checkOneVary(t, enc, r.header)
	}
}

func checkOneVary(t *testing.T, enc string, h http.Header) {
	t.Helper()
	lines := h.Values("Vary")
	seen := map[string]bool{}
	for _, n := range strings.Split(strings.Join(lines, ","), ",") {
		n = strings.ToLower(strings.TrimSpace(n))
		if seen[n] {
			t.Errorf("Accept-Encoding %q: Vary names %s twice: %q", enc, n, lines)
		}
		seen[n] = true
	}
	if len(lines) != 1 || !seen["accept-encoding"] {
		t.Errorf("Accept-Encoding %q: Vary %q, want one line naming Accept-Encoding", enc, lines)
	}
}

// The separate metrics listener's handler needs no token and serves only
// /metrics.
func TestMetricsHandlerForAPrivateListener(t *testing.T) {
	var (
		cfg  httpapi.Config
		deps httpapi.Deps
	)
	newEnv(t, sqldbtest.OpenSQLite(t, sqldb.Config{}), withHTTP(func(c *httpapi.Config, d *httpapi.Deps) { cfg, deps = *c, *d }))
	deps.Metrics = monitor.NewMetrics(time.Now) // a second server: its own registry
	api, err := httpapi.New(cfg, deps)
	if err != nil {
		t.Fatal(err)
	}
	h, err := api.MetricsHandler()
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	for _, enc := range []string{"", "gzip"} {
		req, _ := http.NewRequest("GET", srv.URL+"/metrics", nil)
		req.Header.Set("Accept-Encoding", enc)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || !strings.Contains(string(decode(t, res.Header.Get("Content-Encoding"), b)), "go_goroutines") {
			t.Fatalf("%q: %d %.100s", enc, res.StatusCode, b)
		}
		checkOneVary(t, enc, res.Header)
	}
	res, err := http.Get(srv.URL + "/api/health")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 404 {
		t.Fatalf("metrics listener serves the API: %d", res.StatusCode)
	}
}

// slowBody starts a request whose body (Content-Length 1000000) arrives
// one byte every interval, and returns the connection.
func slowBody(t *testing.T, addr, path string, interval time.Duration) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: plaza.test\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n{", path)
	go func() {
		for {
			time.Sleep(interval)
			if _, err := c.Write([]byte(" ")); err != nil {
				return
			}
		}
	}()
	return c
}

// A body dribbled one byte at a time is cut at PLAZA_BODY_TIMEOUT: the
// client gets a 4xx and the connection closes, instead of holding it for
// as long as it likes.
func TestSlowBodyIsCutAtTheBodyTimeout(t *testing.T) {
	e := newEnv(t, sqldbtest.OpenSQLite(t, sqldb.Config{}), withEnv("PLAZA_BODY_TIMEOUT", "300ms"))
	addr := strings.TrimPrefix(e.srv.URL, "http://")
	for _, path := range []string{"/api/auth/login", "/api/contact", "/api/shouts"} {
		c := slowBody(t, addr, path, 50*time.Millisecond)
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		start := time.Now()
		res, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				t.Fatalf("%s: slow body still held after 5s", path)
			}
			continue // closed: as good
		}
		res.Body.Close()
		if res.StatusCode < 400 || res.StatusCode >= 500 {
			t.Errorf("%s: status %d after %v", path, res.StatusCode, time.Since(start))
		}
		if _, err := c.Read(make([]byte, 1)); err == nil {
			t.Errorf("%s: connection left open", path)
		}
	}
	// A body sent in time is served, and the keep-alive connection outlives
	// the body timeout while idle.
	tr := &http.Transport{MaxIdleConnsPerHost: 1}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	for range 2 {
		res, err := client.Post(e.srv.URL+"/api/auth/login", "application/json", strings.NewReader(`{"login":"nobody","password":"wrong password"}`))
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != 401 {
			t.Fatalf("login: %d", res.StatusCode)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// A WebSocket (no request body; hijacked) is not cut by the body timeout.
func TestWebSocketOutlivesTheBodyTimeout(t *testing.T) {
	e := newEnv(t, sqldbtest.OpenSQLite(t, sqldb.Config{}), withEnv("PLAZA_BODY_TIMEOUT", "200ms"))
	adminTok, _ := e.admin("ops")
	var ch channel
	e.must(201, e.do("POST", "/api/community/channels", map[string]any{"name": "Live"}, adminTok)).json(&ch)
	ws := e.connect(adminTok)
	time.Sleep(600 * time.Millisecond)
	if f := ws.subscribe(fmt.Sprintf("channel:%d", ch.ID), nil); f.Op != "subscribed" {
		t.Fatalf("after the body timeout: %+v", f)
	}
}
