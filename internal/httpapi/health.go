package httpapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	_ "embed"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/plazahq/plaza/internal/apperr"
	"github.com/plazahq/plaza/internal/jobs"
	"github.com/plazahq/plaza/internal/realtime"
	"github.com/prometheus/client_golang/prometheus"
)

// Probes report on optional parts for /api/health; a nil probe means the
// part is not there.
type Probes struct {
	// Queue reads the job queue's depth; it must give up when ctx ends.
	Queue func(ctx context.Context) QueueHealth
	Redis func() (down bool, why string)
}

// healthBudget is how long /api/health may wait on the database (its ping
// and the queue depth, side by side): whatever the database does, health
// answers within about this, and says what it could not learn.
const healthBudget = 500 * time.Millisecond

// QueueHealth is the job queue's depth.
type QueueHealth struct {
	Pending int64 `json:"pending"` // available jobs, due or scheduled for later
	Due     int64 `json:"due"`     // available jobs due now: the depth the alert counts
	Workers int64 `json:"workers"`
	Dead    int64 `json:"dead"`
}

// The seed's alert thresholds.
const (
	alertP95Ms       = 500
	alertErrorRate   = 0.01
	alertHitRate     = 0.70
	alertQueueDepth  = 100
	minRequestsAlert = 20  // too few requests make rates meaningless
	minLookupsAlert  = 100 // same for the cache hit rate
)

type perfHealth struct {
	AvgResponseTime float64 `json:"avgResponseTime"`
	P50             float64 `json:"p50"`
	P95             float64 `json:"p95"`
	P99             float64 `json:"p99"`
	ErrorRate       float64 `json:"errorRate"`
	TotalRequests   int64   `json:"totalRequests"`
	WindowRequests  int64   `json:"windowRequests"`
}

type dbHealth struct {
	Engine  string `json:"engine"`
	Open    int    `json:"open"`
	InUse   int    `json:"inUse"`
	Waiting int64  `json:"waiting"`
	MaxOpen int    `json:"maxOpen"`
	Refused int64  `json:"refused"`
	// WaitCount and WaitMs total the waits for a connection since start.
	WaitCount int64   `json:"waitCount"`
	WaitMs    float64 `json:"waitMs"`
}

type cacheHealth struct {
	HitRate float64 `json:"hitRate"`
	Lookups int64   `json:"lookups"`
	Backend string  `json:"backend"`
}

type wsHealth struct {
	Connections int `json:"connections"`
}

type healthBody struct {
	Status      string      `json:"status"`
	Version     string      `json:"version"`
	Performance perfHealth  `json:"performance"`
	Queue       QueueHealth `json:"queue"`
	DB          dbHealth    `json:"db"`
	Cache       cacheHealth `json:"cache"`
	WebSocket   wsHealth    `json:"websocket"`
	Alerts      []string    `json:"alerts"`
}

func round(v float64, places int) float64 {
	p := math.Pow(10, float64(places))
	return math.Round(v*p) / p
}

