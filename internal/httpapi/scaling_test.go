package httpapi_test

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"context"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"image"
	"image/jpeg"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/plazahq/plaza/internal/account"
	"github.com/plazahq/plaza/internal/httpapi"
	"github.com/plazahq/plaza/internal/media"
	"github.com/plazahq/plaza/internal/ratelimit"
	"github.com/plazahq/plaza/internal/sqldb"
	"github.com/plazahq/plaza/internal/sqldb/sqldbtest"
)

func TestWarmReadsCostNoQuery(t *testing.T) {
	sqldbtest.ForEach(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		tok, u := e.signup("jay")
		path := fmt.Sprintf("/api/users/%d", u.ID)
		first := e.must(200, e.do("GET", path, nil, ""))
		e.must(200, e.do("GET", "/api/users/me", nil, tok))
		e.jobs.Stop(context.Background()) // its polling would count as queries too

		before := db.Queries()
		for range 20 {
			if r := e.must(200, e.do("GET", path, nil, "")); !bytes.Equal(r.body, first.body) {
				t.Fatalf("cached body differs: %s vs %s", r.body, first.body)
			}
			e.must(200, e.do("GET", "/api/users/me", nil, tok))
		}
		if n := db.Queries() - before; n != 0 {
			t.Fatalf("%d queries for 40 warm reads, want 0", n)
		}

		// A write invalidates what it changes, at once.
		e.must(200, e.do("PATCH", "/api/users/me", `{"displayName":"Jay Z"}`, tok))
		var p account.Profile
		e.must(200, e.do("GET", path, nil, "")).json(&p)
		var me account.User
		e.must(200, e.do("GET", "/api/users/me", nil, tok)).json(&me)
		if p.DisplayName != "Jay Z" || me.DisplayName != "Jay Z" {
			t.Fatalf("stale after update: profile %q, me %q", p.DisplayName, me.DisplayName)
		}
		// Logout revokes at once, though the session was cached.
		e.must(204, e.do("POST", "/api/auth/logout", nil, tok))
		e.must(401, e.do("GET", "/api/users/me", nil, tok))
	})
}

func TestRevokedOtherSessionIsRefusedAtOnce(t *testing.T) {
	e := newEnv(t, sqldbtest.OpenSQLite(t, sqldb.Config{}))
	tok, _ := e.signup("kim")
	tok2, _ := e.login("kim", pw, "")
	e.must(200, e.do("GET", "/api/users/me", nil, tok2)) // cached now
	var list struct{ Items []account.Session }
	e.must(200, e.do("GET", "/api/auth/sessions", nil, tok)).json(&list)
	for _, s := range list.Items {
		if !s.Current {
			e.must(204, e.do("DELETE", fmt.Sprintf("/api/auth/sessions/%d", s.ID), nil, tok))
		}
	}
	e.must(401, e.do("GET", "/api/users/me", nil, tok2))
}

func TestRateLimitTiers(t *testing.T) {
	e := newEnv(t, sqldbtest.OpenSQLite(t, sqldb.Config{}), withHTTP(func(c *httpapi.Config, _ *httpapi.Deps) {
		c.Tiers = map[string]ratelimit.Tier{"strict": {Name: "strict", Limit: 3, Window: time.Minute}, "api": {Name: "api", Limit: 5, Window: time.Minute}}
	}), withEnv("PLAZA_METRICS_TOKEN", metricsToken))
	// strict, by IP: password reset.
	for i := range 3 {
		r := e.must(202, e.do("POST", "/api/auth/password-reset", map[string]string{"email": "x@example.com"}, ""))
		if r.header.Get("RateLimit-Limit") != "3" || r.header.Get("RateLimit-Remaining") != fmt.Sprint(2-i) || r.header.Get("RateLimit-Reset") == "" {
			t.Fatalf("headers %v", r.header)
		}
	}
	r := e.do("POST", "/api/auth/password-reset", map[string]string{"email": "x@example.com"}, "")
	if r.status != 429 || r.code() != "rate_limited" || r.header.Get("Retry-After") != "20" {
		t.Fatalf("4th: %d %s Retry-After=%q", r.status, r.body, r.header.Get("Retry-After"))
	}
	// api, by user: another user keeps their own allowance.
	e.clock.Advance(time.Hour)
	tokA, _ := e.signup("lee")
	e.clock.Advance(time.Hour) // signup spends 2 of the 3 strict requests
	tokB, _ := e.signup("max")
	for range 5 {
		e.must(200, e.do("GET", "/api/users/me", nil, tokA))
	}
	e.must(429, e.do("GET", "/api/users/me", nil, tokA))
	e.must(200, e.do("GET", "/api/users/me", nil, tokB))
	// Routes outside every tier carry no headers.
	if h := e.do("GET", "/api/health", nil, "").header.Get("RateLimit-Limit"); h != "" {
		t.Fatalf("health is rate limited: %q", h)
	}
	metrics := string(e.must(200, e.do("GET", "/metrics", nil, metricsToken)).body)
	if !strings.Contains(metrics, `plaza_ratelimit_rejections_total{tier="api"} 1`) || !strings.Contains(metrics, `plaza_ratelimit_rejections_total{tier="strict"} 1`) {
		t.Fatalf("rejections not in metrics:\n%s", grep(metrics, "ratelimit"))
	}
}

