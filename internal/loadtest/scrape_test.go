package loadtest

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestScrapeSendsTheMetricsToken: /metrics on the API port answers only to
// PLAZA_METRICS_TOKEN; without it the report says why figures are missing.
func TestScrapeSendsTheMetricsToken(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/metrics" || r.Header.Get("Authorization") != "Bearer s3cret" {
			http.NotFound(w, r)
			return
		}
		w.Write([]byte("# HELP x\nprocess_cpu_seconds_total 12.5\nprocess_resident_memory_bytes 1048576\ngo_goroutines 40\nplaza_ws_connections 7\nprocess_open_fds 30\n"))
	}))
	defer srv.Close()
	m := scrape(srv.URL, "s3cret")
	if m.Err != "" || m.CPUSeconds != 12.5 || m.RSSBytes != 1<<20 || m.Goroutines != 40 || m.WSConns != 7 || m.OpenFDs != 30 {
		t.Fatalf("with the token: %+v", m)
	}
	m = scrape(srv.URL, "")
	if m.WSConns != 0 || !strings.Contains(m.Err, "404") || !strings.Contains(m.Err, "PLAZA_METRICS_TOKEN") {
		t.Fatalf("without the token: %+v", m)
	}
	m = scrape(srv.URL, "wrong")
	if m.WSConns != 0 || !strings.Contains(m.Err, "404") {
		t.Fatalf("with a wrong token: %+v", m)
	}
}