// health answers "ok", "degraded" (with alerts: a seed threshold is crossed
// or Redis is lost) or "down" (503: the database does not answer). Figures
// cover the last 60 seconds; it is cheap enough to poll every second, and
// it answers within healthBudget however the database behaves.
func (s *Server) health(w http.ResponseWriter, r *http.Request) error {
	b := healthBody{Status: "ok", Version: s.cfg.Version, Alerts: []string{}, DB: dbHealth{Engine: string(s.db.Dialect)}}
	alert := func(format string, args ...any) {
		b.Status = "degraded"
		b.Alerts = append(b.Alerts, fmt.Sprintf(format, args...))
	}

	p := s.metrics.Window.Snapshot()
	b.Performance = perfHealth{AvgResponseTime: round(p.AvgMs, 2), P50: round(p.P50Ms, 2), P95: round(p.P95Ms, 2), P99: round(p.P99Ms, 2),
		ErrorRate: round(p.ErrorRate, 4), TotalRequests: p.Total, WindowRequests: p.Requests}
	if p.Requests >= minRequestsAlert && p.P95Ms > alertP95Ms {
		alert("p95 response time %.0f ms is above %d ms", p.P95Ms, alertP95Ms)
	}
	if p.Requests >= minRequestsAlert && p.ErrorRate > alertErrorRate {
		alert("error rate %.1f%% is above %.0f%%", 100*p.ErrorRate, 100*alertErrorRate)
	}

	for _, ps := range s.db.Stats() {
		b.DB.Open += ps.Open
		b.DB.InUse += ps.InUse
		b.DB.Waiting += ps.Waiting
		b.DB.MaxOpen += ps.MaxOpen
		b.DB.Refused += ps.Refused
		b.DB.WaitCount += ps.WaitCount
		b.DB.WaitMs += round(float64(ps.WaitTime.Microseconds())/1000, 2)
		if ps.Exhausted() {
			alert("database pool %s exhausted: %d requests wait for a connection", ps.Name, ps.Waiting)
		}
	}

	// The ping starts after the pool figures are read (it may wait for a
	// connection itself) and runs beside the queue probe.
	ctx, cancel := context.WithTimeout(r.Context(), healthBudget)
	defer cancel()
	pinged := make(chan error, 1)
	go func() { pinged <- s.db.Ping(ctx) }()

	cs := s.cache.Stats()
	b.Cache = cacheHealth{HitRate: round(cs.HitRate, 4), Lookups: cs.Lookups, Backend: cs.Backend}
	if cs.Lookups >= minLookupsAlert && cs.HitRate < alertHitRate {
		alert("cache hit rate %.0f%% is below %.0f%%", 100*cs.HitRate, 100*alertHitRate)
	}
	if s.probes.Redis != nil {
		if down, why := s.probes.Redis(); down {
			alert("Redis not answering (%s): cache, rate limits and fan-out run per instance", why)
		}
	}
	if s.probes.Queue != nil {
		b.Queue = s.probes.Queue(ctx)
		// Jobs scheduled for later (digests, reminders) are no backlog:
		// only the ones due now wait for a worker.
		if b.Queue.Due > alertQueueDepth {
			alert("job queue depth %d (jobs due now) is above %d", b.Queue.Due, alertQueueDepth)
		}
	}
	b.WebSocket.Connections = int(s.hub.Stats().Connections)

	status := http.StatusOK
	if err := <-pinged; err != nil {
		if apperr.Is(err, apperr.Overloaded) || (ctx.Err() != nil && r.Context().Err() == nil && b.DB.Waiting > 0) {
			alert("database pool saturated: the health check could not get a connection")
		} else {
			b.Status, status = "down", http.StatusServiceUnavailable
			b.Alerts = append(b.Alerts, "database unreachable")
			s.log.Warn("health: database unreachable", "err", err)
		}
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, status, b)
	return nil
}

// registerMetrics exposes pool and cache figures to Prometheus.
func (s *Server) registerMetrics() {
	for _, ps := range s.db.Stats() {
		name := ps.Name
		pool := func() (st struct{ open, inUse, waiting, waitS, refused, queries float64 }) {
			for _, p := range s.db.Stats() {
				if p.Name == name {
					st.open, st.inUse, st.waiting = float64(p.Open), float64(p.InUse), float64(p.Waiting)
					st.waitS, st.refused, st.queries = p.WaitTime.Seconds(), float64(p.Refused), float64(p.Queries)
				}
			}
			return st
		}
		l := prometheus.Labels{"pool": name}
		s.metrics.Gauge("plaza_db_pool_open_connections", "Open connections.", l, func() float64 { return pool().open })
		s.metrics.Gauge("plaza_db_pool_in_use", "Connections in use.", l, func() float64 { return pool().inUse })
		s.metrics.Gauge("plaza_db_pool_waiting", "Requests waiting for a connection.", l, func() float64 { return pool().waiting })
		s.metrics.Counter("plaza_db_pool_wait_seconds_total", "Time spent waiting for a connection.", l, func() float64 { return pool().waitS })
		s.metrics.Counter("plaza_db_queries_total", "Statements and transactions run.", l, func() float64 { return pool().queries })
		s.metrics.Counter("plaza_db_pool_refused_total", "Requests refused because DB_QUEUE_LIMIT callers already waited.", l, func() float64 { return pool().refused })
	}
	for _, tier := range []string{"short", "medium", "long", "very_long"} {
		tier := tier
		get := func() (st struct{ local, remote, miss float64 }) {
			t := s.cache.Stats().Tiers[tier]
			return struct{ local, remote, miss float64 }{float64(t.LocalHits), float64(t.RemoteHits), float64(t.Misses)}
		}
		s.metrics.Counter("plaza_cache_hits_total", "Cache hits by tier and layer.", prometheus.Labels{"tier": tier, "layer": "local"}, func() float64 { return get().local })
		s.metrics.Counter("plaza_cache_hits_total", "Cache hits by tier and layer.", prometheus.Labels{"tier": tier, "layer": "redis"}, func() float64 { return get().remote })
		s.metrics.Counter("plaza_cache_misses_total", "Cache misses by tier.", prometheus.Labels{"tier": tier}, func() float64 { return get().miss })
	}
	js := func() jobs.Stats { return s.jobs.Stats(context.Background()) }
	s.metrics.Gauge("plaza_jobs_pending", "Jobs waiting to run (due or scheduled).", nil, func() float64 { return float64(js().Pending) })
	s.metrics.Gauge("plaza_jobs_running", "Jobs leased by a worker on any instance.", nil, func() float64 { return float64(js().Running) })
	s.metrics.Gauge("plaza_jobs_dead", "Jobs that failed their last attempt.", nil, func() float64 { return float64(js().Dead) })
	s.metrics.Gauge("plaza_jobs_workers_busy", "Workers of this instance running a job.", nil, func() float64 { return float64(js().Busy) })
	s.metrics.Counter("plaza_jobs_processed_total", "Jobs completed by this instance.", nil, func() float64 { return float64(js().Processed) })
	s.metrics.Counter("plaza_jobs_failed_attempts_total", "Failed attempts on this instance.", nil, func() float64 { return float64(js().Failed) })
	ws := func() realtime.Stats { return s.hub.Stats() }
	s.metrics.Gauge("plaza_ws_connections", "Open WebSocket connections.", nil, func() float64 { return float64(ws().Connections) })
	s.metrics.Gauge("plaza_ws_rooms", "Rooms with subscribers on this instance.", nil, func() float64 { return float64(ws().Rooms) })
	s.metrics.Counter("plaza_ws_delivered_total", "Event frames queued to subscribers.", nil, func() float64 { return float64(ws().Delivered) })
	s.metrics.Counter("plaza_ws_writes_total", "Socket writes to WebSockets; each carries every frame its connection had waiting.", nil, func() float64 { return float64(ws().Writes) })
	s.metrics.Counter("plaza_ws_inbound_total", "Frames received from clients.", nil, func() float64 { return float64(ws().Inbound) })
	s.metrics.Counter("plaza_ws_slow_disconnects_total", "Connections dropped for falling behind.", nil, func() float64 { return float64(ws().Dropped) })
	s.metrics.Counter("plaza_ws_resyncs_total", "Rooms told to resync: events missing from the shared history.", nil, func() float64 { return float64(ws().Resyncs) })
	s.metrics.Gauge("plaza_cache_hit_rate", "Cache hit rate over the last minute.", nil, func() float64 { return s.cache.Stats().HitRate })
	s.metrics.Counter("plaza_cache_redis_timeouts_total", "Cache calls to Redis that timed out and went without it, Redis staying in use.", nil,
		func() float64 { return float64(s.cache.Stats().RedisTimeouts) })
}

