package httpapi

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/plazahq/plaza/internal/apperr"
	"github.com/plazahq/plaza/internal/connlimit"
)

type ctxKey int

// keyRequestID holds the request's *reqState.
const keyRequestID ctxKey = iota

// reqState is what withRequestID keeps for one request: its id, the
// error code writeError answered with, which the access log reads, and
// who made it once serveRoute has authenticated them (kept here rather
// than in a context of its own: that would copy the request again).
type reqState struct {
	id   string
	code apperr.Code
	auth authInfo
}

func stateOf(ctx context.Context) *reqState {
	st, _ := ctx.Value(keyRequestID).(*reqState)
	return st
}

func requestID(ctx context.Context) string {
	if st := stateOf(ctx); st != nil {
		return st.id
	}
	return ""
}

// answeredWith records the error code of the response.
func answeredWith(ctx context.Context, code apperr.Code) {
	if st := stateOf(ctx); st != nil {
		st.code = code
	}
}

// fault reports whether a response with status was a server fault: a 5xx
// that writeError did not render as a documented refusal (apperr.Fault).
func fault(ctx context.Context, status int) bool {
	if status < 500 {
		return false
	}
	st := stateOf(ctx)
	return st == nil || st.code == "" || apperr.Fault(st.code)
}

func validRequestID(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// withRequestID gives every request an id (the client's X-Request-Id when it
// is sane) and echoes it on the response.
func withRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-Id")
		if !validRequestID(id) {
			var b [12]byte
			var x [24]byte
			rand.Read(b[:])
			hex.Encode(x[:], b[:])
			id = string(x[:])
		}
		w.Header()["X-Request-Id"] = []string{id} // the canonical key, as Set would store it
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), keyRequestID, &reqState{id: id})))
	})
}

// statusWriter remembers the status and size of a response.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += n
	return n, err
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Hijack hands the connection to a WebSocket upgrader (which asserts
// http.Hijacker directly rather than using a ResponseController).
func (w *statusWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, rw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err == nil && w.status == 0 {
		w.status = http.StatusSwitchingProtocols
	}
	return conn, rw, err
}

// statusOf wraps w in a statusWriter, unless it is one already: the
// recovery and the access log, one inside the other, share one.
func statusOf(w http.ResponseWriter) *statusWriter {
	if sw, ok := w.(*statusWriter); ok {
		return sw
	}
	return &statusWriter{ResponseWriter: w}
}

// withRecovery turns a panic into a logged internal_error response; the
// server keeps running.
func (s *Server) withRecovery(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := statusOf(w)
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.log.Error("panic in handler", "requestId", requestID(r.Context()), "method", r.Method, "path", r.URL.Path,
				"panic", v, "stack", string(debug.Stack()))
			if sw.status == 0 {
				writeJSON(w, http.StatusInternalServerError, errorBody{Error: errorDetail{Code: apperr.Internal,
					Message: "internal error; quote request id " + requestID(r.Context()) + " when reporting it"}})
			}
		}()
		next.ServeHTTP(sw, r)
	})
}

// withAccessLog records every request in the metrics (by route pattern) and
// logs failed and slow ones; logging every success would cost more than
// serving a cached read.
func (s *Server) withAccessLog(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := statusOf(w)
		next.ServeHTTP(sw, r)
		d := time.Since(start)
		if sw.status == 0 {
			sw.status = http.StatusOK
		}
		route := r.Pattern // set by the mux on this same request
		if route == "" || route == "/" {
			route = "unmatched"
		}
		failed := fault(r.Context(), sw.status)
		s.metrics.ObserveRequest(route, r.Method, sw.status, failed, d)
		switch {
		case failed && !(sw.status == http.StatusServiceUnavailable && connlimit.Restricted(r.Context())):
			// (a 503 shed near the connection limit is counted in the
			// metrics; the listener logs the episode once)
			s.log.Warn("request", "requestId", requestID(r.Context()), "method", r.Method, "path", r.URL.Path, "status", sw.status, "duration", d)
		case d > time.Second:
			s.log.Warn("slow request", "requestId", requestID(r.Context()), "method", r.Method, "path", r.URL.Path, "status", sw.status, "duration", d)
		case s.log.Enabled(r.Context(), slog.LevelDebug): // not building the record only to drop it
			s.log.Debug("request", "requestId", requestID(r.Context()), "method", r.Method, "path", r.URL.Path, "status", sw.status, "duration", d, "bytes", sw.bytes)
		}
	})
}

// securityHeaders are the headers every API response should carry, by
// canonical key (as Header.Set stores them). Their values are shared by
// every response: nothing changes a header's values in place (Set
// replaces them; Add appends to a full slice, so to a copy).
var securityHeaders = []struct {
	key   string
	value []string
}{
	{"X-Content-Type-Options", []string{"nosniff"}},
	{"X-Frame-Options", []string{"DENY"}},
	{"Referrer-Policy", []string{"no-referrer"}},
	{"Content-Security-Policy", []string{"default-src 'none'; frame-ancestors 'none'"}},
	{"Cross-Origin-Opener-Policy", []string{"same-origin"}},
}

var hsts = []string{"max-age=63072000; includeSubDomains"}

// withSecurityHeaders sets the headers every API response should carry.
func withSecurityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		for _, sh := range securityHeaders {
			h[sh.key] = sh.value[:1:1]
		}
		if r.TLS != nil {
			h["Strict-Transport-Security"] = hsts[:1:1]
		}
		next.ServeHTTP(w, r)
	})
}

var (
	corsMethods = "GET, POST, PUT, PATCH, DELETE, OPTIONS"
	corsHeaders = "Authorization, Content-Type, Idempotency-Key, X-Request-Id"
	corsExpose  = "RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset, Retry-After, X-Request-Id"
)

// originAllowed reports whether a browser on origin may call the API.
func (s *Server) originAllowed(origin string) bool {
	return slices.Contains(s.cfg.CORSOrigins, "*") || slices.Contains(s.cfg.CORSOrigins, origin)
}

// sameOrigin reports whether origin names the host the request was sent to.
func sameOrigin(r *http.Request, origin string) bool {
	_, host, ok := strings.Cut(origin, "://")
	return ok && strings.EqualFold(host, r.Host)
}

// withCORS answers preflights and marks responses readable by the allowed
// origins (CORS_ORIGIN). Without it, only same-origin pages may call.
func (s *Server) withCORS(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		if origin == "" || sameOrigin(r, origin) {
			next.ServeHTTP(w, r)
			return
		}
		h := w.Header()
		h.Add("Vary", "Origin")
		allowed := s.originAllowed(origin)
		if allowed {
			h.Set("Access-Control-Allow-Origin", origin)
			h.Set("Access-Control-Allow-Credentials", "true")
			h.Set("Access-Control-Expose-Headers", corsExpose)
		}
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			if !allowed {
				s.writeError(w, r, apperr.New(apperr.Forbidden, "origin "+origin+" is not allowed; add it to CORS_ORIGIN"))
				return
			}
			h.Add("Vary", "Access-Control-Request-Method, Access-Control-Request-Headers")
			h.Set("Access-Control-Allow-Methods", corsMethods)
			h.Set("Access-Control-Allow-Headers", corsHeaders)
			h.Set("Access-Control-Max-Age", "600")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		next.ServeHTTP(w, r)
	})
}
