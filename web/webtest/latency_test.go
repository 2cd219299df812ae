package webtest

import (
	"fmt"
	"slices"
	"testing"
)

// BenchmarkMessageToOtherBrowser: a message posted in one browser (a fetch
// from Ann's page, as the composer sends it) until it is in the DOM of
// Bob's page (a MutationObserver stamps it), over 200 messages one after
// another, on loopback. Both pages run in one Chromium and read the same
// clock (performance.timeOrigin + now()).
//
//	go test ./web/webtest -run '^$' -bench MessageToOtherBrowser -benchtime 1x -count 5
func BenchmarkMessageToOtherBrowser(b *testing.B) {
	const n = 200
	s := newSiteWith(b, map[string]string{"PLAZA_RATE_API": "off"})
	admin := s.admin("root")
	ch := s.channel(admin, "general")
	ann, bob := s.member("ann"), s.member("bob")
	a, o := newBrowser(b, s), newBrowser(b, s)
	a.signInAs(ann)
	o.signInAs(bob)
	a.open("/channels/" + itoa(ch))
	o.open("/channels/" + itoa(ch))
	a.waitText(`[data-testid=online-count]`, "2 online")
	eval[bool](o, `(() => {
		window.seen = {};
		new MutationObserver(() => {
			const t = performance.timeOrigin + performance.now();
			for (const e of document.querySelectorAll('.message-list .msg .body')) {
				const m = /^lat-(\d+)$/.exec(e.textContent.trim());
				if (m && !(m[1] in window.seen)) window.seen[m[1]] = t;
			}
		}).observe(document.querySelector('.message-list'), {childList: true, subtree: true});
		return true;
	})()`)

	var ms []float64
	next := 0 // message number, unique across rounds
	for b.Loop() {
		ms = ms[:0]
		for range n {
			i := next
			next++
			sent := eval[float64](a, fmt.Sprintf(`(() => {
				const t = performance.timeOrigin + performance.now();
				fetch('/api/community/channels/%d/messages', {method: 'POST', credentials: 'same-origin',
					headers: {'Content-Type': 'application/json', Accept: 'application/json'},
					body: JSON.stringify({body: 'lat-%d'})}).then(r => { if (!r.ok) console.error('post', r.status) });
				return t;
			})()`, ch, i))
			o.waitJS(fmt.Sprintf(`%d in window.seen`, i), "message %d in Bob's page", i)
			ms = append(ms, eval[float64](o, fmt.Sprintf(`window.seen[%d]`, i))-sent)
		}
	}
	slices.Sort(ms)
	q := func(p float64) float64 { return ms[min(len(ms)-1, int(p*float64(len(ms))))] }
	b.ReportMetric(q(0.50), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
	b.ReportMetric(0, "ns/op")
	b.Logf("%d messages: p50 %.1f ms, p99 %.1f ms, max %.1f ms", len(ms), q(0.50), q(0.99), ms[len(ms)-1])
}
