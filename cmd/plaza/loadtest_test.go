package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/plazahq/plaza/internal/loadtest"
)

// TestLoadtest prepares accounts in a server's data dir, runs a short load
// against it, and checks the report; a threshold no server can meet makes
// the command fail.
func TestLoadtest(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"PLAZA_DATA_DIR": dir}
	prep := filepath.Join(t.TempDir(), "prep.json")
	var out bytes.Buffer
	if err := run(context.Background(), []string{"loadtest", "prepare", "--users", "30", "--channels", "3", "--out", prep}, envMap(env), nil, &out, &out); err != nil {
		t.Fatalf("prepare: %v\n%s", err, out.String())
	}
	// /metrics wants the token; loadtest sends PLAZA_METRICS_TOKEN from its
	// own environment.
	metricsEnv := map[string]string{"PLAZA_METRICS_TOKEN": "loadtest-metrics-token"}
	in := startInstance(t, map[string]string{"PLAZA_DATA_DIR": dir, "PLAZA_METRICS_TOKEN": metricsEnv["PLAZA_METRICS_TOKEN"]})
	jsonOut := filepath.Join(t.TempDir(), "report.json")
	out.Reset()
	args := []string{"loadtest", "--target", in.base, "--prepared", prep, "--users", "30", "--ramp", "100", "--settle", "300ms", "--duration", "3s",
		"--mix", "read=1s,post=1s,dm=2s,profile=2s,shouts=2s,me=2s", "--json", jsonOut}
	if err := run(context.Background(), args, envMap(metricsEnv), nil, &out, &out); err != nil {
		t.Fatalf("loadtest: %v\n%s", err, out.String())
	}
	b, err := os.ReadFile(jsonOut)
	if err != nil {
		t.Fatal(err)
	}
	var rep loadtest.Report
	json.Unmarshal(b, &rep)
	if rep.Users != 30 || rep.All.Requests < 50 || rep.Deliveries == 0 || rep.Missed != 0 || rep.OutOfOrder != 0 ||
		rep.Connected != 30 || len(rep.Routes) < 5 || rep.All.Errors != 0 || rep.Targets[0].WSConnections != 30 {
		t.Fatalf("report %+v\n%s", rep, out.String())
	}
	// The steady state starts when every user is connected (0.3 s at
	// 100/s) and 0.3 s more have passed; it holds most of the run.
	if st := rep.Steady; st.FromSeconds < 0.5 || st.FromSeconds > 10 || st.Requests == 0 || st.Requests >= rep.All.Requests ||
		st.Deliveries == 0 || st.Deliveries > rep.Deliveries || st.P95ms <= 0 {
		t.Fatalf("steady state %+v of %+v", st, rep.All)
	}
	if !strings.Contains(out.String(), "users 30/30 connected") && !strings.Contains(out.String(), "Thresholds: all met") {
		t.Fatalf("output:\n%s", out.String())
	}
	// A p95 of one microsecond cannot be met: exit non-zero, say why.
	out.Reset()
	err = run(context.Background(), append(args[:len(args)-2], "--p95", "1us"), envMap(metricsEnv), nil, &out, &out)
	if err == nil || !strings.Contains(err.Error(), "p95") {
		t.Fatalf("impossible threshold: %v", err)
	}
}

func TestParseMix(t *testing.T) {
	m, err := loadtest.ParseMix("post=10s,dm=off")
	if err != nil || m.Post.Seconds() != 10 || m.DM != 0 || m.ReadHistory != loadtest.DefaultMix.ReadHistory {
		t.Fatalf("%+v %v", m, err)
	}
	for _, bad := range []string{"post", "post=fast", "dance=1s", "post=-1s"} {
		if _, err := loadtest.ParseMix(bad); err == nil {
			t.Errorf("ParseMix(%q) accepted", bad)
		}
	}
}
