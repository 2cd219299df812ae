package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// slowConn is one attacker connection: headers announcing a 1 MB body,
// then the body one byte at a time.
type slowConn struct {
	c    net.Conn
	done chan int // the status it got, or 0 when the connection closed without one
}

func slowBodies(t *testing.T, addr, from string, n int, every time.Duration) []*slowConn {
	t.Helper()
	d := net.Dialer{}
	if from != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(from)}
	}
	var out []*slowConn
	for range n {
		c, err := d.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		sc := &slowConn{c: c, done: make(chan int, 1)}
		fmt.Fprintf(c, "POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n{")
		go func() {
			for {
				time.Sleep(every)
				if _, err := c.Write([]byte(" ")); err != nil {
					return
				}
			}
		}()
		go func() {
			res, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err != nil {
				sc.done <- 0
				return
			}
			res.Body.Close()
			sc.done <- res.StatusCode
		}()
		out = append(out, sc)
	}
	return out
}

// answered counts the connections that got an answer (or were closed)
// within wait, by status (0: closed without one).
func answered(conns []*slowConn, wait time.Duration) (held int, got map[int]int) {
	got = map[int]int{}
	deadline := time.Now().Add(wait)
	for _, c := range conns {
		var s int
		ok := false
		select {
		case s = <-c.done:
			ok = true
		default:
			if d := time.Until(deadline); d > 0 {
				select {
				case s = <-c.done:
					ok = true
				case <-time.After(d):
				}
			}
		}
		if !ok {
			held++
			continue
		}
		got[s]++
		c.done <- s // keep it for a later count
	}
	return held, got
}

// fresh sends one request on a new connection.
func fresh(t *testing.T, url, token string) (int, time.Duration) {
	t.Helper()
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 5 * time.Second}
	req, _ := http.NewRequest("GET", url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	start := time.Now()
	res, err := client.Do(req)
	if err != nil {
		return 0, time.Since(start)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode, time.Since(start)
}

// A slow-body flood: bodies are cut at PLAZA_BODY_TIMEOUT, connections past
// the limit are refused or shed with 503, /api/health keeps answering
// quickly throughout, and one address past PLAZA_MAX_CONNS_PER_IP is
// refused while others are served.
func TestSlowBodyFloodLeavesHealthAnswering(t *testing.T) {
	const token = "flood-test-metrics-token"
	in := startInstance(t, map[string]string{"PLAZA_BODY_TIMEOUT": "2s", "PLAZA_MAX_CONNECTIONS": "40",
		"PLAZA_MAX_CONNS_PER_IP": "10", "PLAZA_METRICS_TOKEN": token})
	http.DefaultClient.CloseIdleConnections()
	addr := strings.TrimPrefix(in.base, "http://")

	// From loopback (exempt from the per-address cap): 60 connections
	// against a limit of 40, of which the top 8 serve priority requests only.
	start := time.Now()
	flood := slowBodies(t, addr, "", 60, 100*time.Millisecond)
	time.Sleep(300 * time.Millisecond)
	held, got := answered(flood, 0)
	t.Logf("flood: %d held, answers %v", held, got)
	if held > 32 || got[503]+got[0] < 28 {
		t.Fatalf("attacker holds %d connections (answers %v); want at most 32", held, got)
	}
	for range 10 {
		code, d := fresh(t, in.base+"/api/health", "")
		if code != 200 || d > time.Second {
			t.Fatalf("health during the flood: %d in %v", code, d)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if code, _ := fresh(t, in.base+"/api/shouts", ""); code != 503 {
		t.Fatalf("ordinary request near the limit: %d, want 503", code)
	}
	if code, _ := fresh(t, in.base+"/metrics", token); code != 200 {
		t.Fatalf("metrics near the limit: %d", code)
	}
	// The held bodies are cut at the body timeout.
	held, got = answered(flood, 2*time.Second+3*time.Second-time.Since(start))
	if held > 0 || got[400]+got[408] < 1 {
		t.Fatalf("after the body timeout: %d still held, answers %v", held, got)
	}
	if code, _ := fresh(t, in.base+"/api/shouts", ""); code != 200 {
		t.Fatalf("after the flood: %d", code)
	}

	// From another loopback address (not exempt): 10 served, 5 refused.
	if c, err := (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}}).Dial("tcp", addr); err != nil {
		t.Skipf("cannot dial from 127.0.0.2: %v", err)
	} else {
		c.Close()
	}
	time.Sleep(100 * time.Millisecond) // let the server see that close
	one := slowBodies(t, addr, "127.0.0.2", 15, 100*time.Millisecond)
	time.Sleep(300 * time.Millisecond)
	held, got = answered(one, 0)
	if held != 10 || got[503]+got[0] != 5 {
		t.Fatalf("per-address cap: %d held, answers %v; want 10 held, 5 refused", held, got)
	}
	if code, d := fresh(t, in.base+"/api/health", ""); code != 200 || d > time.Second {
		t.Fatalf("health with one address at its cap: %d in %v", code, d)
	}
	_, body := metricsText(t, in.base, token)
	for _, want := range []string{`plaza_http_connections_refused_total{reason="per_ip"} 5`, "plaza_http_connections_max 40",
		"plaza_http_connections_open ", "plaza_http_connections_restricted_total "} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

func metricsText(t *testing.T, base, token string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", base+"/metrics", nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// PLAZA_METRICS_ADDR serves /metrics without a token on its own address;
// the API port wants the token.
func TestMetricsAddrServesMetrics(t *testing.T) {
	maddr := freeAddr(t)
	in := startInstance(t, map[string]string{"PLAZA_METRICS_ADDR": maddr})
	code, body := metricsText(t, "http://"+maddr, "")
	if code != 200 || !strings.Contains(body, "plaza_http_connections_open") || !strings.Contains(body, "go_goroutines") {
		t.Fatalf("metrics listener: %d %.200s", code, body)
	}
	if code, _ := metricsText(t, in.base, ""); code != 404 {
		t.Fatalf("API port without PLAZA_METRICS_TOKEN: %d, want 404", code)
	}
}
