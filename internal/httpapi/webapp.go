package httpapi

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/plazahq/plaza/internal/apperr"
)

// appCSP is the web app's Content-Security-Policy: its own scripts, styles
// and API only (no inline code, nothing from elsewhere), pictures and audio
// from uploads or a CDN, and Trusted Types so that no code path can turn a
// string into markup except the one named policy, plaza-lesson, that parses
// server-sanitized lesson bodies into an inert document, from which the app
// copies allow-listed nodes (web/src/html.ts). The API keeps its own,
// stricter policy.
const appCSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; " +
	"media-src 'self' https:; connect-src 'self'; font-src 'self'; object-src 'none'; frame-ancestors 'none'; " +
	"base-uri 'none'; form-action 'self'; require-trusted-types-for 'script'; trusted-types plaza-lesson"

// webFile is one file of the app, read once at start.
type webFile struct {
	body  []byte
	ctype string
	etag  string
	cache string
}

// webApp serves the embedded web app (package web): the content-hashed
// files under /assets/ may be cached forever; index.html answers every
// other page path (deep links, the links in mails) and is revalidated
// each time, so a new build is picked up on the next load.
type webApp struct {
	files map[string]webFile // by URL path
	index webFile
}

// newWebApp reads the built app from fsys.
func newWebApp(fsys fs.FS) (*webApp, error) {
	a := &webApp{files: map[string]webFile{}}
	err := fs.WalkDir(fsys, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return err
		}
		ct := mime.TypeByExtension(path.Ext(name))
		if ct == "" {
			ct = http.DetectContentType(b)
		}
		sum := sha256.Sum256(b)
		f := webFile{body: b, ctype: ct, etag: `"` + base64.RawURLEncoding.EncodeToString(sum[:12]) + `"`,
			cache: "public, max-age=3600"}
		switch {
		case name == "index.html":
			f.cache = "no-cache"
			a.index = f
			return nil
		case strings.HasPrefix(name, "assets/"):
			f.cache = "public, max-age=31536000, immutable"
		}
		a.files["/"+name] = f
		return nil
	})
	if err != nil {
		return nil, err
	}
	if a.index.body == nil {
		return nil, errors.New("httpapi: the web app has no index.html; run npm run build in web/")
	}
	return a, nil
}

// isAPIPath reports whether p belongs to the server rather than the app:
// such paths keep answering in the API's JSON format, 404 included. /debug/
// is the profiler's (PLAZA_DEBUG_ADDR, never this listener): a probe for it
// here must get a 404, not a page.
func isAPIPath(p string) bool {
	return p == "/api" || strings.HasPrefix(p, "/api/") || strings.HasPrefix(p, "/uploads/") || p == "/metrics" ||
		strings.HasPrefix(p, "/debug/")
}

// serveUnmatched answers what no route matched: the API's JSON 404 for API
// paths, the web app for the rest.
func (s *Server) serveUnmatched(w http.ResponseWriter, r *http.Request) {
	if s.web == nil || isAPIPath(r.URL.Path) {
		s.writeError(w, r, apperr.New(apperr.NotFound, "no route "+r.URL.Path))
		return
	}
	s.web.serve(w, r, s)
}

func (a *webApp) serve(w http.ResponseWriter, r *http.Request, s *Server) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		s.writeError(w, r, apperr.New(apperr.MethodNotAllowed, r.Method+" is not allowed here; use GET, HEAD"))
		return
	}
	f, ok := a.files[r.URL.Path]
	if !ok {
		// A file name that is not there (an old build's asset, a typo) is a
		// 404; a page path is the app's to resolve.
		if strings.HasPrefix(r.URL.Path, "/assets/") || path.Ext(r.URL.Path) != "" {
			s.writeError(w, r, apperr.New(apperr.NotFound, "no file "+r.URL.Path))
			return
		}
		f = a.index
	}
	h := w.Header()
	h.Set("Content-Security-Policy", appCSP)
	h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
	h.Set("Content-Type", f.ctype)
	h.Set("Cache-Control", f.cache)
	h.Set("ETag", f.etag)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(f.body))
}
