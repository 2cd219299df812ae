package webtest

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestScreenshots writes docs/screenshots/*.png when PLAZA_SCREENSHOTS names
// the folder:
//
//	PLAZA_SCREENSHOTS=$PWD/docs/screenshots go test ./web/webtest -run TestScreenshots
func TestScreenshots(t *testing.T) {
	dir := os.Getenv("PLAZA_SCREENSHOTS")
	if dir == "" {
		t.Skip("set PLAZA_SCREENSHOTS to a folder to write the screenshots")
	}
	s := newSite(t)
	admin := s.admin("mara")
	ch := s.channel(admin, "general")
	s.channel(admin, "producers")
	s.channel(admin, "gear-talk")
	ann, bob, cleo := s.member("ann"), s.member("bob"), s.member("cleo")
	s.call("PATCH", "/api/users/me", ann.token, map[string]string{"displayName": "Ann Lee", "bio": "Deep house, mostly at night."}, nil)
	s.call("PATCH", "/api/users/me", bob.token, map[string]string{"displayName": "Bob"}, nil)
	s.post(admin, ch, "Welcome to Plaza! Introduce yourself and say what you are working on.")
	s.post(bob, ch, "Hi all, Bob here. Finishing a 90-minute mix for Friday.")
	s.post(cleo, ch, "Cleo, bass player. Anyone tried the new course on sound design?")
	s.post(ann, ch, "Yes! Lesson 3 on resampling is great.\nThe drip schedule keeps me coming back.")
	s.post(bob, ch, "Nice. I'll start it after the weekend.")

	shots := []struct{ name, path, ready string }{
		{"sign-in", "/sign-in", "#f-login"},
		{"channel", "/channels/" + itoa(ch), ".message-list .msg"},
		{"settings", "/settings", "#f-displayName"},
	}
	sizes := []struct {
		name string
		w, h int64
	}{{"desktop", 1280, 800}, {"phone", 390, 844}}
	for _, size := range sizes {
		for _, shot := range shots {
			b := newBrowser(t, s)
			if shot.name != "sign-in" {
				b.signInAs(ann)
			}
			b.run(chromedp.EmulateViewport(size.w, size.h))
			b.open(shot.path)
			b.run(chromedp.WaitVisible(chromedp.CSS(shot.ready)))
			if shot.name == "settings" {
				b.clickText("Set up two-factor sign-in")
				b.run(chromedp.WaitVisible(chromedp.CSS("svg.qr path")))
				eval[bool](b, `(document.activeElement.blur(), window.scrollTo(0, 0), true)`)
			}
			save(t, b, filepath.Join(dir, shot.name+"-"+size.name+".png"), shot.name == "settings")
		}
	}
	// The dark theme, chosen with the toggle.
	b := newBrowser(t, s)
	b.signInAs(ann)
	b.run(chromedp.EmulateViewport(1280, 800))
	b.open("/channels/" + itoa(ch))
	b.clickText("Theme: system")
	b.clickText("Theme: light")
	b.waitText("header", "Theme: dark")
	b.run(chromedp.WaitVisible(chromedp.CSS(".message-list .msg")))
	eval[bool](b, `(document.activeElement.blur(), true)`)
	save(t, b, filepath.Join(dir, "channel-dark-desktop.png"), false)
}

// save writes a PNG of the viewport, or of the whole page.
func save(t *testing.T, b *browser, path string, fullPage bool) {
	t.Helper()
	shot := chromedp.CaptureScreenshot()
	if fullPage {
		shot = chromedp.FullScreenshot(100) // quality 100: PNG
	}
	png, err := chromedp.Run(b.ctx, shot)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
}
