// Package loadgen drives HTTP load for Plaza's benchmarks: a fixed number of
// closed-loop clients (each sends its next request when the previous answer
// arrives, as wrk does) for a fixed time, recording latency in an
// HdrHistogram and counting errors by kind.
package loadgen

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Config describes one run.
type Config struct {
	Clients  int
	Duration time.Duration
	// Request builds client c's next request; it must not be nil.
	Request func(c int) (*http.Request, error)
	// OK decides whether a response counts as success (default: 2xx).
	OK func(status int) bool
}

// Result is what a run measured.
type Result struct {
	Requests int64
	Errors   int64
	Kinds    map[string]int64 // error kind -> count
	Elapsed  time.Duration
	Latency  *hdrhistogram.Histogram // microseconds, successes and failures alike
}

// RPS is successful requests per second.
func (r Result) RPS() float64 { return float64(r.Requests-r.Errors) / r.Elapsed.Seconds() }

// ErrorRate is errors / requests.
func (r Result) ErrorRate() float64 {
	if r.Requests == 0 {
		return 0
	}
	return float64(r.Errors) / float64(r.Requests)
}

// Quantile returns the latency at q (0..100) in milliseconds.
func (r Result) Quantile(q float64) float64 { return float64(r.Latency.ValueAtQuantile(q)) / 1000 }

// TopErrors lists error kinds, most frequent first.
func (r Result) TopErrors(n int) string {
	type kv struct {
		k string
		v int64
	}
	var list []kv
	for k, v := range r.Kinds {
		list = append(list, kv{k, v})
	}
	sort.Slice(list, func(i, j int) bool { return list[i].v > list[j].v })
	var parts []string
	for i, e := range list {
		if i == n {
			break
		}
		parts = append(parts, fmt.Sprintf("%d× %s", e.v, e.k))
	}
	return strings.Join(parts, "; ")
}

// NewClient returns an HTTP client that keeps one connection per load client.
func NewClient(clients int) *http.Client {
	return &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
			MaxIdleConns:        clients,
			MaxIdleConnsPerHost: clients,
			MaxConnsPerHost:     clients,
			IdleConnTimeout:     90 * time.Second,
			DisableCompression:  true,
		},
	}
}

// Run drives the load and returns when Duration has passed (or ctx ends).
func Run(ctx context.Context, client *http.Client, cfg Config) Result {
	if cfg.OK == nil {
		cfg.OK = func(s int) bool { return s >= 200 && s < 300 }
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.Duration)
	defer cancel()
	type local struct {
		n, errs int64
		kinds   map[string]int64
		hist    *hdrhistogram.Histogram
	}
	locals := make([]local, cfg.Clients)
	var wg sync.WaitGroup
	start := time.Now()
	for c := range cfg.Clients {
		l := &locals[c]
		l.kinds = map[string]int64{}
		l.hist = hdrhistogram.New(1, 60_000_000, 3)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				req, err := cfg.Request(c)
				if err != nil {
					l.kinds["build: "+err.Error()]++
					l.errs++
					l.n++
					continue
				}
				t0 := time.Now()
				res, err := client.Do(req.WithContext(ctx))
				if err != nil {
					if ctx.Err() != nil {
						break // the run ended mid-request: not a server error
					}
					l.kinds[errKind(err)]++
					l.errs++
				} else {
					body, _ := io.ReadAll(res.Body)
					res.Body.Close()
					if !cfg.OK(res.StatusCode) {
						l.kinds[fmt.Sprintf("HTTP %d %s", res.StatusCode, firstLine(body))]++
						l.errs++
					}
				}
				l.n++
				l.hist.RecordValue(time.Since(t0).Microseconds())
			}
		}()
	}
	wg.Wait()
	r := Result{Kinds: map[string]int64{}, Elapsed: time.Since(start), Latency: hdrhistogram.New(1, 60_000_000, 3)}
	for _, l := range locals {
		r.Requests += l.n
		r.Errors += l.errs
		for k, v := range l.kinds {
			r.Kinds[k] += v
		}
		r.Latency.Merge(l.hist)
	}
	return r
}

func errKind(err error) string {
	s := err.Error()
	if i := strings.LastIndex(s, ": "); i >= 0 {
		s = s[i+2:]
	}
	return s
}

func firstLine(b []byte) string {
	s := string(b)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if len(s) > 120 {
		s = s[:120]
	}
	return s
}
