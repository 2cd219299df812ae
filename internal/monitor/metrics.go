package monitor

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics is Plaza's Prometheus registry and the request window.
type Metrics struct {
	Registry *prometheus.Registry
	Window   *Window
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	limited  *prometheus.CounterVec
	handler  http.Handler
}

// NewMetrics returns a registry with the Go and process collectors and
// Plaza's request metrics.
func NewMetrics(now func() time.Time) *Metrics {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m := &Metrics{
		Registry: reg,
		Window:   NewWindow(now),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "plaza_http_requests_total", Help: "HTTP requests by route pattern, method and status.",
		}, []string{"route", "method", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "plaza_http_request_duration_seconds", Help: "HTTP request latency by route pattern and status class.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route", "code"}),
		limited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "plaza_ratelimit_rejections_total", Help: "Requests refused with 429, by rate-limit tier.",
		}, []string{"tier"}),
	}
	reg.MustRegister(m.requests, m.latency, m.limited)
	// The transport compresses (and says so in Vary); promhttp would
	// negotiate a second time and add a second Vary: Accept-Encoding.
	m.handler = promhttp.HandlerFor(reg, promhttp.HandlerOpts{DisableCompression: true})
	return m
}

// ObserveRequest records one finished request. fault says the server
// failed (apperr.Fault: a 5xx that is not a documented refusal such as
// ai_disabled); only faults count toward the window's error rate, so no
// client can raise the alert by asking for a feature that is switched off.
func (m *Metrics) ObserveRequest(route, method string, status int, fault bool, d time.Duration) {
	code := strconv.Itoa(status)
	m.requests.WithLabelValues(route, method, code).Inc()
	m.latency.WithLabelValues(route, code[:1]+"xx").Observe(d.Seconds())
	m.Window.Observe(d, fault)
}

// RateLimited counts a 429 in tier.
func (m *Metrics) RateLimited(tier string) { m.limited.WithLabelValues(tier).Inc() }

// Gauge registers a gauge read from f at scrape time.
func (m *Metrics) Gauge(name, help string, labels prometheus.Labels, f func() float64) {
	m.Registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help, ConstLabels: labels}, f))
}

// Counter registers a counter read from f at scrape time.
func (m *Metrics) Counter(name, help string, labels prometheus.Labels, f func() float64) {
	m.Registry.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help, ConstLabels: labels}, f))
}

// Handler serves the registry in the Prometheus text format, uncompressed.
func (m *Metrics) Handler() http.Handler { return m.handler }
