package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestMain lets httpfloor start the test binary as its server, as it
// starts wsbench itself: `os.Args[0] httpfloor-serve ...`.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == "httpfloor-serve" {
		if err := command(os.Args[1], os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "httpfloor-serve:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// A short run at a low rate gets about the rate asked, every request
// answered, and the server's CPU, which cannot be zero.
func TestHTTPFloorMeasures(t *testing.T) {
	out := filepath.Join(t.TempDir(), "floor.json")
	err := httpFloor([]string{"--rate", "100", "--clients", "5", "--duration", "1500ms", "--post-share", "0.5", "--size", "300", "--json", out})
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var rep httpFloorReport
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	// 150 Poisson arrivals: a standard deviation of 8 %; the bounds leave
	// room for a busy box's late timers.
	if rep.RequestsPerSec < 60 || rep.RequestsPerSec > 140 {
		t.Errorf("%.1f req/s, asked 100", rep.RequestsPerSec)
	}
	if rep.Errors != 0 || rep.Requests == 0 || rep.Posts == 0 || rep.Posts == rep.Requests {
		t.Errorf("requests %d, posts %d, errors %d: want GETs and POSTs, none failed", rep.Requests, rep.Posts, rep.Errors)
	}
	if !(rep.ServerCPUSeconds > 0 && rep.ServerCores > 0 && rep.ServerMicrosPerRequest > 0) {
		t.Errorf("server CPU %gs, %g cores, %g µs a request: want above 0", rep.ServerCPUSeconds, rep.ServerCores, rep.ServerMicrosPerRequest)
	}
	if !(rep.P50ms > 0 && rep.P99ms >= rep.P50ms) {
		t.Errorf("latency p50 %g ms, p99 %g ms", rep.P50ms, rep.P99ms)
	}
}

// The server answers as a JSON API does: GETs 200 and POSTs 201, with the
// body's size and its Content-Type, and reads a POST's body.
func TestHTTPFloorServerAnswers(t *testing.T) {
	srv, err := startFloorServer("127.0.0.1:0", 500)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.stop()
	url := "http://" + srv.addr + "/api/items"
	for _, tc := range []struct {
		method string
		body   string
		want   int
	}{
		{http.MethodGet, "", http.StatusOK},
		{http.MethodPost, `{"body":"hello"}`, http.StatusCreated},
		{http.MethodPut, "", http.StatusMethodNotAllowed},
	} {
		req, _ := http.NewRequest(tc.method, url, strings.NewReader(tc.body))
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != tc.want {
			t.Errorf("%s: %s, want %d", tc.method, res.Status, tc.want)
			continue
		}
		if tc.want >= 300 {
			continue
		}
		if ct := res.Header.Get("Content-Type"); ct != "application/json" || len(b) != 500 || !json.Valid(b) {
			t.Errorf("%s: %q, %d bytes, valid JSON %v; want application/json, 500, true", tc.method, ct, len(b), json.Valid(b))
		}
	}
	if cpu, err := srv.cpu(); err != nil || cpu <= 0 {
		t.Errorf("server's CPU: %s, %v", cpu, err)
	}
}

func TestFloorAnswerSizes(t *testing.T) {
	t.Parallel()
	for _, size := range []int{minFloorAnswer, minFloorAnswer + 1, 100, 1200, 5000} {
		b, err := floorAnswer(size)
		if err != nil || len(b) != size || !json.Valid(b) {
			t.Errorf("floorAnswer(%d): %d bytes, valid %v, %v", size, len(b), json.Valid(b), err)
		}
	}
	if _, err := floorAnswer(minFloorAnswer - 1); err == nil {
		t.Errorf("floorAnswer(%d): no error", minFloorAnswer-1)
	}
}

func TestHTTPFloorRejectsBadFlags(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"--rate", "0"},
		{"--rate", "-5"},
		{"--rate", "NaN"},
		{"--clients", "0"},
		{"--duration", "0s"},
		{"--post-share", "1.5"},
		{"--post-share", "-0.1"},
		{"--size", "10"},
		{"--rate", "fast"},
		{"--no-such-flag"},
		{"stray"},
	} {
		if err := httpFloor(args); err == nil {
			t.Errorf("httpfloor %q: no error", args)
		}
	}
}
