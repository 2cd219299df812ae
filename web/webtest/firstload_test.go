package webtest

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// firstLoadBudget is the most a first visit may transfer for the app
// itself (index.html, scripts, styles, icon), compressed.
const firstLoadBudget = 150 << 10

// transfer counts the bytes on the wire per URL, as Chromium reports them
// (headers and compressed bodies).
type transfer struct {
	mu    sync.Mutex
	url   map[network.RequestID]string
	bytes map[string]float64
}

func watchTransfer(t *testing.T, b *browser) *transfer {
	tr := &transfer{url: map[network.RequestID]string{}, bytes: map[string]float64{}}
	err := chromedp.Listen(b.ctx, func(ev any) {
		tr.mu.Lock()
		defer tr.mu.Unlock()
		switch e := ev.(type) {
		case *network.EventRequestWillBeSent:
			tr.url[e.RequestID] = e.Request.URL
		case *network.EventLoadingFinished:
			tr.bytes[tr.url[e.RequestID]] += e.EncodedDataLength
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	disabled := true
	b.run(chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Call(ctx, network.SetCacheDisabled, network.SetCacheDisabledParams{CacheDisabled: disabled})
		return err
	}))
	return tr
}

// split sums the app's own files and the API's answers.
func (tr *transfer) split(base string) (app, api float64, lines []string) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	for u, n := range tr.bytes {
		p := strings.TrimPrefix(u, base)
		if strings.HasPrefix(p, "/api/") {
			api += n
		} else {
			app += n
		}
		lines = append(lines, fmt.Sprintf("%8.0f  %s", n, p))
	}
	sort.Strings(lines)
	return app, api, lines
}

// TestFirstLoadWithinBudget opens the sign-in page and a channel in a
// fresh browser (cache off) and checks what the app itself transferred.
// Its log is the figure in BENCHMARKS.md:
//
//	go test ./web/webtest -run TestFirstLoadWithinBudget -v
func TestFirstLoadWithinBudget(t *testing.T) {
	s := newSite(t)
	admin := s.admin("root")
	ch := s.channel(admin, "general")
	ann := s.member("ann")
	for i := range 30 {
		s.post(ann, ch, fmt.Sprintf("message %d: a line of chat of an ordinary length, like people write", i))
	}
	for _, page := range []struct {
		name, path string
		signedIn   bool
		ready      string
	}{
		{"sign-in", "/sign-in", false, "#f-login"},
		{"channel", "/channels/" + itoa(ch), true, ".message-list .msg"},
	} {
		b := newBrowser(t, s)
		if page.signedIn {
			b.signInAs(ann)
		}
		tr := watchTransfer(t, b)
		b.open(page.path)
		b.run(chromedp.WaitVisible(chromedp.CSS(page.ready)))
		time.Sleep(300 * time.Millisecond) // late requests (lazy chunks) finish
		app, api, lines := tr.split(s.url)
		t.Logf("first load of %s: app %.1f KB, API %.1f KB, total %.1f KB compressed on the wire\n%s",
			page.name, app/1024, api/1024, (app+api)/1024, strings.Join(lines, "\n"))
		if app > firstLoadBudget {
			t.Errorf("%s: the app transferred %.0f bytes, over the %d budget", page.name, app, firstLoadBudget)
		}
	}
}
