package loadtest

import (
	"cmp"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// RouteReport is one route's figures.
type RouteReport struct {
	Route    string  `json:"route"`
	Requests int64   `json:"requests"`
	PerSec   float64 `json:"perSec"`
	P50ms    float64 `json:"p50ms"`
	P95ms    float64 `json:"p95ms"`
	P99ms    float64 `json:"p99ms"`
	MaxMs    float64 `json:"maxMs"`
	Errors   int64   `json:"errors"`
	Limited  int64   `json:"limited429"`
}

// TargetReport is what one server's /metrics said.
type TargetReport struct {
	Target        string  `json:"target"`
	CPUCores      float64 `json:"cpuCores"` // average over the run
	RSSMB         float64 `json:"rssMB"`    // at the end of the run
	Goroutines    float64 `json:"goroutines"`
	WSConnections float64 `json:"wsConnections"`
	OpenFDs       float64 `json:"openFds"`
	MetricsError  string  `json:"metricsError,omitempty"` // why /metrics could not be read
	Steady        *Cost   `json:"steadyCost,omitempty"`   // the server's cost in the steady state
}

// Cost is what a server spent in the steady state, from its own /metrics
// (process_cpu_seconds_total, plaza_http_requests_total,
// plaza_ws_delivered_total) read as the steady state starts and just
// before it ends. CPU per unit of work is what the machine's noise barely
// moves: a busy neighbour slows the server's answers, not its CPU per
// delivery.
type Cost struct {
	Seconds         float64 `json:"seconds"`    // between the two readings
	CPUCores        float64 `json:"cpuCores"`   // average over them
	CPUSeconds      float64 `json:"cpuSeconds"` // spent between them
	Requests        float64 `json:"requests"`   // HTTP requests the server counted
	Deliveries      float64 `json:"deliveries"` // event frames it queued to subscribers
	Writes          float64 `json:"writes"`     // socket writes those frames took (plaza_ws_writes_total)
	FramesPerWrite  float64 `json:"framesPerWrite,omitempty"`
	CPUPer1kReq     float64 `json:"cpuSecondsPer1000Requests"`
	CPUPer1kDeliver float64 `json:"cpuSecondsPer1000Deliveries"`
}

// costs fills each target's steady-state cost from its readings at the
// start of the steady state (from) and just before its end (to), secs apart.
func (rep *Report) costs(from, to []metrics, secs float64) {
	for i := range rep.Targets {
		if i >= len(from) || i >= len(to) || from[i].Err != "" || to[i].Err != "" || secs <= 0 {
			continue
		}
		c := &Cost{Seconds: secs, CPUSeconds: to[i].CPUSeconds - from[i].CPUSeconds,
			Requests: to[i].Requests - from[i].Requests, Deliveries: to[i].Delivered - from[i].Delivered,
			Writes: to[i].Writes - from[i].Writes}
		c.CPUCores = c.CPUSeconds / secs
		if c.Requests > 0 {
			c.CPUPer1kReq = 1000 * c.CPUSeconds / c.Requests
		}
		if c.Deliveries > 0 {
			c.CPUPer1kDeliver = 1000 * c.CPUSeconds / c.Deliveries
		}
		if c.Writes > 0 {
			c.FramesPerWrite = c.Deliveries / c.Writes
		}
		rep.Targets[i].Steady = c
	}
}

// SteadyReport is the run once every user is connected and the settle
// time has passed: the connection storm of the ramp is over. Latencies
// count what was scheduled (HTTP) or sent (delivery) from then.
type SteadyReport struct {
	FromSeconds float64 `json:"fromSeconds"` // since the start of the run
	Requests    int64   `json:"requests"`
	P50ms       float64 `json:"p50ms"`
	P95ms       float64 `json:"p95ms"`
	P99ms       float64 `json:"p99ms"`
	Deliveries  int64   `json:"deliveries"`
	DeliveryP50 float64 `json:"deliveryP50ms"`
	DeliveryP99 float64 `json:"deliveryP99ms"`
}

// Report is a run's outcome.
type Report struct {
	Users        int              `json:"users"`
	Seconds      float64          `json:"seconds"`
	Mix          Mix              `json:"mix"`
	Routes       []RouteReport    `json:"routes"`
	All          RouteReport      `json:"all"`
	Steady       SteadyReport     `json:"steady"`
	ErrorRate    float64          `json:"errorRate"`
	Connected    int64            `json:"connectedAtEnd"`
	ConnectFails int64            `json:"connectFailures"`
	ConnectP50ms float64          `json:"wsConnectP50ms"`
	ConnectP99ms float64          `json:"wsConnectP99ms"`
	Deliveries   int64            `json:"deliveries"`
	DeliveryP50  float64          `json:"deliveryP50ms"`
	DeliveryP99  float64          `json:"deliveryP99ms"`
	DeliveryMax  float64          `json:"deliveryMaxMs"`
	Missed       int64            `json:"missedEvents"`
	OutOfOrder   int64            `json:"outOfOrder"`
	Duplicates   int64            `json:"duplicates"`
	Resyncs      int64            `json:"resyncs"` // the server said a room's missed events are gone: refetch
	Disconnects  int64            `json:"disconnects"`
	Targets      []TargetReport   `json:"targets"`
	Breaches     []string         `json:"breaches"`
	ErrorKinds   map[string]int64 `json:"errorKinds,omitempty"` // failed requests by what they failed with
	Generator    *GeneratorCost   `json:"generatorCost,omitempty"`
	HTTPConns    int64            `json:"httpConnectionsOpened"` // by the generator, the whole run
}

// GeneratorCost is what the load generator itself spent in the steady
// state (it shares the machine with the servers in most runs): its CPU,
// per 1,000 requests it had answered and per 1,000 WebSocket frames it
// received. Like the servers' Cost, each divides the whole CPU by one
// count.
type GeneratorCost struct {
	Seconds        float64 `json:"seconds"`
	CPUCores       float64 `json:"cpuCores"`
	CPUSeconds     float64 `json:"cpuSeconds"`
	Requests       int64   `json:"requests"`
	Frames         int64   `json:"frames"`
	Dials          int64   `json:"httpConnectionsOpened"`
	CPUPer1kReq    float64 `json:"cpuSecondsPer1000Requests"`
	CPUPer1kFrames float64 `json:"cpuSecondsPer1000Frames"`
}

// genCost is the generator's cost between two of its own readings; nil
// when its CPU cannot be read here.
func genCost(from, to genSample) *GeneratorCost {
	secs := to.at.Sub(from.at).Seconds()
	if !from.cpuOK || !to.cpuOK || secs <= 0 {
		return nil
	}
	c := &GeneratorCost{Seconds: secs, CPUSeconds: (to.cpu - from.cpu).Seconds(), Requests: to.requests - from.requests, Frames: to.frames - from.frames,
		Dials: to.dials - from.dials}
	c.CPUCores = c.CPUSeconds / secs
	if c.Requests > 0 {
		c.CPUPer1kReq = 1000 * c.CPUSeconds / float64(c.Requests)
	}
	if c.Frames > 0 {
		c.CPUPer1kFrames = 1000 * c.CPUSeconds / float64(c.Frames)
	}
	return c
}

func ms(h *hdrhistogram.Histogram, q float64) float64 { return float64(h.ValueAtQuantile(q)) / 1000 }

func summarize(name string, h *hdrhistogram.Histogram, count, errs, limited int64, secs float64) RouteReport {
	return RouteReport{Route: name, Requests: count, PerSec: float64(count) / secs, P50ms: ms(h, 50), P95ms: ms(h, 95),
		P99ms: ms(h, 99), MaxMs: float64(h.Max()) / 1000, Errors: errs, Limited: limited}
}

func (r *run) report(before, peak []metrics) *Report {
	secs := time.Since(r.start).Seconds()
	rep := &Report{Users: r.cfg.Users, Seconds: secs, Mix: r.cfg.Mix, Breaches: []string{}}
	r.mu.Lock()
	all, steady := newHist(), newHist()
	var count, errs, limited int64
	for _, name := range r.sortedRoutes() {
		rt := r.routes[name]
		rep.Routes = append(rep.Routes, summarize(name, rt.hist, rt.count, rt.errs, rt.l429, secs))
		all.Merge(rt.hist)
		steady.Merge(rt.steady)
		count, errs, limited = count+rt.count, errs+rt.errs, limited+rt.l429
	}
	if len(r.errKinds) > 0 {
		rep.ErrorKinds = maps.Clone(r.errKinds)
	}
	r.mu.Unlock()
	if from := r.steadyFrom.Load(); from != 0 {
		rep.Steady.FromSeconds = time.Unix(0, from).Sub(r.start).Seconds()
	}
	rep.Steady.Requests, rep.Steady.P50ms, rep.Steady.P95ms, rep.Steady.P99ms = steady.TotalCount(), ms(steady, 50), ms(steady, 95), ms(steady, 99)
	rep.All = summarize("all routes", all, count, errs, limited, secs)
	if count > 0 {
		rep.ErrorRate = float64(errs) / float64(count)
	}
	r.connMu.Lock()
	rep.ConnectP50ms, rep.ConnectP99ms = ms(r.connects, 50), ms(r.connects, 99)
	r.connMu.Unlock()
	d, ds := r.deliveryHists()
	rep.Deliveries, rep.DeliveryP50, rep.DeliveryP99, rep.DeliveryMax = r.deliveries.Load(), ms(d, 50), ms(d, 99), float64(d.Max())/1000
	rep.Steady.Deliveries, rep.Steady.DeliveryP50, rep.Steady.DeliveryP99 = ds.TotalCount(), ms(ds, 50), ms(ds, 99)
	rep.Connected, rep.ConnectFails = r.connected.Load(), r.connectFails.Load()
	rep.Missed, rep.OutOfOrder, rep.Duplicates, rep.Disconnects = r.gaps.Load(), r.outOfOrder.Load(), r.duplicates.Load(), r.disconnects.Load()
	rep.Resyncs, rep.HTTPConns = r.resyncs.Load(), r.dials.Load()
	for i, t := range r.cfg.Targets {
		rep.Targets = append(rep.Targets, TargetReport{Target: t, CPUCores: (peak[i].CPUSeconds - before[i].CPUSeconds) / secs,
			RSSMB: peak[i].RSSBytes / (1 << 20), Goroutines: peak[i].Goroutines, WSConnections: peak[i].WSConns, OpenFDs: peak[i].OpenFDs,
			MetricsError: cmp.Or(peak[i].Err, before[i].Err)})
	}
	// The seed's alert thresholds, and nothing lost.
	if r.cfg.P95 > 0 && rep.All.P95ms > float64(r.cfg.P95.Milliseconds()) {
		rep.Breaches = append(rep.Breaches, fmt.Sprintf("HTTP p95 %.1f ms is above %s", rep.All.P95ms, r.cfg.P95))
	}
	if rep.ErrorRate > r.cfg.ErrorRate {
		rep.Breaches = append(rep.Breaches, fmt.Sprintf("error rate %.2f%% is above %.2f%%", 100*rep.ErrorRate, 100*r.cfg.ErrorRate))
	}
	if rep.Missed+rep.OutOfOrder > 0 {
		rep.Breaches = append(rep.Breaches, fmt.Sprintf("%d missed and %d out-of-order events", rep.Missed, rep.OutOfOrder))
	}
	if rep.ConnectFails > 0 {
		rep.Breaches = append(rep.Breaches, fmt.Sprintf("%d WebSocket connections failed", rep.ConnectFails))
	}
	return rep
}

// Print writes the report as a table.
func (rep *Report) Print(w io.Writer) {
	fmt.Fprintf(w, "\n%d users for %.0f s\n\n", rep.Users, rep.Seconds)
	fmt.Fprintf(w, "%-48s %8s %7s %8s %8s %8s %8s %6s %5s\n", "route", "requests", "req/s", "p50 ms", "p95 ms", "p99 ms", "max ms", "errors", "429")
	for _, r := range append(rep.Routes, rep.All) {
		fmt.Fprintf(w, "%-48s %8d %7.1f %8.1f %8.1f %8.1f %8.1f %6d %5d\n", r.Route, r.Requests, r.PerSec, r.P50ms, r.P95ms, r.P99ms, r.MaxMs, r.Errors, r.Limited)
	}
	if len(rep.ErrorKinds) > 0 {
		kinds := slices.Sorted(maps.Keys(rep.ErrorKinds))
		parts := make([]string, len(kinds))
		for i, k := range kinds {
			parts[i] = fmt.Sprintf("%s: %d", k, rep.ErrorKinds[k])
		}
		fmt.Fprintf(w, "Errors by kind: %s\n", strings.Join(parts, "; "))
	}
	fmt.Fprintf(w, "\nHTTP connections opened: %d\n", rep.HTTPConns)
	fmt.Fprintf(w, "WebSocket: %d connected at the end, %d failed to connect, connect p50 %.1f ms p99 %.1f ms, %d unexpected disconnects\n",
		rep.Connected, rep.ConnectFails, rep.ConnectP50ms, rep.ConnectP99ms, rep.Disconnects)
	fmt.Fprintf(w, "Delivery (post -> each subscriber): %d, p50 %.1f ms, p99 %.1f ms, max %.1f ms\n", rep.Deliveries, rep.DeliveryP50, rep.DeliveryP99, rep.DeliveryMax)
	fmt.Fprintf(w, "Events missed %d, out of order %d, duplicated %d; resyncs asked by the server %d\n", rep.Missed, rep.OutOfOrder, rep.Duplicates, rep.Resyncs)
	st := rep.Steady
	fmt.Fprintf(w, "Steady state (from %.1f s: everyone connected, then the settle time): %s; %s\n", st.FromSeconds,
		counted(st.Requests, "requests", fmt.Sprintf("HTTP p50 %.1f ms p95 %.1f ms p99 %.1f ms", st.P50ms, st.P95ms, st.P99ms)),
		counted(st.Deliveries, "deliveries", fmt.Sprintf("p50 %.1f ms p99 %.1f ms", st.DeliveryP50, st.DeliveryP99)))
	for _, t := range rep.Targets {
		if t.MetricsError != "" {
			fmt.Fprintf(w, "Server %s: /metrics not read (%s)\n", t.Target, t.MetricsError)
			continue
		}
		fmt.Fprintf(w, "Server %s: CPU %.2f cores, RSS %.0f MB, %.0f goroutines, %.0f WebSockets, %.0f open files\n",
			t.Target, t.CPUCores, t.RSSMB, t.Goroutines, t.WSConnections, t.OpenFDs)
		if c := t.Steady; c != nil {
			fmt.Fprintf(w, "  steady state (%.1f s): CPU %.2f cores; %.0f requests, %.0f deliveries in %.0f socket writes (%.2f a write); %.3f CPU-s per 1,000 requests, %.3f CPU-s per 1,000 deliveries\n",
				c.Seconds, c.CPUCores, c.Requests, c.Deliveries, c.Writes, c.FramesPerWrite, c.CPUPer1kReq, c.CPUPer1kDeliver)
		}
	}
	if c := rep.Generator; c != nil {
		fmt.Fprintf(w, "Load generator, steady state (%.1f s): CPU %.2f cores; %d requests, %d frames received, %d HTTP connections opened; %.3f CPU-s per 1,000 requests, %.4f CPU-s per 1,000 frames\n",
			c.Seconds, c.CPUCores, c.Requests, c.Frames, c.Dials, c.CPUPer1kReq, c.CPUPer1kFrames)
	}
	if len(rep.Breaches) == 0 {
		fmt.Fprintln(w, "\nThresholds: all met (HTTP p95, error rate, no missed events).")
		return
	}
	fmt.Fprintln(w, "\nThresholds breached:\n  - "+strings.Join(rep.Breaches, "\n  - "))
}

// counted is "n what, figures", or "no what (no figures)" when nothing was
// measured: a latency of 0.0 ms over no samples reads like a good one.
func counted(n int64, what, figures string) string {
	if n == 0 {
		return "no " + what + " (no latency figures)"
	}
	return fmt.Sprintf("%d %s, %s", n, what, figures)
}
