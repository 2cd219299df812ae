package loadtest

import (
	"strings"
	"testing"
)

// TestPrintSaysWhenNothingWasMeasured: a steady state with no deliveries
// (or no requests) says so, rather than printing latencies of 0.0 ms.
func TestPrintSaysWhenNothingWasMeasured(t *testing.T) {
	var rep Report
	rep.Steady.Requests, rep.Steady.P95ms = 120, 8.5
	var b strings.Builder
	rep.Print(&b)
	out := b.String()
	if !strings.Contains(out, "120 requests, HTTP p50 0.0 ms p95 8.5 ms") || !strings.Contains(out, "no deliveries (no latency figures)") {
		t.Fatalf("steady-state line:\n%s", out)
	}
	rep.Steady.Deliveries, rep.Steady.DeliveryP99 = 40, 12.25
	b.Reset()
	rep.Print(&b)
	if !strings.Contains(b.String(), "; 40 deliveries, p50 0.0 ms p99 12.2 ms") {
		t.Fatalf("steady-state line:\n%s", b.String())
	}
}
