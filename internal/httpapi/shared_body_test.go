package httpapi_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/plazahq/plaza/internal/sqldb"
	"github.com/plazahq/plaza/internal/sqldb/sqldbtest"
)

// TestNewestPageCompressedOnce: the newest page of a channel is sent
// from a compressed form kept for its bytes. Whatever the client accepts,
// it gets the coding withCompression would choose, with Vary, and a body
// that decodes to exactly the plain page; after a post the compressed
// page is the new one, never the old one kept.
func TestNewestPageCompressedOnce(t *testing.T) {
	e := newEnv(t, sqldbtest.OpenSQLite(t, sqldb.Config{}), withEnv("PLAZA_RATE_API", "off"))
	adminTok, _ := e.admin("boss")
	tok, _ := e.signup("una")
	var ch channel
	e.must(201, e.do("POST", "/api/community/channels", map[string]any{"name": "General"}, adminTok)).json(&ch)
	path := fmt.Sprintf("/api/community/channels/%d/messages", ch.ID)
	post := func(i int) {
		e.must(201, e.do("POST", path, map[string]string{"body": fmt.Sprintf("message %d, long enough to make the page worth compressing", i)}, tok))
	}
	for i := range 20 {
		post(i)
	}
	get := func(method, accept string) (*http.Response, []byte) {
		req, _ := http.NewRequest(method, e.srv.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Accept-Encoding", accept)
		res, err := (&http.Transport{DisableCompression: true}).RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		if res.StatusCode != 200 {
			t.Fatalf("%s %s: %d %s", method, accept, res.StatusCode, body)
		}
		return res, body
	}
	check := func(round int) {
		_, plain := get("GET", "identity")
		if !bytes.Contains(plain, []byte(fmt.Sprintf("message %d,", 20+round-1))) && round > 0 {
			t.Fatalf("round %d: the plain page misses the last post", round)
		}
		for _, tc := range []struct{ accept, want string }{
			{"gzip", "gzip"}, {"zstd", "zstd"}, {"gzip, deflate, br, zstd", "zstd"}, {"zstd;q=0.5, gzip", "gzip"},
			{"gzip;q=0.2, zstd;q=0.9", "zstd"}, {"deflate", "deflate"}, {"gzip;q=0, deflate", "deflate"},
			{"zstd;q=0", ""}, {"identity", ""}, {"", ""}, {"br", ""},
		} {
			for range 2 { // the first compresses, the second reuses
				res, body := get("GET", tc.accept)
				if got := res.Header.Get("Content-Encoding"); got != tc.want {
					t.Fatalf("round %d, %q: Content-Encoding %q, want %q", round, tc.accept, got, tc.want)
				}
				if !strings.Contains(strings.Join(res.Header.Values("Vary"), ","), "Accept-Encoding") {
					t.Fatalf("%q: no Vary: Accept-Encoding", tc.accept)
				}
				if ct := res.Header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
					t.Fatalf("%q: Content-Type %q", tc.accept, ct)
				}
				if got := decode(t, tc.want, body); !bytes.Equal(got, plain) {
					t.Fatalf("round %d, %q: decoded page differs from the plain one:\n%s\n%s", round, tc.accept, got, plain)
				}
			}
		}
		if res, body := get("HEAD", "gzip"); res.Header.Get("Content-Encoding") != "" || len(body) != 0 {
			t.Fatalf("HEAD: %q, %d bytes", res.Header.Get("Content-Encoding"), len(body))
		}
	}
	for round := range 3 {
		if round > 0 {
			post(20 + round - 1)
		}
		check(round)
	}
}
