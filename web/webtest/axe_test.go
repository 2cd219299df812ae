package webtest

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// axe-core comes from web's lock file (a devDependency): `npm ci` in web/
// puts it in node_modules. Without it the test skips, except under CI=true.
const axePath = "../node_modules/axe-core/axe.min.js"

func axeSource(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(axePath)
	if errors.Is(err, fs.ErrNotExist) {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is missing under CI=true: run npm ci in web/", axePath)
		}
		t.Skipf("%s is missing: run npm ci in web/ for the accessibility test", axePath)
	}
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

type axeNode struct {
	Target  []any  `json:"target"`
	Summary string `json:"failureSummary"`
}

type axeViolation struct {
	ID     string    `json:"id"`
	Impact string    `json:"impact"`
	Help   string    `json:"help"`
	Nodes  []axeNode `json:"nodes"`
}

// axeCheck runs axe-core on the page as it is and fails the test on each
// serious or critical violation.
func (b *browser) axeCheck(src, page string) {
	b.t.Helper()
	for _, v := range b.axeRun(src, page) {
		if v.Impact != "serious" && v.Impact != "critical" {
			continue
		}
		var where []string
		for _, n := range v.Nodes {
			where = append(where, fmt.Sprint(n.Target)+": "+strings.ReplaceAll(n.Summary, "\n", " "))
		}
		b.t.Errorf("%s: %s (%s): %s\n\t%s", page, v.ID, v.Impact, v.Help, strings.Join(where, "\n\t"))
	}
}

