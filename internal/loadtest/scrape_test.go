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

// TestSteadyCostFromMetrics: the steady-state cost is the server's own CPU
// between two readings over the requests and deliveries it counted
// between them; labelled request counters are summed.
func TestSteadyCostFromMetrics(t *testing.T) {
	var body string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(body)) }))
	defer srv.Close()
	body = "process_cpu_seconds_total 10\n" +
		`plaza_http_requests_total{code="200",method="GET",route="/api/a"} 100` + "\n" +
		`plaza_http_requests_total{code="404",method="POST",route="/api/b c"} 50` + "\n" +
		"plaza_ws_delivered_total 1000\n" +
		"plaza_ws_writes_total 500\n"
	from := scrape(srv.URL, "")
	if from.Err != "" || from.Requests != 150 || from.Delivered != 1000 || from.CPUSeconds != 10 {
		t.Fatalf("first reading: %+v", from)
	}
	body = "process_cpu_seconds_total 14\n" +
		`plaza_http_requests_total{code="200",method="GET",route="/api/a"} 2100` + "\n" +
		`plaza_http_requests_total{code="404",method="POST",route="/api/b c"} 2050` + "\n" +
		"plaza_ws_delivered_total 9000\n" +
		"plaza_ws_writes_total 2500\n"
	to := scrape(srv.URL, "")
	rep := &Report{Targets: []TargetReport{{Target: srv.URL}}}
	rep.costs([]metrics{from}, []metrics{to}, 8)
	c := rep.Targets[0].Steady
	if c == nil || c.CPUSeconds != 4 || c.CPUCores != 0.5 || c.Requests != 4000 || c.Deliveries != 8000 ||
		c.CPUPer1kReq != 1 || c.CPUPer1kDeliver != 0.5 || c.Writes != 2000 || c.FramesPerWrite != 4 {
		t.Fatalf("cost: %+v", c)
	}
	// A reading that failed gives no cost rather than a wrong one.
	rep = &Report{Targets: []TargetReport{{Target: srv.URL}}}
	rep.costs([]metrics{{Err: "down"}}, []metrics{to}, 8)
	if rep.Targets[0].Steady != nil {
		t.Fatalf("cost from a failed reading: %+v", rep.Targets[0].Steady)
	}
}

// TestEphemeralFrames: the generator skips typing and presence frames
// without decoding them, and only them.
func TestEphemeralFrames(t *testing.T) {
	for frame, want := range map[string]bool{
		`{"op":"event","room":"channel:3","seq":0,"type":"typing","ts":1,"data":{"userId":4}}`:                true,
		`{"op":"event","room":"chat","seq":0,"type":"presence","ts":1,"data":{"joined":[1],"left":[]}}`:       true,
		`{"op":"event","room":"channel:3","seq":10,"type":"message.created","ts":1,"data":{"body":"lt:1 x"}}`: false,
		`{"op":"event","room":"channel:3","seq":0","type":"x"}`:                                               false,
		`{"op":"subscribed","room":"channel:3","seq":0,"online":[1]}`:                                         false,
		`{"op":"event","room":"channel:3","seq":12,"type":"message.created","data":{"seq":0,"body":"x"}}`:     false,
		`{"op":"event","room":"channel:3`:                                                                     false,
		``:                                                                                                    false,
	} {
		if got := ephemeral([]byte(frame)); got != want {
			t.Errorf("ephemeral(%s) = %v, want %v", frame, got, want)
		}
	}
}
