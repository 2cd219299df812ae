package httpapi_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/plazahq/plaza/internal/sqldb"
	"github.com/plazahq/plaza/internal/sqldb/sqldbtest"
)

// The web app is served at / from the binary: index.html for every page
// path (deep links and the links in mails), immutable hashed assets, a
// strict CSP; API paths keep their JSON 404.
func TestWebAppServing(t *testing.T) {
	e := newEnv(t, sqldbtest.OpenSQLite(t, sqldb.Config{}))

	var index []byte
	for _, p := range []string{"/", "/channels/3", "/verify-email?email=a%40b.co&token=abc", "/reset-password?token=x", "/admin/jobs"} {
		r := e.must(200, e.do("GET", p, nil, ""))
		if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
			t.Fatalf("%s: Content-Type %q", p, ct)
		}
		if cc := r.header.Get("Cache-Control"); cc != "no-cache" {
			t.Fatalf("%s: Cache-Control %q, want no-cache", p, cc)
		}
		csp := r.header.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'self'", "script-src 'self';", "style-src 'self';", "frame-ancestors 'none'", "base-uri 'none'", "require-trusted-types-for 'script'"} {
			if !strings.Contains(csp, want) {
				t.Fatalf("%s: CSP %q lacks %q", p, csp, want)
			}
		}
		if strings.Contains(csp, "unsafe-") {
			t.Fatalf("%s: CSP allows unsafe sources: %q", p, csp)
		}
		if !strings.Contains(string(r.body), `<div id="app">`) {
			t.Fatalf("%s: not the app's index.html: %s", p, r.body)
		}
		index = r.body
	}
	if regexp.MustCompile(`<script>|<script(\s[^>]*)?>[^<]`).Match(index) || strings.Contains(string(index), "style=") {
		t.Fatalf("index.html has inline script or style:\n%s", index)
	}

	// Revalidation of index.html is cheap.
	first := e.do("GET", "/", nil, "")
	e.must(304, e.do("GET", "/", nil, "", "If-None-Match", first.header.Get("ETag")))

	// Hashed assets: long-lived, compressed.
	assets := regexp.MustCompile(`/assets/[A-Za-z0-9_.-]+\.(js|css)`).FindAllString(string(index), -1)
	if len(assets) < 2 {
		t.Fatalf("index.html names %d assets, want a script and a stylesheet", len(assets))
	}
	for _, a := range assets {
		req, _ := http.NewRequest("GET", e.srv.URL+a, nil)
		req.Header.Set("Accept-Encoding", "gzip")
		r := e.send(req)
		if r.status != 200 || r.header.Get("Cache-Control") != "public, max-age=31536000, immutable" {
			t.Fatalf("%s: status %d, Cache-Control %q", a, r.status, r.header.Get("Cache-Control"))
		}
		if ce := r.header.Get("Content-Encoding"); ce != "gzip" {
			t.Fatalf("%s: Content-Encoding %q, want gzip", a, ce)
		}
		if ct := r.header.Get("Content-Type"); !strings.Contains(ct, "javascript") && !strings.Contains(ct, "css") {
			t.Fatalf("%s: Content-Type %q", a, ct)
		}
	}

	// A file that is not there is a 404, not the app: a page of an old
	// build must not get HTML where it asked for a script.
	for _, p := range []string{"/assets/index-gone.js", "/favicon.ico"} {
		if r := e.do("GET", p, nil, ""); r.status != 404 || r.code() != "not_found" {
			t.Fatalf("%s: %d %s", p, r.status, r.body)
		}
	}
	e.must(200, e.do("GET", "/favicon.svg", nil, ""))

	// The API keeps its JSON 404 and its own CSP.
	for _, p := range []string{"/api/nope", "/api", "/uploads/image/zz", "/api/community/nothing/here", "/debug/pprof/"} {
		r := e.do("GET", p, nil, "")
		if r.status != 404 || r.code() != "not_found" || !strings.HasPrefix(r.header.Get("Content-Type"), "application/json") {
			t.Fatalf("%s: %d %s %s", p, r.status, r.header.Get("Content-Type"), r.body)
		}
		if csp := r.header.Get("Content-Security-Policy"); csp != "default-src 'none'; frame-ancestors 'none'" {
			t.Fatalf("%s: API CSP %q", p, csp)
		}
	}
	e.must(200, e.do("GET", "/api/health", nil, ""))

	// Pages are read-only.
	r := e.do("POST", "/channels", "{}", "")
	if r.status != 405 || r.header.Get("Allow") != "GET, HEAD" {
		t.Fatalf("POST /channels: %d Allow %q", r.status, r.header.Get("Allow"))
	}
}
