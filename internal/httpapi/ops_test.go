package httpapi_test

import (
	"testing"
	"time"

	"github.com/plazahq/plaza/internal/httpapi"
	"github.com/plazahq/plaza/internal/monitor"
	"github.com/plazahq/plaza/internal/sqldb"
	"github.com/plazahq/plaza/internal/sqldb/sqldbtest"
)

func TestOpsSeries(t *testing.T) {
	var ops *monitor.Series
	e := newEnv(t, sqldbtest.OpenSQLite(t, sqldb.Config{}), withHTTP(func(_ *httpapi.Config, d *httpapi.Deps) { ops = d.Ops }))
	adminTok, _ := e.admin("boss")
	userTok, _ := e.signup("ivy")

	e.must(401, e.do("GET", "/api/admin/ops/series", nil, ""))
	e.must(403, e.do("GET", "/api/admin/ops/series", nil, userTok))
	for _, bad := range []string{"0", "-1", "abc", "11", "1.5"} {
		if r := e.must(422, e.do("GET", "/api/admin/ops/series?minutes="+bad, nil, adminTok)); r.code() != "validation_failed" {
			t.Errorf("minutes=%s: code %s", bad, r.code())
		}
	}

	ops.Record()
	for range 10 {
		e.must(200, e.do("GET", "/api/health", nil, ""))
	}
	e.must(404, e.do("GET", "/api/users/999999", nil, adminTok)) // counted, though not an error: only 5xx are
	e.clock.Advance(2 * time.Second)
	ops.Record()

	var got struct {
		IntervalSeconds float64
		Thresholds      struct{ P95Ms, ErrorRate, CacheHitRate, QueueDepth float64 }
		Samples         []struct {
			At             time.Time
			RequestsPerSec float64
			P95Ms          float64
			ErrorRate      float64
			WindowRequests int64
			DBMaxOpen      int
		}
	}
	e.must(200, e.do("GET", "/api/admin/ops/series?minutes=1", nil, adminTok)).json(&got)
	if got.IntervalSeconds != 2 || got.Thresholds.P95Ms != 500 || got.Thresholds.ErrorRate != 0.01 ||
		got.Thresholds.CacheHitRate != 0.7 || got.Thresholds.QueueDepth != 100 {
		t.Fatalf("interval %v, thresholds %+v", got.IntervalSeconds, got.Thresholds)
	}
	if len(got.Samples) < 3 { // the one taken at start and the two above
		t.Fatalf("%d samples, want at least 3", len(got.Samples))
	}
	busiest := 0.0
	for i, s := range got.Samples {
		busiest = max(busiest, s.RequestsPerSec)
		if i > 0 && !s.At.After(got.Samples[i-1].At) {
			t.Fatalf("samples out of order: %v then %v", got.Samples[i-1].At, s.At)
		}
	}
	last := got.Samples[len(got.Samples)-1]
	if busiest <= 0 || last.WindowRequests < 11 || last.P95Ms <= 0 || last.DBMaxOpen <= 0 {
		t.Fatalf("busiest %v requests/s, last sample %+v", busiest, last)
	}

	// Samples older than ?minutes= are left out.
	e.clock.Advance(90 * time.Second)
	ops.Record()
	e.must(200, e.do("GET", "/api/admin/ops/series?minutes=1", nil, adminTok)).json(&got)
	if len(got.Samples) != 1 {
		t.Fatalf("after 90 s, the last minute holds %d samples, want 1", len(got.Samples))
	}
}
