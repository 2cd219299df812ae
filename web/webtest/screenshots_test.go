package webtest

import (
	"os"
	"path/filepath"
	"testing"
	"time"

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

	course, lessons := s.course(admin, "Sound design",
		lessonSpec{title: "Oscillators", preview: true, body: "## Where sound starts\n\nEvery synth patch begins with an **oscillator**: a sine, a saw, a square or a triangle.\n\n- The *sine* is pure: one frequency.\n- The *saw* has every harmonic.\n- The *square* has the odd ones.\n\n> Tip: filter a saw to taste before reaching for effects.\n\n```\nosc1: saw, -12 st\nosc2: square, +7 ct\n```"},
		lessonSpec{title: "Filters and envelopes", body: "Low-pass, high-pass, resonance."},
		lessonSpec{title: "Resampling", body: "Bounce, chop, repeat.", dripDays: 3})
	s.call("POST", "/api/courses/"+itoa(course)+"/enroll", ann.token, nil, nil)
	s.call("POST", "/api/courses/"+itoa(course)+"/lessons/"+itoa(lessons[0])+"/complete", ann.token, nil, nil)
	s.course(admin, "Mixing basics", lessonSpec{title: "Gain staging", body: "Leave headroom."})
	s.promote(admin, bob, "creator")
	audio := s.upload(bob, "set.wav", wav(2))
	for _, m := range []struct {
		title  string
		genres []string
		secs   int
	}{{"Friday warm-up", []string{"house", "disco"}, 5400}, {"Late night dub", []string{"dub", "ambient"}, 3600}, {"Peak time", []string{"techno"}, 4200}} {
		s.call("POST", "/api/mixes", bob.token, map[string]any{"title": m.title, "genres": m.genres, "durationSec": m.secs, "audioUrl": audio}, nil)
	}
	var ev struct{ ID int64 }
	start := time.Now().Add(72 * time.Hour).UTC().Truncate(time.Hour)
	s.call("POST", "/api/events", bob.token, map[string]any{"title": "Listening party", "description": "Bob plays the new mix front to back. Bring headphones.",
		"location": "Studio 2", "streamUrl": "https://stream.example.com/bob", "startsAt": start.Format(time.RFC3339), "endsAt": start.Add(2 * time.Hour).Format(time.RFC3339), "capacity": 2}, &ev)
	s.call("POST", "/api/events", bob.token, map[string]any{"title": "Q&A: sound design", "description": "Ask anything.", "location": "Online",
		"streamUrl": "", "startsAt": start.Add(48 * time.Hour).Format(time.RFC3339), "endsAt": start.Add(49 * time.Hour).Format(time.RFC3339), "capacity": nil}, nil)
	s.call("POST", "/api/events/"+itoa(ev.ID)+"/rsvp", cleo.token, map[string]string{"status": "going"}, nil)
	s.call("PUT", "/api/live/now-playing", bob.token, map[string]any{"live": true, "track": map[string]string{"title": "Strings of Life", "artist": "Derrick May"}}, nil)
	s.call("PUT", "/api/live/now-playing", bob.token, map[string]any{"live": true, "track": map[string]string{"title": "Can You Feel It", "artist": "Mr. Fingers"}}, nil)
	var owl struct{ ID int64 }
	s.call("POST", "/api/admin/achievements", admin.token, map[string]any{"slug": "night-owl", "name": "Night owl", "description": "Three shouts after midnight.",
		"xp": 25, "rarity": "rare", "rule": map[string]any{"kind": "shouts", "count": 3}}, &owl)
	s.call("POST", "/api/admin/achievements", admin.token, map[string]any{"slug": "mentor", "name": "Mentor", "description": "Helped a newcomer finish a course.",
		"xp": 50, "rarity": "epic"}, nil)
	var gold struct{ ID int64 }
	s.call("POST", "/api/admin/collectibles", admin.token, map[string]any{"slug": "gold-vinyl", "name": "Gold vinyl", "rarity": "legendary", "supply": 2, "priceCredits": 40}, &gold)
	s.call("POST", "/api/admin/collectibles", admin.token, map[string]any{"slug": "tour-poster", "name": "Tour poster", "rarity": "uncommon", "supply": 100, "priceCredits": 15}, nil)
	s.call("POST", "/api/admin/collectibles", admin.token, map[string]any{"slug": "owl-pin", "name": "Owl pin", "rarity": "rare", "achievementId": owl.ID}, nil)
	s.callKey("POST", "/api/admin/wallets/"+itoa(cleo.id)+"/adjust", admin.token, "shots-cleo", map[string]any{"amount": 120, "reason": "welcome"})
	s.callKey("POST", "/api/collectibles/"+itoa(gold.ID)+"/purchase", cleo.token, "shots-gold", map[string]any{})

	shots := []struct{ name, path, ready string }{
		{"sign-in", "/sign-in", "#f-login"},
		{"channel", "/channels/" + itoa(ch), ".message-list .msg"},
		{"settings", "/settings", "#f-displayName"},
		{"courses", "/courses", "[data-testid=courses]"},
		{"course", "/courses/" + itoa(course), ".lesson-row"},
		{"lesson", "/courses/" + itoa(course) + "/lessons/" + itoa(lessons[0]), ".lesson-body p"},
		{"mixes", "/mixes", "[data-testid=mixes]"},
		{"events", "/events/" + itoa(ev.ID), "[data-testid=places]"},
		{"live", "/live", "[data-testid=live-history] li"},
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
			b.waitJS(`!document.querySelector('#main [aria-busy=true]')`, "%s to load", shot.path)
			if shot.name == "settings" {
				b.clickText("Set up two-factor sign-in")
				b.run(chromedp.WaitVisible(chromedp.CSS("svg.qr path")))
				eval[bool](b, `(document.activeElement.blur(), window.scrollTo(0, 0), true)`)
			}
			save(t, b, filepath.Join(dir, shot.name+"-"+size.name+".png"), shot.name == "settings")
		}
	}
	// The collectibles as cleo (ann's browsers above hold the most live
	// sockets a member may have); the admin console's catalog pages as mara.
	catalog := []struct {
		name, path, ready string
		who               member
		fullPage          bool
	}{
		{"collectibles", "/collectibles", "[data-testid=owned]", cleo, false},
		{"admin-courses", "/admin/courses", "table.admin-courses", admin, false},
		{"admin-course", "/admin/courses/" + itoa(course), ".module-admin", admin, false},
		{"admin-lesson", "/admin/courses/" + itoa(course) + "/lessons/" + itoa(lessons[0]), "[data-testid=lesson-preview] p", admin, true},
		{"admin-achievements", "/admin/achievements", "table.admin-achievements", admin, false},
		{"admin-collectibles", "/admin/collectibles", "table.admin-collectibles", admin, false},
	}
	for _, size := range sizes {
		for _, shot := range catalog {
			b := newBrowser(t, s)
			b.signInAs(shot.who)
			b.run(chromedp.EmulateViewport(size.w, size.h))
			b.open(shot.path)
			b.run(chromedp.WaitVisible(chromedp.CSS(shot.ready)))
			b.waitJS(`!document.querySelector('#main [aria-busy=true]')`, "%s to load", shot.path)
			save(t, b, filepath.Join(dir, shot.name+"-"+size.name+".png"), shot.fullPage)
			// Closed at once: a member has at most PLAZA_WS_MAX_PER_USER (10) live sockets,
			// and a page refused one would show "Reconnecting".
			if err := chromedp.Cancel(b.ctx); err != nil {
				t.Fatal(err)
			}
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
