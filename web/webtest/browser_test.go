package webtest

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/plazahq/plaza/internal/testenv"
)

// One Chromium for the package; every "browser" of a test is a browser
// context of its own (its own cookies and storage), like a separate
// person's browser.
var (
	chromeOnce  sync.Once
	chromeCtx   context.Context
	chromeErr   error
	chromeClose = func() {}
)

func TestMain(m *testing.M) {
	code := m.Run()
	chromeClose()
	os.Exit(code)
}

func chromium(t testing.TB) context.Context {
	t.Helper()
	path := testenv.Program(t, "PLAZA_CHROMIUM", "/usr/bin/chromium", "browser")
	chromeOnce.Do(func() {
		dir, err := os.MkdirTemp("", "plaza-chromium-")
		if err != nil {
			chromeErr = err
			return
		}
		alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
			chromedp.ExecPath(path),
			chromedp.UserDataDir(dir),
			chromedp.Flag("headless", true),
			chromedp.Flag("no-sandbox", true),
			chromedp.Flag("disable-gpu", true),
			chromedp.Flag("disable-quic", true),
			chromedp.Flag("no-first-run", true),
			chromedp.Flag("no-default-browser-check", true),
			chromedp.Flag("disable-background-networking", true),
			chromedp.Flag("disable-component-update", true),
			chromedp.Flag("disable-sync", true),
			chromedp.Flag("disable-dev-shm-usage", true),
			chromedp.Flag("disable-extensions", true),
			chromedp.Flag("disable-background-timer-throttling", true),
			chromedp.Flag("disable-renderer-backgrounding", true),
			chromedp.Flag("disable-backgrounding-occluded-windows", true),
			chromedp.WindowSize(1280, 800),
		)
		ctx, cancel := chromedp.NewContext(alloc)
		if chromeErr = chromedp.Do(ctx); chromeErr != nil {
			cancel()
			cancelAlloc()
			return
		}
		chromeCtx = ctx
		chromeClose = func() {
			cancel()
			cancelAlloc()
			os.RemoveAll(dir)
		}
	})
	if chromeErr != nil {
		t.Fatalf("starting Chromium: %v", chromeErr)
	}
	return chromeCtx
}

// browser is one person's browser: its own cookies, one tab.
type browser struct {
	t      testing.TB
	ctx    context.Context
	site   *site
	mu     sync.Mutex
	errors []string // uncaught exceptions, console.error calls, security (CSP) messages
}

func newBrowser(t testing.TB, s *site) *browser {
	t.Helper()
	ctx, cancel := chromedp.NewContext(chromium(t), chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	b := &browser{t: t, ctx: ctx, site: s}
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.IsException() || (m.Type == chromedp.ConsoleError && m.Source == "") || m.Source == "security" {
				b.mu.Lock()
				b.errors = append(b.errors, m.String())
				b.mu.Unlock()
			}
		}
	}()
	b.run(chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Call(ctx, network.Enable, network.EnableParams{})
		return err
	}))
	return b
}

// run performs actions with a time limit, failing the test on error.
func (b *browser) run(actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 15*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.t.Fatalf("browser: %v (page errors: %v)", err, b.pageErrors())
	}
}

func (b *browser) pageErrors() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.errors...)
}

// noPageErrors fails the test if any of the pages threw or logged an error.
func noPageErrors(t *testing.T, bs ...*browser) {
	t.Helper()
	for _, b := range bs {
		if errs := b.pageErrors(); len(errs) > 0 {
			t.Fatalf("page errors: %v", errs)
		}
	}
}

// open navigates to a path of the site and waits for the app to draw.
func (b *browser) open(path string) {
	b.t.Helper()
	b.run(chromedp.Navigate(b.site.url+path), chromedp.WaitVisible(chromedp.CSS(`#main`)))
}

// signInAs gives the browser m's session cookie, as signing in would.
func (b *browser) signInAs(m member) {
	b.t.Helper()
	u, _ := url.Parse(b.site.url)
	httpOnly := true
	b.run(chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Call(ctx, network.SetCookie, network.SetCookieParams{Name: "plaza_session", Value: m.token,
			Domain: u.Hostname(), Path: "/", HTTPOnly: &httpOnly})
		if err != nil {
			return err
		}
		// The app's hint that this browser has a session (web/src/session.ts).
		_, err = chromedp.Call(ctx, network.SetCookie, network.SetCookieParams{Name: "plaza_signed_in", Value: "1", Domain: u.Hostname(), Path: "/"})
		return err
	}))
}

// waitText waits until an element matching sel contains text.
func (b *browser) waitText(sel, text string) {
	b.t.Helper()
	b.waitJS(fmt.Sprintf(`[...document.querySelectorAll(%q)].some(e => e.textContent.includes(%q))`, sel, text), "%s to show %q", sel, text)
}

// waitNoText waits until no element matching sel contains text.
func (b *browser) waitNoText(sel, text string) {
	b.t.Helper()
	b.waitJS(fmt.Sprintf(`![...document.querySelectorAll(%q)].some(e => e.textContent.includes(%q))`, sel, text), "%s not to show %q", sel, text)
}

// waitJS polls a JavaScript condition.
func (b *browser) waitJS(cond string, what string, args ...any) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	_, err := chromedp.Run(ctx, chromedp.Poll[bool](cond, chromedp.WithPollingInterval(25*time.Millisecond)))
	if err != nil {
		body, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.body.innerText`))
		b.t.Fatalf("waiting for "+what+": %v\npage text:\n%s\npage errors: %v", append(args, err, body, b.pageErrors())...)
	}
}

// eval returns the value of a JavaScript expression.
func eval[T any](b *browser, js string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 15*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js))
	if err != nil {
		b.t.Fatalf("evaluating %s: %v", js, err)
	}
	return v
}

// fill types into the field sel, replacing what was there.
func (b *browser) fill(sel, text string) {
	b.t.Helper()
	b.run(chromedp.WaitVisible(chromedp.CSS(sel)))
	eval[bool](b, fmt.Sprintf(`(() => { const e = document.querySelector(%q); e.value = ''; e.dispatchEvent(new Event('input', {bubbles: true})); return true })()`, sel))
	b.run(chromedp.SendKeys(chromedp.CSS(sel), text))
}

func (b *browser) click(sel string) {
	b.t.Helper()
	b.run(chromedp.WaitVisible(chromedp.CSS(sel)), chromedp.Click(chromedp.CSS(sel)))
}

// clickText clicks the first button or link whose text is text.
func (b *browser) clickText(text string) {
	b.t.Helper()
	find := fmt.Sprintf(`[...document.querySelectorAll('button, a')].find(e => e.textContent.trim() === %q && !e.disabled)`, text)
	b.waitJS("!!"+find, "a button %q", text)
	eval[bool](b, `(() => { `+find+`.click(); return true })()`)
}

func (b *browser) path() string {
	b.t.Helper()
	return eval[string](b, `location.pathname + location.search`)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
