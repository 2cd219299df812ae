package httpapi

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/plazahq/plaza/internal/apperr"
	"github.com/plazahq/plaza/internal/sqldb"
	"github.com/plazahq/plaza/internal/sqldb/sqldbtest"
)

func bareServer(t *testing.T, cfg Config) *Server {
	t.Helper()
	s := &Server{cfg: cfg, log: sqldbtest.Quiet()}
	if s.cfg.MaxBodyBytes == 0 {
		s.cfg.MaxBodyBytes = 1 << 10
	}
	return s
}

func TestPanicBecomesInternalError(t *testing.T) {
	s := bareServer(t, Config{})
	h := withRequestID(s.withRecovery(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") })))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/x", nil))
	var body errorBody
	json.Unmarshal(rec.Body.Bytes(), &body)
	id := rec.Header().Get("X-Request-Id")
	if rec.Code != 500 || body.Error.Code != apperr.Internal || id == "" || !strings.Contains(body.Error.Message, id) {
		t.Fatalf("got %d %s (id %q)", rec.Code, rec.Body, id)
	}
}

func TestInternalErrorsHideTheirCause(t *testing.T) {
	s := bareServer(t, Config{})
	rec := httptest.NewRecorder()
	s.writeError(rec, httptest.NewRequest("GET", "/", nil), apperr.Wrap(apperr.Internal, "x", errSecret{}))
	if strings.Contains(rec.Body.String(), "s3cret") || rec.Code != 500 {
		t.Fatalf("leaked: %d %s", rec.Code, rec.Body)
	}
}

type errSecret struct{}

func (errSecret) Error() string { return "dsn root:s3cret@db" }

func TestOverloadedIs503WithRetryAfter(t *testing.T) {
	s := bareServer(t, Config{})
	rec := httptest.NewRecorder()
	s.writeError(rec, httptest.NewRequest("GET", "/", nil), sqldb.ErrOverloaded)
	if rec.Code != 503 || rec.Header().Get("Retry-After") != "1" || !strings.Contains(rec.Body.String(), `"overloaded"`) {
		t.Fatalf("got %d %q %s", rec.Code, rec.Header().Get("Retry-After"), rec.Body)
	}
}

func TestRequestIDIsEchoedWhenSane(t *testing.T) {
	h := withRequestID(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	for in, keep := range map[string]bool{"abc-123": true, "": false, "has space": false, strings.Repeat("a", 65): false} {
		req := httptest.NewRequest("GET", "/", nil)
		req.Header.Set("X-Request-Id", in)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		got := rec.Header().Get("X-Request-Id")
		if (got == in) != keep || got == "" {
			t.Errorf("request id %q -> %q", in, got)
		}
	}
}

func TestCORS(t *testing.T) {
	s := bareServer(t, Config{CORSOrigins: []string{"https://app.example.com"}})
	h := s.withCORS(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(200) }))
	for _, tc := range []struct {
		name, method, origin string
		preflight            bool
		status               int
		allowOrigin          string
	}{
		{"allowed preflight", "OPTIONS", "https://app.example.com", true, 204, "https://app.example.com"},
		{"refused preflight", "OPTIONS", "https://evil.example", true, 403, ""},
		{"allowed simple", "GET", "https://app.example.com", false, 200, "https://app.example.com"},
		{"foreign simple", "GET", "https://evil.example", false, 200, ""},
		{"same origin", "POST", "http://example.com", false, 200, ""},
		{"no origin", "GET", "", false, 200, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(tc.method, "http://example.com/api/x", nil)
			if tc.origin != "" {
				req.Header.Set("Origin", tc.origin)
			}
			if tc.preflight {
				req.Header.Set("Access-Control-Request-Method", "POST")
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tc.status || rec.Header().Get("Access-Control-Allow-Origin") != tc.allowOrigin {
				t.Fatalf("got %d, allow-origin %q", rec.Code, rec.Header().Get("Access-Control-Allow-Origin"))
			}
		})
	}
}

func TestCookieAuthRefusesForeignOriginWrites(t *testing.T) {
	s := bareServer(t, Config{})
	req := httptest.NewRequest("POST", "http://plaza.test/api/auth/logout", nil)
	req.AddCookie(&http.Cookie{Name: sessionCookie, Value: "plz_x"})
	req.Header.Set("Origin", "https://evil.example")
	if _, err := s.authenticate(req); !apperr.Is(err, apperr.Forbidden) {
		t.Fatalf("got %v, want forbidden", err)
	}
}