// prometheus serves /metrics on the API port to holders of MetricsToken
// only: the figures show traffic and internals. Without a token configured
// the route does not exist here (PLAZA_METRICS_ADDR serves it privately).
func (s *Server) prometheus(w http.ResponseWriter, r *http.Request) error {
	if s.cfg.MetricsToken == "" {
		return apperr.New(apperr.NotFound, "no route "+r.URL.Path)
	}
	scheme, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if !strings.EqualFold(scheme, "Bearer") || !sameSecret(strings.TrimSpace(token), s.cfg.MetricsToken) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="metrics"`)
		return apperr.New(apperr.Unauthorized, "send Authorization: Bearer $PLAZA_METRICS_TOKEN")
	}
	w.Header().Set("Cache-Control", "no-store")
	s.metrics.Handler().ServeHTTP(&oneVary{ResponseWriter: w}, r)
	return nil
}

// sameSecret compares in constant time; hashing first hides the length.
func sameSecret(got, want string) bool {
	g, w := sha256.Sum256([]byte(got)), sha256.Sum256([]byte(want))
	return subtle.ConstantTimeCompare(g[:], w[:]) == 1
}

// MetricsHandler serves the Prometheus figures without a token, for a
// listener of their own on a private address (PLAZA_METRICS_ADDR).
func (s *Server) MetricsHandler() (http.Handler, error) {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.metrics.Handler().ServeHTTP(&oneVary{ResponseWriter: w}, r)
	}))
	return withCompression(mux)
}

// oneVary sends the Vary values that the compression layer (Accept-Encoding)
// and promhttp (Accept) each add as one header line without repeats.
type oneVary struct {
	http.ResponseWriter
	merged bool
}

func (v *oneVary) merge() {
	if v.merged {
		return
	}
	v.merged = true
	h := v.ResponseWriter.Header()
	var names []string
	for _, line := range h.Values("Vary") {
		for _, n := range strings.Split(line, ",") {
			if n = strings.TrimSpace(n); n != "" && !slices.ContainsFunc(names, func(m string) bool { return strings.EqualFold(m, n) }) {
				names = append(names, n)
			}
		}
	}
	if len(names) > 0 {
		h.Set("Vary", strings.Join(names, ", "))
	}
}

func (v *oneVary) WriteHeader(code int) { v.merge(); v.ResponseWriter.WriteHeader(code) }

func (v *oneVary) Write(b []byte) (int, error) { v.merge(); return v.ResponseWriter.Write(b) }

func (v *oneVary) Unwrap() http.ResponseWriter { return v.ResponseWriter }

//go:embed openapi.json
var openAPIDoc []byte

func (s *Server) openAPI(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Cache-Control", "public, max-age=300")
	writeRaw(w, http.StatusOK, bytes.TrimSpace(openAPIDoc))
	return nil
}
