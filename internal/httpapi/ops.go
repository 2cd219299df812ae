package httpapi

import (
	"net/http"
	"strconv"
	"time"

	"github.com/plazahq/plaza/internal/apperr"
)

type opsThresholds struct {
	P95Ms        float64 `json:"p95Ms"`
	ErrorRate    float64 `json:"errorRate"`
	CacheHitRate float64 `json:"cacheHitRate"`
	QueueDepth   int64   `json:"queueDepth"`
	// Rates alert only over at least this many requests or lookups.
	MinRequests int64 `json:"minRequests"`
	MinLookups  int64 `json:"minLookups"`
}

type opsSample struct {
	At             time.Time `json:"at"`
	RequestsPerSec float64   `json:"requestsPerSec"`
	P50Ms          float64   `json:"p50Ms"`
	P95Ms          float64   `json:"p95Ms"`
	ErrorRate      float64   `json:"errorRate"`
	WindowRequests int64     `json:"windowRequests"`
	WSConnections  int       `json:"wsConnections"`
	DBInUse        int       `json:"dbInUse"`
	DBWaiting      int64     `json:"dbWaiting"`
	DBMaxOpen      int       `json:"dbMaxOpen"`
	DBExhausted    bool      `json:"dbExhausted"`
	CacheHitRate   float64   `json:"cacheHitRate"`
	CacheLookups   int64     `json:"cacheLookups"`
	QueueDepth     int64     `json:"queueDepth"`
}

type opsSeriesBody struct {
	IntervalSeconds float64       `json:"intervalSeconds"`
	Thresholds      opsThresholds `json:"thresholds"`
	Samples         []opsSample   `json:"samples"`
}

// opsSeries returns the health figures sampled over the last ?minutes=
// minutes (default 5, at most what the series keeps), oldest first, with
// the seed's alert thresholds, for the operations dashboard (admin).
func (s *Server) opsSeries(w http.ResponseWriter, r *http.Request) error {
	b := opsSeriesBody{Samples: []opsSample{}, Thresholds: opsThresholds{P95Ms: alertP95Ms, ErrorRate: alertErrorRate,
		CacheHitRate: alertHitRate, QueueDepth: alertQueueDepth, MinRequests: minRequestsAlert, MinLookups: minLookupsAlert}}
	maxMinutes := 0
	if s.ops != nil {
		maxMinutes = max(1, int(s.ops.Span()/time.Minute))
		b.IntervalSeconds = s.ops.Interval().Seconds()
	}
	minutes := min(5, maxMinutes)
	if v := r.URL.Query().Get("minutes"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > max(1, maxMinutes) {
			return apperr.Invalid(map[string]string{"minutes": "must be a whole number from 1 to " + strconv.Itoa(max(1, maxMinutes))})
		}
		minutes = n
	}
	if s.ops != nil {
		for _, v := range s.ops.Last(time.Duration(minutes) * time.Minute) {
			b.Samples = append(b.Samples, opsSample{At: v.At.UTC(), RequestsPerSec: round(v.RequestsPerSec, 2),
				P50Ms: round(v.P50Ms, 2), P95Ms: round(v.P95Ms, 2), ErrorRate: round(v.ErrorRate, 4), WindowRequests: v.WindowRequests,
				WSConnections: v.WSConnections, DBInUse: v.DBInUse, DBWaiting: v.DBWaiting, DBMaxOpen: v.DBMaxOpen,
				DBExhausted: v.DBExhausted, CacheHitRate: round(v.CacheHitRate, 4), CacheLookups: v.CacheLookups, QueueDepth: v.QueueDepth})
		}
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, b)
	return nil
}