// TestOpenAPICoversRoutes checks the document against the route table both
// ways: every route documented, nothing documented that does not exist.
func TestOpenAPICoversRoutes(t *testing.T) {
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(openAPIDoc, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi = %q", doc.OpenAPI)
	}
	s := &Server{}
	var routes, documented []string
	for _, r := range s.routeTable() {
		routes = append(routes, r.method+" "+r.pattern)
	}
	for p, ops := range doc.Paths {
		for m := range ops {
			documented = append(documented, strings.ToUpper(m)+" "+p)
		}
	}
	slices.Sort(routes)
	slices.Sort(documented)
	if !slices.Equal(routes, documented) {
		t.Fatalf("routes and OpenAPI differ:\nroutes:     %v\ndocumented: %v", routes, documented)
	}
}

// TestDecodeStrict pins what the shared decoder refuses and how it says so.
func TestDecodeStrict(t *testing.T) {
	s := bareServer(t, Config{})
	for _, tc := range []struct {
		name, body string
		code       apperr.Code
		field      string // the field named in Fields, or in the message
	}{
		{"ok", `{"email":"a@b.c","userId":7,"settings":{"Theme":"dark"}}`, "", ""},
		{"upper-case name", `{"EMAIL":"a@b.c"}`, apperr.BadRequest, "EMAIL"},
		{"title-case name", `{"Email":"a@b.c"}`, apperr.BadRequest, "Email"},
		{"duplicate name", `{"email":"a","email":"b"}`, apperr.BadRequest, "email"},
		{"invalid utf-8", "{\"email\":\"a\xffb\"}", apperr.Validation, "email"},
		{"truncated utf-8 in a raw object", "{\"settings\":{\"k\":\"\xc3\"}}", apperr.Validation, "settings.k"},
		{"invalid utf-8 in a name", "{\"\xff\":1}", apperr.Validation, "body"},
		{"lone surrogate", `{"displayName":"\ud800"}`, apperr.Validation, "displayName"},
		{"string for a number", `{"userId":"7"}`, apperr.Validation, "userId"},
		{"fraction for an id", `{"userId":7.5}`, apperr.Validation, "userId"},
		{"id out of range", `{"userId":99999999999999999999}`, apperr.Validation, "userId"},
		{"plus sign", `{"userId":+7}`, apperr.BadRequest, ""},
		{"leading zero", `{"userId":07}`, apperr.BadRequest, ""},
		{"array", `[]`, apperr.BadRequest, ""},
		{"two objects", `{}{}`, apperr.BadRequest, ""},
		{"empty", ``, apperr.BadRequest, ""},
		{"truncated", `{"email":`, apperr.BadRequest, ""},
		{"too large", `{"email":"` + strings.Repeat("x", 2000) + `"}`, apperr.TooLarge, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/", strings.NewReader(tc.body))
			r.Header.Set("Content-Type", "application/json")
			var v decodeTarget
			err := s.decode(httptest.NewRecorder(), r, &v)
			if tc.code == "" {
				if err != nil || v.Email != "a@b.c" || v.UserID != 7 || string(v.Settings) != `{"Theme":"dark"}` {
					t.Fatalf("decode = %+v, %v", v, err)
				}
				return
			}
			e := apperr.From(err)
			if e.Code != tc.code {
				t.Fatalf("code %s (%v), want %s", e.Code, err, tc.code)
			}
			if tc.field != "" && e.Fields[tc.field] == "" && !strings.Contains(e.Message, `"`+tc.field+`"`) {
				t.Fatalf("%q (fields %v) does not name %s", e.Message, e.Fields, tc.field)
			}
		})
	}
}

func TestParseID(t *testing.T) {
	for in, want := range map[string]int64{"1": 1, "42": 42, "9223372036854775807": 1<<63 - 1,
		"0": 0, "01": 0, "+1": 0, "-1": 0, " 1": 0, "1 ": 0, "1.0": 0, "0x1": 0, "1e3": 0, "": 0, "9223372036854775808": 0, "١": 0} {
		got, ok := parseID(in)
		if got != want || ok != (want != 0) {
			t.Errorf("parseID(%q) = %d %v, want %d", in, got, ok, want)
		}
	}
}

// FuzzBoardQuery: any query string gives a bounded query or a 422, never
// a panic.
func FuzzBoardQuery(f *testing.F) {
	for _, s := range []string{"", "period=7d&limit=20&around=me", "period=all&limit=0", "limit=9999999999999999999", "period=%zz", "around=me&around=you"} {
		f.Add(s, int64(1))
	}
	f.Fuzz(func(t *testing.T, raw string, user int64) {
		vals, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		q, err := parseBoardQuery(vals, user)
		if err != nil {
			return
		}
		if q.Limit < 1 || q.Limit > 100 || (q.Period != "7d" && q.Period != "30d" && q.Period != "all") || (q.Around && q.User == 0) {
			t.Fatalf("%q accepted as %+v", raw, q)
		}
	})
}