func (b *browser) axeRun(src, page string) []axeViolation {
	b.t.Helper()
	if !eval[bool](b, `typeof axe === 'object'`) {
		eval[bool](b, src+"\n;true")
	}
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	vs, err := chromedp.Run(ctx, chromedp.Evaluate[[]axeViolation](
		`axe.run(document, {resultTypes: ['violations']}).then(r => r.violations)`, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("%s: running axe: %v", page, err)
	}
	return vs
}

// TestAccessibility: no serious or critical axe-core violations on the
// main pages, signed out and signed in, in the light and the dark theme.
func TestAccessibility(t *testing.T) {
	src := axeSource(t)
	// Some fifty page loads by one admin in a minute or two are more than
	// the api tier's 100 a minute; the limit is not what this test checks.
	s := newSiteWith(t, map[string]string{"PLAZA_RATE_API": "off"})
	admin := s.admin("root")
	ch := s.channel(admin, "general")
	bob := s.member("bob")
	s.post(bob, ch, "hello from bob")
	s.post(admin, ch, "welcome, bob")
	course, lessons := s.course(admin, "Sound design", lessonSpec{title: "Oscillators", body: "Start with **a sine wave**.", preview: true},
		lessonSpec{title: "Filters", body: "Low-pass.", dripDays: 3})
	audio := s.upload(admin, "a.wav", wav(1))
	var mix, ev struct{ ID int64 }
	s.call("POST", "/api/mixes", admin.token, map[string]any{"title": "Friday warm-up", "genres": []string{"house"}, "durationSec": 1, "audioUrl": audio}, &mix)
	start := time.Now().Add(24 * time.Hour).UTC()
	s.call("POST", "/api/events", admin.token, map[string]any{"title": "Listening party", "description": "Bring headphones.", "location": "Studio 2",
		"streamUrl": "", "startsAt": start.Format(time.RFC3339), "endsAt": start.Add(time.Hour).Format(time.RFC3339), "capacity": 10}, &ev)
	s.call("PUT", "/api/live/now-playing", admin.token, map[string]any{"live": true, "track": map[string]string{"title": "Strings of Life", "artist": "Derrick May"}}, nil)
	var ach struct{ ID int64 }
	s.call("POST", "/api/admin/achievements", admin.token, map[string]any{"slug": "night-owl", "name": "Night owl", "xp": 10, "rarity": "rare",
		"rule": map[string]any{"kind": "shouts", "count": 3}}, &ach)
	s.call("POST", "/api/admin/collectibles", admin.token, map[string]any{"slug": "gold-vinyl", "name": "Gold vinyl", "rarity": "legendary",
		"supply": 2, "priceCredits": 40, "achievementId": ach.ID}, nil)
	s.call("POST", "/api/admin/collectibles", admin.token, map[string]any{"slug": "sticker", "name": "Sticker", "rarity": "common"}, nil)

	for _, theme := range []string{"light", "dark"} {
		t.Run(theme, func(t *testing.T) {
			anon := newBrowser(t, s)
			anon.open("/sign-in")
			eval[bool](anon, fmt.Sprintf(`localStorage.setItem('plaza.theme', %q), true`, theme))
			for _, p := range []struct{ path, ready string }{
				{"/sign-in", "form"},
				{"/sign-up", "form"},
			} {
				anon.open(p.path)
				anon.run(chromedp.WaitVisible(chromedp.CSS(p.ready)))
				anon.axeCheck(src, theme+" "+p.path)
			}
			// The check can fail: a button without a name is a critical violation.
			eval[bool](anon, `document.querySelector('main').appendChild(document.createElement('button')).id = 'nameless', true`)
			found := false
			for _, v := range anon.axeRun(src, "a nameless button") {
				found = found || (v.ID == "button-name" && v.Impact == "critical")
			}
			if !found {
				t.Fatal("axe did not report a button without a name")
			}

			b := newBrowser(t, s)
			b.signInAs(admin)
			b.open("/channels")
			eval[bool](b, fmt.Sprintf(`localStorage.setItem('plaza.theme', %q), true`, theme))
			for _, p := range []struct{ path, ready string }{
				{"/channels", "main a[href^='/channels/']"},
				{"/channels/" + itoa(ch), ".message-list .msg"},
				{"/messages", "main h1"},
				{"/settings", "main form"},
				{"/admin/ops", "svg[data-chart] path.series"},
				{"/courses", "[data-testid=courses]"},
				{"/courses/" + itoa(course), ".lesson-row"},
				{"/courses/" + itoa(course) + "/lessons/" + itoa(lessons[0]), ".lesson-body p"},
				{"/mixes", "[data-testid=mixes]"},
				{"/mixes/" + itoa(mix.ID), "audio.player"},
				{"/mixes/new", "form"},
				{"/events", "[data-testid=events]"},
				{"/events/" + itoa(ev.ID), "[data-testid=places]"},
				{"/events/new", "form"},
				{"/live", "[data-testid=now-playing]"},
				{"/leaderboard", "h1"},
				{"/wallet", "h1"},
				{"/users/" + itoa(admin.id), "#ach-h"},
				{"/admin", ".admin-index"},
				{"/admin/users", "h1"},
				{"/admin/reports", "h1"},
				{"/admin/cache", "h1"},
				{"/admin/audit", "h1"},
			} {
				b.open(p.path)
				t.Logf("%s: waiting for %s", p.path, p.ready)
				b.run(chromedp.WaitVisible(chromedp.CSS(p.ready)))
				// Pages that read their data are checked once it is there.
				b.waitJS(`!document.querySelector('#main [aria-busy=true]')`, "%s to load", p.path)
				if got := eval[string](b, `document.documentElement.dataset.theme ?? ''`); got != theme {
					t.Fatalf("%s: theme %q, want %q", p.path, got, theme)
				}
				b.axeCheck(src, theme+" "+p.path)
			}
			// The catalog pages (admin console, collectibles), some in a state
			// they reach by use: then runs, and shown appears, before the check.
			for _, p := range []struct{ path, ready, then, shown string }{
				{"/admin/courses", "table.admin-courses", "", ""},
				// The course's details form is folded away at first: checked open.
				{"/admin/courses/" + itoa(course), ".module-admin", `document.querySelector('details.edit-details').open = true`, "#f-course-title"},
				{"/admin/courses/" + itoa(course) + "/lessons/" + itoa(lessons[0]), "[data-testid=lesson-preview] p", "", ""},
				// A refused form: the fields' messages and their colours.
				{"/admin/courses/" + itoa(course) + "/lessons/new", "#f-lesson-title", `document.querySelector('#main form button[type=submit]').click()`, "#f-lesson-title-err"},
				{"/admin/achievements", "table.admin-achievements", "", ""},
				{"/admin/collectibles", "table.admin-collectibles", `document.querySelector('button[aria-label="Edit Gold vinyl"]').click()`, "#f-edit-supply"},
				{"/collectibles", "[data-testid=collectibles]", "", ""},
			} {
				b.open(p.path)
				b.run(chromedp.WaitVisible(chromedp.CSS(p.ready)))
				b.waitJS(`!document.querySelector('#main [aria-busy=true]')`, "%s to load", p.path)
				if p.then != "" {
					eval[bool](b, "("+p.then+", true)")
					b.run(chromedp.WaitVisible(chromedp.CSS(p.shown)))
				}
				b.axeCheck(src, theme+" "+p.path)
			}
		})
	}
}