func grep(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func decode(t *testing.T, enc string, body []byte) []byte {
	t.Helper()
	var r io.Reader
	var err error
	switch enc {
	case "gzip":
		r, err = gzip.NewReader(bytes.NewReader(body))
	case "deflate":
		r, err = zlib.NewReader(bytes.NewReader(body))
	case "zstd":
		var d *zstd.Decoder
		d, err = zstd.NewReader(bytes.NewReader(body))
		r = d
	default:
		return body
	}
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestCompression(t *testing.T) {
	e := newEnv(t, sqldbtest.OpenSQLite(t, sqldb.Config{}))
	plain := e.do("GET", "/api/openapi.json", nil, "", "Accept-Encoding", "identity").body
	for _, tc := range []struct{ accept, want string }{
		{"gzip", "gzip"}, {"zstd", "zstd"}, {"gzip, deflate, br, zstd", "zstd"}, {"deflate", "deflate"},
		{"gzip;q=0, deflate", "deflate"}, {"identity", ""}, {"", ""}, {"br", ""},
	} {
		t.Run(tc.accept, func(t *testing.T) {
			req, _ := http.NewRequest("GET", e.srv.URL+"/api/openapi.json", nil)
			req.Header.Set("Accept-Encoding", tc.accept)
			tr := &http.Transport{DisableCompression: true}
			res, err := tr.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if got := res.Header.Get("Content-Encoding"); got != tc.want {
				t.Fatalf("Content-Encoding %q, want %q", got, tc.want)
			}
			if !strings.Contains(res.Header.Get("Vary"), "Accept-Encoding") {
				t.Errorf("no Vary: Accept-Encoding (%q)", res.Header.Values("Vary"))
			}
			if tc.want != "" && len(body) > len(plain)/3 {
				t.Errorf("%s: %d bytes from %d", tc.want, len(body), len(plain))
			}
			if got := decode(t, tc.want, body); !bytes.Equal(got, plain) {
				t.Fatalf("decoded body differs (%d vs %d bytes)", len(got), len(plain))
			}
		})
	}
	// Small bodies stay as they are.
	req, _ := http.NewRequest("GET", e.srv.URL+"/api/users/999", nil)
	req.Header.Set("Accept-Encoding", "gzip")
	res, _ := (&http.Transport{DisableCompression: true}).RoundTrip(req)
	res.Body.Close()
	if res.Header.Get("Content-Encoding") != "" {
		t.Fatal("a small error body was compressed")
	}
}

// A minimal valid PNG (1x1).
// pngBytes is a valid 1×1 PNG: uploads are decoded in full.
var pngBytes = func() []byte {
	var b bytes.Buffer
	png.Encode(&b, image.NewNRGBA(image.Rect(0, 0, 1, 1)))
	return b.Bytes()
}()

func multipartBody(field, name string, data []byte) (string, []byte) {
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	mw.WriteField("note", "ignored")
	fw, _ := mw.CreateFormFile(field, name)
	fw.Write(data)
	mw.Close()
	return mw.FormDataContentType(), b.Bytes()
}

func (e *env) upload(token, field, name string, data []byte) resp {
	ct, body := multipartBody(field, name, data)
	req, _ := http.NewRequest("POST", e.srv.URL+"/api/uploads", bytes.NewReader(body))
	req.Header.Set("Content-Type", ct)
	req.Header.Set("Authorization", "Bearer "+token)
	return e.send(req)
}

func countFiles(t *testing.T, dir string) int {
	n := 0
	filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			n++
		}
		return nil
	})
	return n
}

