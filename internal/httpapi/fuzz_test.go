package httpapi

import (
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/plazahq/plaza/internal/apperr"
)

// decodeTarget is the shape FuzzDecode and TestDecodeStrict decode into:
// plain fields, a pointer, an integer and a raw object.
type decodeTarget struct {
	Email       string          `json:"email"`
	Username    string          `json:"username"`
	Password    string          `json:"password"`
	DisplayName *string         `json:"displayName"`
	UserID      int64           `json:"userId"`
	Settings    json.RawMessage `json:"settings"`
}

var decodeNames = map[string]bool{"email": true, "username": true, "password": true, "displayName": true, "userId": true, "settings": true}

// FuzzDecode feeds arbitrary bodies to the JSON decoder every route uses:
// the outcome is a value or a 4xx error, never a panic or a 5xx; and what
// it accepts is valid UTF-8 whose top-level names are the fields' exact
// names, each once.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{`{"email":"a@b.c","username":"x","password":"y"}`, `{`, `[]`, `{"email":1}`, `{"a":1}`, `{}{}`, "\x00",
		`{"displayName":"\ud800"}`, `{"EMAIL":"a"}`, `{"Email":"a","email":"b"}`, "{\"email\":\"\xff\"}", `{"userId":+1}`, `{"userId":01}`,
		`{"settings":{"a":"\udc00"}}`, `{"settings":{"a":1,"a":2}}`, `{"userId":1e2}`} {
		f.Add(s)
	}
	s := &Server{cfg: Config{MaxBodyBytes: 4096}}
	f.Fuzz(func(t *testing.T, body string) {
		r := httptest.NewRequest("POST", "/", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		var v decodeTarget
		err := s.decode(httptest.NewRecorder(), r, &v)
		if err != nil {
			if st := apperr.Status(apperr.From(err).Code); st < 400 || st >= 500 {
				t.Fatalf("status %d for %q: %v", st, body, err)
			}
			return
		}
		if !utf8.ValidString(body) {
			t.Fatalf("accepted invalid UTF-8: %q", body)
		}
		dec := jsontext.NewDecoder(strings.NewReader(body))
		if tok, err := dec.ReadToken(); err != nil || tok.Kind() != '{' {
			t.Fatalf("accepted %q, which is not an object", body)
		}
		seen := map[string]bool{}
		for dec.PeekKind() != '}' {
			name, err := dec.ReadToken()
			if err != nil {
				t.Fatalf("accepted %q: %v", body, err)
			}
			if n := name.String(); !decodeNames[n] || seen[n] {
				t.Fatalf("accepted %q with name %q", body, n)
			} else {
				seen[n] = true
			}
			if err := dec.SkipValue(); err != nil {
				t.Fatalf("accepted %q: %v", body, err)
			}
		}
	})
}

func FuzzClientIP(f *testing.F) {
	f.Add("10.0.0.1:1234", "1.2.3.4, 10.0.0.2")
	f.Add("[::1]:80", "garbage,,")
	f.Add("1.2.3.4:5", "")
	ps, _ := parseProxies([]string{"10.0.0.0/8", "::1"})
	f.Fuzz(func(t *testing.T, remote, xff string) {
		r := &http.Request{RemoteAddr: remote, Header: http.Header{"X-Forwarded-For": {xff}}}
		ip := ps.clientIP(r)
		// A trusted proxy is only ever returned when it is the peer itself.
		a, err := netip.ParseAddr(ip)
		if err != nil || !ps.trusted(a) {
			return
		}
		host, _, err := net.SplitHostPort(remote)
		if err != nil {
			host = remote
		}
		peer, err := netip.ParseAddr(host)
		if err != nil || peer.Unmap() != a.Unmap() {
			t.Fatalf("returned trusted proxy %s that is not the peer %q", ip, remote)
		}
	})
}

func TestClientIP(t *testing.T) {
	ps, err := parseProxies([]string{"10.0.0.0/8", "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ remote, xff, want string }{
		{"1.2.3.4:99", "9.9.9.9", "1.2.3.4"},                     // untrusted peer: header ignored
		{"10.0.0.5:99", "9.9.9.9", "9.9.9.9"},                    // trusted peer
		{"10.0.0.5:99", "6.6.6.6, 9.9.9.9, 10.0.0.7", "9.9.9.9"}, // rightmost untrusted hop
		{"127.0.0.1:99", "", "127.0.0.1"},
		{"10.0.0.5:99", "not-an-ip", "10.0.0.5"},
	} {
		r := &http.Request{RemoteAddr: tc.remote, Header: http.Header{}}
		if tc.xff != "" {
			r.Header.Set("X-Forwarded-For", tc.xff)
		}
		if got := ps.clientIP(r); got != tc.want {
			t.Errorf("clientIP(%s, %q) = %s, want %s", tc.remote, tc.xff, got, tc.want)
		}
	}
	if _, err := parseProxies([]string{"nope"}); err == nil {
		t.Error("bad proxy accepted")
	}
}
