package webtest

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/pquerna/otp/totp"
)

var verifyLinkRE = regexp.MustCompile(`http://\S+/verify-email\?\S+`)

func TestSignUpVerifyByMailLinkAndSignIn(t *testing.T) {
	s := newSite(t)
	b := newBrowser(t, s)

	// A newcomer signs up.
	b.open("/sign-up")
	b.fill("#f-email", "ann@example.com")
	b.fill("#f-username", "ann")
	b.fill("#f-password", password)
	b.click(`button[type=submit]`)
	b.waitText("h1", "Check your mail")

	// The mail's link opens the app, which verifies the address.
	link := verifyLinkRE.FindString(s.mail("ann@example.com", "verification code"))
	if link == "" {
		t.Fatal("no verification link in the mail")
	}
	b.run(chromedp.Navigate(strings.ReplaceAll(link, "=\r\n", "")))
	b.waitText("#main", "Your address ann@example.com is verified.")

	// She signs in and lands on the channels, signed in.
	b.clickText("Sign in")
	b.waitText("h1", "Sign in")
	b.fill("#f-login", "ann")
	b.fill("#f-password", password)
	b.click(`button[type=submit]`)
	b.waitText("h1", "Channels")
	b.waitText("header .who", "ann")
	if p := b.path(); p != "/channels" {
		t.Fatalf("after sign-in at %s, want /channels", p)
	}

	// The session is the HttpOnly cookie: script cannot read a token.
	store := eval[string](b, `document.cookie + JSON.stringify(localStorage) + JSON.stringify(sessionStorage)`)
	if strings.Contains(store, "plz_") {
		t.Fatalf("a session token is readable by script: %s", store)
	}
	noPageErrors(t, b)
}

func TestChatIsLiveBetweenTwoBrowsers(t *testing.T) {
	s := newSite(t)
	admin := s.admin("root")
	ch := s.channel(admin, "general")
	ann, bob := s.member("ann"), s.member("bob")
	s.post(bob, ch, "earlier message from bob")

	a, b := newBrowser(t, s), newBrowser(t, s)
	a.signInAs(ann)
	b.signInAs(bob)
	a.open("/channels/" + itoa(ch))
	b.open("/channels/" + itoa(ch))
	a.waitText(".message-list", "earlier message from bob")
	b.waitText(".message-list", "earlier message from bob")
	a.waitText(`[data-testid=online-count]`, "2 online")

	// Ann types: Bob sees that she is typing, then her message.
	a.fill("#composer", "hello bob")
	b.waitText(`[data-testid=typing]`, "ann is typing")
	a.run(chromedp.SendKeys(chromedp.CSS("#composer"), kb.Enter))
	b.waitText(".message-list .body", "hello bob")
	b.waitNoText(`[data-testid=typing]`, "ann is typing")
	a.waitJS(`document.querySelector('#composer').value === ''`, "the composer to clear")

	// Bob answers; Ann sees it without reloading.
	b.fill("#composer", "hi ann!")
	b.click(".composer button[type=submit]")
	a.waitText(".message-list .body", "hi ann!")

	// Ann edits her message, then deletes it: Bob sees both, live.
	a.clickText("Edit")
	a.fill(".edit textarea", "hello bob (edited)")
	a.clickText("Save")
	b.waitText(".message-list .body", "hello bob (edited)")
	a.clickText("Delete")
	a.clickText("Yes, delete")
	b.waitNoText(".message-list", "hello bob")
	a.waitNoText(".message-list", "hello bob")

	// Each message is shown once.
	n := eval[int](b, `document.querySelectorAll('.message-list .msg').length`)
	if n != 2 {
		t.Fatalf("Bob sees %d messages, want 2", n)
	}
	noPageErrors(t, a, b)
}

