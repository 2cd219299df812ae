package httpapi_test

import (
	"fmt"
	"io"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/plazahq/plaza/internal/sqldb"
	"github.com/plazahq/plaza/internal/sqldb/sqldbtest"
)

// TestResponseHeadersExactly pins every header of the hot routes'
// responses, name for name (as sent on the wire) and value for value,
// with what varies by request (date, id, counts, lengths) masked: the
// middleware may set them more cheaply, never differently.
func TestResponseHeadersExactly(t *testing.T) {
	e := newEnv(t, sqldbtest.OpenSQLite(t, sqldb.Config{}), withEnv("CORS_ORIGIN", "https://app.example.com"))
	adminTok, _ := e.admin("boss")
	tok, u := e.signup("una")
	var ch channel
	e.must(201, e.do("POST", "/api/community/channels", map[string]any{"name": "General"}, adminTok)).json(&ch)
	msgs := fmt.Sprintf("/api/community/channels/%d/messages", ch.ID)
	for i := range 20 {
		e.must(201, e.do("POST", msgs, map[string]string{"body": fmt.Sprintf("message %d, long enough to make the page worth compressing", i)}, tok))
	}
	masks := []struct {
		re   *regexp.Regexp
		with string
	}{{regexp.MustCompile(`^[0-9]+$`), "<n>"}, {regexp.MustCompile(`^[0-9a-f]{24}$`), "<id>"}}
	send := func(method, path, body string, hs ...string) string {
		var rd io.Reader
		if body != "" {
			rd = strings.NewReader(body)
		}
		req, _ := http.NewRequest(method, e.srv.URL+path, rd)
		for i := 0; i+1 < len(hs); i += 2 {
			req.Header.Set(hs[i], hs[i+1])
		}
		res, err := (&http.Transport{DisableCompression: true}).RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		var lines []string
		for k, vs := range res.Header {
			if k == "Date" {
				continue
			}
			for i, v := range vs {
				for _, m := range masks {
					v = m.re.ReplaceAllString(v, m.with)
				}
				vs[i] = v
			}
			lines = append(lines, k+": "+strings.Join(vs, " | ")) // values in the order sent
		}
		sort.Strings(lines)
		return fmt.Sprintf("%d\n%s", res.StatusCode, strings.Join(lines, "\n"))
	}
	lines := func(status string, ls ...string) string {
		all := append([]string{
			"Content-Security-Policy: default-src 'none'; frame-ancestors 'none'",
			"Content-Type: application/json; charset=utf-8",
			"Cross-Origin-Opener-Policy: same-origin",
			"Referrer-Policy: no-referrer",
			"X-Content-Type-Options: nosniff",
			"X-Frame-Options: DENY",
		}, ls...)
		sort.Strings(all)
		return status + "\n" + strings.Join(all, "\n")
	}
	limits := []string{"Ratelimit-Limit: <n>", "Ratelimit-Remaining: <n>", "Ratelimit-Reset: <n>"}
	bearer := "Bearer " + tok
	for _, tc := range []struct {
		name, got, want string
	}{
		{"newest page, gzip", send("GET", msgs, "", "Authorization", bearer, "Accept-Encoding", "gzip"),
			lines("200", append(limits, "Content-Encoding: gzip", "Content-Length: <n>", "Vary: Accept-Encoding", "X-Request-Id: <id>")...)},
		{"profile, identity, client's request id", send("GET", fmt.Sprintf("/api/users/%d", u.ID), "", "Authorization", bearer, "X-Request-Id", "abc-123"),
			lines("200", append(limits, "Content-Length: <n>", "Vary: Accept-Encoding", "X-Request-Id: abc-123")...)},
		{"post, foreign allowed origin", send("POST", msgs, `{"body":"hi"}`, "Authorization", bearer, "Content-Type", "application/json", "Origin", "https://app.example.com"),
			lines("201", append(limits, "Access-Control-Allow-Credentials: true", "Access-Control-Allow-Origin: https://app.example.com",
				"Access-Control-Expose-Headers: RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset, Retry-After, X-Request-Id",
				"Content-Length: <n>", "Vary: Accept-Encoding | Origin", "X-Request-Id: <id>")...)},
		{"not signed in", send("POST", msgs, `{"body":"hi"}`, "Content-Type", "application/json"),
			lines("401", "Content-Length: <n>", "Vary: Accept-Encoding", "X-Request-Id: <id>")},
	} {
		if diff := cmp.Diff(tc.want, tc.got); diff != "" {
			t.Errorf("%s: headers (-want +got):\n%s", tc.name, diff)
		}
	}
}