func TestUploads(t *testing.T) {
	e := newEnv(t, sqldbtest.OpenSQLite(t, sqldb.Config{}))
	tok, _ := e.signup("ned")
	var up struct {
		URL         string
		Path        string
		ContentType string
		Size        int64
		SHA256      string
		Kind        string
	}
	e.must(201, e.upload(tok, "file", "avatar.bin", pngBytes)).json(&up)
	if up.ContentType != "image/png" || up.Kind != "image" || up.Size != int64(len(pngBytes)) || up.URL != up.Path ||
		!strings.HasPrefix(up.Path, "/uploads/image/"+up.SHA256[:2]+"/"+up.SHA256) {
		t.Fatalf("upload = %+v", up)
	}
	// Same bytes, same place: stored once.
	var again struct{ Path string }
	e.must(201, e.upload(tok, "file", "other-name.png", pngBytes)).json(&again)
	if again.Path != up.Path || countFiles(t, e.uploads) != 1 {
		t.Fatalf("dedup: %s vs %s, %d files", again.Path, up.Path, countFiles(t, e.uploads))
	}
	r := e.must(200, e.do("GET", up.Path, nil, ""))
	if !bytes.Equal(r.body, pngBytes) || r.header.Get("Content-Type") != "image/png" ||
		r.header.Get("Cache-Control") != "public, max-age=31536000, immutable" || r.header.Get("ETag") != `"`+up.SHA256+`"` {
		t.Fatalf("served: %v", r.header)
	}
	e.must(304, e.do("GET", up.Path, nil, "", "If-None-Match", `"`+up.SHA256+`"`))
	if r := e.do("GET", up.Path, nil, "", "Accept-Encoding", "gzip"); r.header.Get("Content-Encoding") != "" {
		t.Fatal("an image was compressed")
	}

	// The avatar URL in responses goes through the CDN function.
	e.must(200, e.do("PATCH", "/api/users/me", map[string]string{"avatarUrl": up.Path}, tok))

	for _, tc := range []struct {
		name   string
		field  string
		data   []byte
		status int
	}{
		{"svg refused", "file", []byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`), 415},
		{"html refused", "file", []byte("<!doctype html><html><body>hi</body></html>"), 415},
		{"too large", "file", append(append([]byte{}, pngBytes...), make([]byte, 70<<10)...), 413},
		{"no file field", "other", pngBytes, 422},
		{"decompression bomb", "file", bombPNG(), 413},
		{"png that does not decode", "file", append(append([]byte{}, pngBytes[:41]...), "<html><script>alert(1)</script>"...), 415},
		{"empty file", "file", nil, 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if r := e.upload(tok, tc.field, "x", tc.data); r.status != tc.status {
				t.Fatalf("got %d %s, want %d", r.status, r.body, tc.status)
			}
		})
	}
	if n := countFiles(t, e.uploads); n != 1 {
		t.Fatalf("%d files stored after refused uploads, want 1", n)
	}
	e.must(415, e.do("POST", "/api/uploads", `{"file":"x"}`, tok))
	e.must(401, e.upload("", "file", "x", pngBytes))
	for _, bad := range []string{"/uploads/image/zz/" + strings.Repeat("a", 64) + ".png", "/uploads/video/aa/x.mp4", "/uploads/image/../../plaza.db",
		"/uploads/image/" + up.SHA256[:2] + "/" + up.SHA256 + ".mp3"} {
		if r := e.do("GET", bad, nil, ""); r.status != 404 {
			t.Errorf("GET %s: %d", bad, r.status)
		}
	}
}

// bombPNG declares 20000×20000 pixels (1.6 GB decoded) in a 69-byte file.
func bombPNG() []byte {
	b := append([]byte{}, pngBytes...)
	binary.BigEndian.PutUint32(b[16:], 20000)
	binary.BigEndian.PutUint32(b[20:], 20000)
	binary.BigEndian.PutUint32(b[29:], crc32.ChecksumIEEE(b[12:29]))
	return b
}

// TestUploadedPhotoLosesItsLocation: the EXIF block of a phone photo (GPS
// position included) is not stored or served; the picture is.
func TestUploadedPhotoLosesItsLocation(t *testing.T) {
	e := newEnv(t, sqldbtest.OpenSQLite(t, sqldb.Config{}))
	tok, _ := e.signup("gus")
	m := image.NewGray(image.Rect(0, 0, 8, 8))
	var j bytes.Buffer
	jpeg.Encode(&j, m, nil)
	// APP1 "Exif": IFD0 with one GPSInfo pointer to a GPS IFD holding
	// GPSLatitudeRef "N"; then a recognisable address.
	tiff := []byte("MM\x00\x2a\x00\x00\x00\x08\x00\x01\x88\x25\x00\x04\x00\x00\x00\x01\x00\x00\x00\x1a\x00\x00\x00\x00" +
		"\x00\x01\x00\x01\x00\x02\x00\x00\x00\x02N\x00\x00\x00\x00\x00\x00\x00GPS:48.8566N,2.3522E 12 Rue Example")
	app1 := append([]byte{0xFF, 0xE1, 0, byte(len(tiff) + 8)}, "Exif\x00\x00"...)
	photo := append(append(append([]byte{}, j.Bytes()[:2]...), append(app1, tiff...)...), j.Bytes()[2:]...)
	var up struct{ Path string }
	e.must(201, e.upload(tok, "file", "photo.jpg", photo)).json(&up)
	r := e.must(200, e.do("GET", up.Path, nil, ""))
	if bytes.Contains(r.body, []byte("Exif")) || bytes.Contains(r.body, []byte("48.8566")) || bytes.Contains(r.body, []byte("Rue Example")) {
		t.Fatal("the served photo still carries its EXIF location")
	}
	if _, err := jpeg.Decode(bytes.NewReader(r.body)); err != nil || !bytes.Equal(r.body, j.Bytes()) {
		t.Fatalf("served %d bytes (%v), want the photo without its APP1 (%d bytes)", len(r.body), err, j.Len())
	}
}

func TestCDNURLs(t *testing.T) {
	u := media.URLs{Base: "https://cdn.example.com/", PerKind: map[media.Kind]string{media.Audio: "https://audio.example.com"}}
	for in, want := range map[string]string{
		"/uploads/image/ab/abc.png": "https://cdn.example.com/uploads/image/ab/abc.png",
		"/uploads/audio/ab/abc.mp3": "https://audio.example.com/uploads/audio/ab/abc.mp3",
		"https://elsewhere/x.png":   "https://elsewhere/x.png",
		"":                          "",
	} {
		if got := u.URL(in); got != want {
			t.Errorf("URL(%q) = %q, want %q", in, got, want)
		}
	}
	e := newEnv(t, sqldbtest.OpenSQLite(t, sqldb.Config{}), withHTTP(func(_ *httpapi.Config, d *httpapi.Deps) { d.URLs = u }))
	tok, me := e.signup("ola")
	var up struct{ URL, Path string }
	e.must(201, e.upload(tok, "file", "a.png", pngBytes)).json(&up)
	if up.URL != "https://cdn.example.com"+up.Path {
		t.Fatalf("upload URL %q", up.URL)
	}
	e.must(200, e.do("PATCH", "/api/users/me", map[string]string{"avatarUrl": up.Path}, tok))
	var p account.Profile
	e.must(200, e.do("GET", fmt.Sprintf("/api/users/%d", me.ID), nil, "")).json(&p)
	if p.AvatarURL != up.URL {
		t.Fatalf("profile avatar %q, want %q", p.AvatarURL, up.URL)
	}
}

type healthDoc struct {
	Status      string
	Performance struct {
		AvgResponseTime, P50, P95, P99, ErrorRate float64
		TotalRequests                             int64
	}
	Queue struct{ Pending, Due, Workers, Dead int64 }
	DB    struct{ Open, InUse, Waiting int64 }
	Cache struct {
		HitRate float64
		Backend string
	}
	WebSocket struct{ Connections int }
	Alerts    []string
}

func TestHealthShapeAndAlerts(t *testing.T) {
	redisDown := false
	pending, due := int64(3), int64(3)
	e := newEnv(t, sqldbtest.OpenSQLite(t, sqldb.Config{}), withHTTP(func(_ *httpapi.Config, d *httpapi.Deps) {
		d.Probes = httpapi.Probes{
			Redis: func() (bool, string) { return redisDown, "connection refused" },
			Queue: func(context.Context) httpapi.QueueHealth {
				return httpapi.QueueHealth{Pending: pending, Due: due, Workers: 4}
			},
		}
	}), withEnv("PLAZA_METRICS_TOKEN", metricsToken))
	for range 30 {
		e.do("GET", "/api/users/1", nil, "")
	}
	var h healthDoc
	raw := e.must(200, e.do("GET", "/api/health", nil, ""))
	raw.json(&h)
	for _, key := range []string{`"performance"`, `"avgResponseTime"`, `"p95"`, `"errorRate"`, `"totalRequests"`, `"queue"`, `"db"`, `"inUse"`, `"cache"`, `"hitRate"`, `"websocket"`, `"alerts"`} {
		if !strings.Contains(string(raw.body), key) {
			t.Errorf("health lacks %s: %s", key, raw.body)
		}
	}
	if h.Status != "ok" || h.Performance.TotalRequests < 30 || h.Cache.Backend != "memory" || h.Queue.Pending != 3 || h.WebSocket.Connections != 0 {
		t.Fatalf("health %+v", h)
	}
	// Slow requests in the window: p95 above 500 ms.
	for range 100 {
		e.metrics.ObserveRequest("/x", "GET", 200, false, 800*time.Millisecond)
	}
	redisDown = true
	e.must(200, e.do("GET", "/api/health", nil, "")).json(&h)
	if h.Status != "degraded" || !containsAll(h.Alerts, "p95", "Redis") {
		t.Fatalf("alerts %v (status %s)", h.Alerts, h.Status)
	}
	for range 100 {
		e.metrics.ObserveRequest("/x", "GET", 500, true, time.Millisecond)
	}
	// 1,000 jobs scheduled for later (digests) are no backlog: only the
	// jobs due now count towards the queue-depth alert.
	pending, due = 1000, 3
	e.must(200, e.do("GET", "/api/health", nil, "")).json(&h)
	if containsAll(h.Alerts, "job queue depth") || h.Queue.Pending != 1000 || h.Queue.Due != 3 {
		t.Fatalf("jobs scheduled for later raised the queue alert: %v (%+v)", h.Alerts, h.Queue)
	}
	pending, due = 1000, 150
	e.must(200, e.do("GET", "/api/health", nil, "")).json(&h)
	if !containsAll(h.Alerts, "error rate", "job queue depth 150") || h.Queue.Pending != 1000 {
		t.Fatalf("alerts %v", h.Alerts)
	}
	metrics := string(e.must(200, e.do("GET", "/metrics", nil, metricsToken)).body)
	for _, want := range []string{`plaza_http_requests_total{code="404",method="GET",route="/api/users/{id}"}`, "plaza_http_request_duration_seconds_bucket",
		`plaza_db_pool_in_use{pool="sqlite-writer"}`, `plaza_cache_misses_total{tier="long"}`, "plaza_cache_hit_rate", "go_goroutines", "plaza_db_queries_total"} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

func containsAll(alerts []string, subs ...string) bool {
	all := strings.Join(alerts, " | ")
	for _, s := range subs {
		if !strings.Contains(all, s) {
			return false
		}
	}
	return true
}

func TestHealthIsDownWithoutDatabase(t *testing.T) {
	db := sqldbtest.OpenSQLite(t, sqldb.Config{})
	e := newEnv(t, db)
	db.Close()
	var h healthDoc
	e.must(503, e.do("GET", "/api/health", nil, "")).json(&h)
	if h.Status != "down" {
		t.Fatalf("%+v", h)
	}
}