// Markup in a message or a name is shown as text and never runs: not from
// the history, not when it arrives live.
func TestMarkupInMessagesIsShownAsText(t *testing.T) {
	s := newSite(t)
	admin := s.admin("root")
	ch := s.channel(admin, "general")
	eve, bob := s.member("eve"), s.member("bob")
	const evil = `<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script><b>bold?</b>`
	s.call("PATCH", "/api/users/me", eve.token, map[string]string{"displayName": `<img src=y onerror="window.__pwned=3">Eve`, "bio": evil}, nil)
	s.post(eve, ch, "from history "+evil)

	b := newBrowser(t, s)
	b.signInAs(bob)
	b.open("/channels/" + itoa(ch))
	b.waitText(".message-list .body", "from history <img src=x")
	s.post(eve, ch, "live "+evil)
	b.waitText(".message-list .body", "live <img src=x")
	b.open("/users/" + itoa(eve.id))
	b.waitText("#main", `<img src=y onerror="window.__pwned=3">Eve`)
	time.Sleep(200 * time.Millisecond) // give an onerror handler the time it would need

	pwned := eval[bool](b, `window.__pwned !== undefined`)
	injected := eval[int](b, `document.querySelectorAll('#main img[src="x"], #main img[src="y"], #main script, #main b').length`)
	if pwned || injected > 0 {
		t.Fatalf("markup ran or was inserted: pwned=%v, %d injected elements", pwned, injected)
	}
	b.open("/channels/" + itoa(ch))
	b.waitText(".message-list .body", "live <img")
	body := eval[string](b, `document.querySelector('.message-list .msg:last-child .body').textContent`)
	if body != "live "+evil {
		t.Fatalf("message shown as %q, want the text exactly", body)
	}
}

func TestMFAEnableThenSignInWithCode(t *testing.T) {
	s := newSite(t)
	ann := s.member("ann")
	b := newBrowser(t, s)
	b.signInAs(ann)

	// Ann turns on two-factor sign-in: the QR code is drawn in the page.
	b.open("/settings")
	b.clickText("Set up two-factor sign-in")
	b.run(chromedp.WaitVisible(chromedp.CSS(`svg.qr path`)))
	secret := eval[string](b, `document.querySelector('[data-testid=mfa-secret]').textContent`)
	code, err := totp.GenerateCode(secret, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	b.fill("#f-enableCode", code)
	b.clickText("Turn on")
	b.waitText(`[data-testid=recovery-codes]`, "")
	codes := eval[int](b, `document.querySelectorAll('[data-testid=recovery-codes] li').length`)
	if codes < 5 {
		t.Fatalf("%d recovery codes shown", codes)
	}

	// She signs out and in again: the password alone is not enough.
	b.clickText("Sign out")
	b.waitText("h1", "Sign in")
	b.fill("#f-login", "ann@example.com")
	b.fill("#f-password", password)
	b.click(`button[type=submit]`)
	b.waitText("label", "Authentication code")
	// The code of the next period: the one used to enable cannot be replayed.
	next, _ := totp.GenerateCode(secret, time.Now().Add(30*time.Second))
	b.fill("#f-mfaCode", next)
	b.click(`button[type=submit]`)
	b.waitText("header .who", "ann")
	b.waitText("h1", "Channels")
}

// The server restarts (a deploy, without Redis: the rooms' seqs start
// again): the page says it is reconnecting, comes back by itself and shows
// what was posted meanwhile, once.
func TestReconnectAfterRestartShowsWhatWasMissed(t *testing.T) {
	s := newSite(t)
	admin := s.admin("root")
	ch := s.channel(admin, "general")
	ann, bob := s.member("ann"), s.member("bob")
	b := newBrowser(t, s)
	b.signInAs(ann)
	b.open("/channels/" + itoa(ch))
	b.waitText(`[data-testid=online-count]`, "online")
	for _, m := range []string{"one", "two", "three"} {
		s.post(bob, ch, "before the restart: "+m)
	}
	b.waitText(".message-list", "before the restart: three")

	s.stop()
	b.waitText(`[data-testid=reconnecting]`, "Reconnecting")
	b.fill("#composer", "a draft typed while offline")
	s.restart()
	s.post(bob, ch, "posted while you were away")

	b.waitText(".message-list .body", "posted while you were away")
	b.waitJS(`!document.querySelector('[data-testid=reconnecting]')`, "the reconnecting notice to go")
	if n := eval[int](b, `[...document.querySelectorAll('.message-list .body')].filter(e => e.textContent.startsWith('before the restart')).length`); n != 3 {
		t.Fatalf("%d messages from before the restart shown, want 3", n)
	}
	if v := eval[string](b, `document.querySelector('#composer').value`); v != "a draft typed while offline" {
		t.Fatalf("draft is %q", v)
	}
	// And it is live again.
	s.post(bob, ch, "live after the restart")
	b.waitText(".message-list .body", "live after the restart")
}
