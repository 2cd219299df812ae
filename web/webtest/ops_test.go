package webtest

import (
	"strings"
	"testing"
)

// The operations dashboard draws a chart per figure from the sampled
// series, with the seed's alert thresholds, and lists the current alerts.
func TestOpsDashboardDrawsItsCharts(t *testing.T) {
	s := newSite(t)
	admin := s.admin("root")
	b := newBrowser(t, s)
	b.signInAs(admin)
	b.open("/admin/ops")
	b.waitText("h1", "Operations")
	b.waitText("[role=status]", "no alerts")
	// The page polls every 2 s and the server samples every 2 s: wait for
	// lines of at least two points.
	b.waitJS(`document.querySelectorAll('svg[data-chart] path.series').length === 9 &&
		[...document.querySelectorAll('svg[data-chart] path.series')].every(p => /^M[\d.]+ [\d.]+ L/.test(p.getAttribute('d')))`,
		"nine lines of two points or more in the charts")

	charts := eval[[]string](b, `[...document.querySelectorAll('svg[data-chart]')].map(s => s.dataset.chart)`)
	if got := strings.Join(charts, ","); got != "rps,latency,errors,ws,db,cache,queue" {
		t.Fatalf("charts %s", got)
	}
	// Thresholds: drawn inside the chart at the seed's values.
	th := eval[map[string]float64](b, `Object.fromEntries([...document.querySelectorAll('svg[data-chart]')]
		.filter(s => s.querySelector('line.threshold'))
		.map(s => { const l = s.querySelector('line.threshold'); const y = +l.getAttribute('y1');
			if (!(y > 0 && y < 120)) throw new Error(s.dataset.chart + ' threshold outside the chart: ' + y);
			return [s.dataset.chart, +l.dataset.threshold] }))`)
	want := map[string]float64{"latency": 500, "errors": 0.01, "cache": 0.7, "queue": 100}
	for k, v := range want {
		if th[k] != v {
			t.Errorf("%s threshold %v, want %v (all: %v)", k, th[k], v, th)
		}
	}
	if th["db"] <= 0 {
		t.Errorf("no pool size drawn on the database chart: %v", th)
	}
	// The text alternative: each chart is named by its summary, and the table
	// holds the samples.
	b.waitText("figcaption", "p95 alert above 500 ms")
	if n := eval[int](b, `[...document.querySelectorAll('svg[data-chart]')].filter(s => document.getElementById(s.getAttribute('aria-labelledby'))?.textContent.includes('now:')).length`); n != 7 {
		t.Fatalf("%d charts have a text summary, want 7", n)
	}
	if n := eval[int](b, `document.querySelectorAll('.ops-table tbody tr').length`); n < 2 {
		t.Fatalf("%d rows of samples", n)
	}
	noPageErrors(t, b)
}
