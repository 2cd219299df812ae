package webtest

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// ---- helpers: the set-up an admin or a creator would do through the API ----

// promote gives m a role (the change applies at m's next request).
func (s *site) promote(admin, m member, role string) {
	s.t.Helper()
	if st := s.call("PATCH", "/api/admin/users/"+itoa(m.id), admin.token, map[string]string{"role": role}, nil); st != 200 {
		s.t.Fatalf("make %s a %s: %d", m.name, role, st)
	}
}

type lessonSpec struct {
	title, body string
	dripDays    int
	preview     bool
}

// course creates a published open course with one module of lessons and
// returns its id and the lessons' ids.
func (s *site) course(admin member, title string, lessons ...lessonSpec) (int64, []int64) {
	s.t.Helper()
	var c, m struct{ ID int64 }
	slug := strings.ToLower(strings.ReplaceAll(title, " ", "-"))
	if st := s.call("POST", "/api/admin/courses", admin.token, map[string]any{"slug": slug, "title": title, "summary": "Learn " + title,
		"unlock": map[string]any{"kind": "open"}, "published": true}, &c); st != 201 {
		s.t.Fatalf("create course: %d", st)
	}
	if st := s.call("POST", "/api/admin/courses/"+itoa(c.ID)+"/modules", admin.token, map[string]any{"title": "Basics"}, &m); st != 201 {
		s.t.Fatalf("create module: %d", st)
	}
	var ids []int64
	for _, l := range lessons {
		var out struct{ ID int64 }
		if st := s.call("POST", "/api/admin/modules/"+itoa(m.ID)+"/lessons", admin.token, map[string]any{"title": l.title, "body": l.body,
			"format": "markdown", "durationSec": 300, "dripDays": l.dripDays, "preview": l.preview}, &out); st != 201 {
			s.t.Fatalf("create lesson: %d", st)
		}
		ids = append(ids, out.ID)
	}
	return c.ID, ids
}

// upload stores a file through POST /api/uploads and returns its URL.
func (s *site) upload(m member, name string, data []byte) string {
	s.t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	fw, _ := w.CreateFormFile("file", name)
	fw.Write(data)
	w.Close()
	req, _ := http.NewRequest("POST", s.url+"/api/uploads", &buf)
	req.Header.Set("Content-Type", w.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+m.token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	var out struct{ URL string }
	if res.StatusCode != 201 || json.Unmarshal(b, &out) != nil {
		s.t.Fatalf("upload: %d %s", res.StatusCode, b)
	}
	return out.URL
}

// wav is a short mono 8-bit PCM WAV of a quiet tone.
func wav(seconds float64) []byte {
	const rate = 8000
	n := int(seconds * rate)
	var b bytes.Buffer
	b.WriteString("RIFF")
	binary.Write(&b, binary.LittleEndian, uint32(36+n))
	b.WriteString("WAVEfmt ")
	for _, v := range []any{uint32(16), uint16(1), uint16(1), uint32(rate), uint32(rate), uint16(1), uint16(8)} {
		binary.Write(&b, binary.LittleEndian, v)
	}
	b.WriteString("data")
	binary.Write(&b, binary.LittleEndian, uint32(n))
	for i := range n {
		b.WriteByte(byte(128 + 20*((i/10)%2*2-1)))
	}
	return b.Bytes()
}

// gesture evaluates js as if the user had clicked (media may play).
func gesture(p *runtime.EvaluateParams) {
	yes := true
	p.UserGesture = &yes
}

// ---- courses ----

// A member finds a course, sees why lessons are locked, enrolls, reads a
// lesson whose body is the server's sanitized HTML, completes it and sees
// the progress.
func TestCourseEnrollReadAndComplete(t *testing.T) {
	s := newSite(t)
	admin := s.admin("root")
	course, lessons := s.course(admin, "Sound design",
		lessonSpec{title: "Oscillators", body: "Start with **a sine wave**.\n\n- saw\n- square\n\n<script>window.__pwned=1</script><img src=x onerror=\"window.__pwned=2\">"},
		lessonSpec{title: "Filters", body: "Low-pass.", dripDays: 3},
	)
	ann := s.member("ann")

	// Signed out: the lessons say what opens them.
	anon := newBrowser(t, s)
	anon.open("/courses")
	anon.waitText("[data-testid=courses] h2", "Sound design")
	anon.open("/courses/" + itoa(course))
	anon.waitText(".lesson-row", "Enroll to open this lesson.")
	anon.waitText("#main", "Sign in to enroll")

	b := newBrowser(t, s)
	b.signInAs(ann)
	b.open("/courses")
	b.clickText("Sound design")
	b.waitText("h1", "Sound design")
	b.waitText(`[data-reason=not_enrolled]`, "Enroll to open")
	b.clickText("Enroll")
	b.waitText("#main", "0 of 2 lessons done")
	// The first lesson opens; the second drips in three days later.
	b.waitText(`[data-lesson="`+itoa(lessons[1])+`"] [data-reason=drip]`, "Opens")
	b.clickText("Oscillators")
	b.waitText("h1", "Oscillators")
	b.waitText(".lesson-body strong", "a sine wave")
	if n := eval[int](b, `document.querySelectorAll('.lesson-body li').length`); n != 2 {
		t.Fatalf("%d list items in the lesson body, want 2", n)
	}
	b.clickText("Mark as complete")
	b.waitText("[data-testid=lesson-completed]", "1 of 2 lessons done")
	b.waitText("[data-testid=lesson-completed]", "+10 XP")
	b.clickText("← Back to the course")
	b.waitText("#main", "1 of 2 lessons done")
	b.waitText(`[data-lesson="`+itoa(lessons[0])+`"]`, "Done")

	// The locked lesson's own page says why.
	b.open("/courses/" + itoa(course) + "/lessons/" + itoa(lessons[1]))
	b.waitText("[data-reason=drip]", "Opens")
	noPageErrors(t, b)
}

// ---- mixes ----

// A creator publishes a mix with an upload; a listener finds it by genre,
// plays it (one play reported however often it is paused and resumed), and
// likes and unlikes it.
func TestMixPublishPlayAndLike(t *testing.T) {
	s := newSite(t)
	admin := s.admin("root")
	dj, bob := s.member("deejay"), s.member("bob")
	s.promote(admin, dj, "creator")

	file := filepath.Join(t.TempDir(), "set.wav")
	if err := os.WriteFile(file, wav(2), 0o644); err != nil {
		t.Fatal(err)
	}
	c := newBrowser(t, s)
	c.signInAs(dj)
	c.open("/mixes")
	c.clickText("Publish a mix")
	c.waitText("h1", "Publish a mix")
	c.fill("#f-title", "Friday warm-up")
	c.run(chromedp.SetUploadFiles(chromedp.CSS("#mix-audio"), []string{file}))
	c.waitText("[data-testid=mix-audio-state]", "Uploaded set.wav")
	c.waitText("[data-testid=mix-duration]", "0:02")
	c.click(`input[value=house]`)
	c.click(`button[type=submit]`)
	c.waitText("h1", "Friday warm-up")
	mixPath := c.path()

	l := newBrowser(t, s)
	l.signInAs(bob)
	var posts atomic.Int32
	if err := chromedp.Listen(l.ctx, func(ev any) {
		if e, ok := ev.(*network.EventRequestWillBeSent); ok && e.Request.Method == "POST" && strings.HasSuffix(e.Request.URL, "/plays") {
			posts.Add(1)
		}
	}); err != nil {
		t.Fatal(err)
	}
	l.open("/mixes?genre=techno")
	l.waitText("#main", "No mixes in techno yet.")
	l.open("/mixes?genre=house")
	l.waitText("[data-testid=mixes] h2", "Friday warm-up")
	l.clickText("Popular")
	l.waitText("[data-testid=mixes] h2", "Friday warm-up")
	l.clickText("Friday warm-up")
	l.waitText("h1", "Friday warm-up")
	if p := l.path(); p != mixPath {
		t.Fatalf("at %s, want %s", p, mixPath)
	}

	// Play, pause, play again: one listen.
	play := func() {
		if _, err := chromedp.Run(l.ctx, chromedp.Evaluate[bool](`document.querySelector('audio.player').play().then(() => true)`, chromedp.EvalAwaitPromise, gesture)); err != nil {
			t.Fatalf("play: %v", err)
		}
	}
	play()
	l.waitJS(`!document.querySelector('audio.player').paused && document.querySelector('audio.player').currentTime > 0.2`, "the mix to play")
	eval[bool](l, `document.querySelector('audio.player').pause(), true`)
	play()
	l.waitJS(`document.querySelector('audio.player').currentTime > 0.5`, "the mix to play on")
	time.Sleep(300 * time.Millisecond)
	if n := posts.Load(); n != 1 {
		t.Fatalf("%d plays reported, want 1", n)
	}
	// The server counts it (plays are flushed within seconds).
	id := strings.TrimPrefix(mixPath, "/mixes/")
	deadline := time.Now().Add(15 * time.Second)
	for {
		var m struct{ Plays int }
		s.call("GET", "/api/mixes/"+id, "", nil, &m)
		if m.Plays == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("plays %d after 15 s, want 1", m.Plays)
		}
		time.Sleep(250 * time.Millisecond)
	}

	l.clickText("♡ Like")
	l.waitText("button[aria-pressed=true]", "♥ Liked")
	l.waitText("[data-testid=mix-stats]", "1 like")
	l.clickText("♥ Liked")
	l.waitText("[data-testid=mix-stats]", "0 likes")
	noPageErrors(t, c, l)
}

// ---- events ----

// setInput sets a field's value as typing would (date and time inputs).
func (b *browser) setInput(sel, value string) {
	b.t.Helper()
	b.run(chromedp.WaitVisible(chromedp.CSS(sel)))
	eval[bool](b, `(() => { const e = document.querySelector(`+jsString(sel)+`); e.value = `+jsString(value)+`; e.dispatchEvent(new Event('input', {bubbles: true})); return true })()`)
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// A creator makes an event for one; the second member to say "going" is
// on the waitlist, and moves up live when the first leaves.
func TestEventRSVPAndWaitlist(t *testing.T) {
	s := newSite(t)
	admin := s.admin("root")
	dj, bob, cleo := s.member("deejay"), s.member("bob"), s.member("cleo")
	s.promote(admin, dj, "creator")

	c := newBrowser(t, s)
	c.signInAs(dj)
	c.open("/events")
	c.clickText("Create an event")
	c.waitText("h1", "Create an event")
	start := time.Now().Add(48 * time.Hour)
	c.fill("#f-title", "Listening party")
	c.fill("#f-description", "Bring headphones.")
	c.setInput("#f-startsAt", start.Format("2006-01-02T15:04"))
	c.setInput("#f-endsAt", start.Add(2*time.Hour).Format("2006-01-02T15:04"))
	c.fill("#f-location", "Studio 2")
	c.fill("#f-capacity", "1")
	c.click(`button[type=submit]`)
	c.waitText("h1", "Listening party")
	c.waitText("[data-testid=places]", "0 of 1 going")
	page := c.path()

	b, cl := newBrowser(t, s), newBrowser(t, s)
	b.signInAs(bob)
	cl.signInAs(cleo)
	b.open("/events")
	b.clickText("Listening party")
	b.clickText("Going")
	b.waitText("[data-testid=my-rsvp]", "You are going")
	b.waitText("[data-testid=places]", "1 of 1 going · full")

	cl.open(page)
	cl.waitText("[data-testid=places]", "full")
	cl.clickText("Going")
	cl.waitText("[data-testid=my-rsvp]", "You are #1 on the waitlist")

	// Dan queues behind her; a reload still says where he stands, from the
	// event's own myWaitlistPosition, and so does the list.
	dan := s.member("dan")
	d := newBrowser(t, s)
	d.signInAs(dan)
	d.open(page)
	d.clickText("Going")
	d.waitText("[data-testid=my-rsvp]", "You are #2 on the waitlist")
	d.open(page)
	d.waitText("[data-testid=my-rsvp]", "You are #2 on the waitlist")
	d.open("/events")
	d.waitText("#main .tag", "You are #2 on the waitlist")

	// Bob cannot come after all: Cleo is promoted, and her page says so;
	// Dan, reloading, is now first in line.
	b.clickText("Not going")
	b.waitText("[data-testid=my-rsvp]", "You are not going")
	cl.waitText("[data-testid=my-rsvp]", "You are going")
	d.open(page)
	d.waitText("[data-testid=my-rsvp]", "You are #1 on the waitlist")
	noPageErrors(t, c, b, cl, d)
}

// ---- now playing ----

// A listener's page follows what the DJ puts on air, live, with the
// listener count and the history.
func TestNowPlayingLive(t *testing.T) {
	s := newSite(t)
	admin := s.admin("root")
	dj, bob := s.member("deejay"), s.member("bob")
	s.promote(admin, dj, "creator")

	l := newBrowser(t, s)
	l.signInAs(bob)
	l.open("/live")
	l.waitText("[data-testid=now-playing]", "Off air")
	l.waitText("[data-testid=listeners]", "1 listener")

	c := newBrowser(t, s)
	c.signInAs(dj)
	c.open("/live")
	c.fill("#f-trackTitle", "Strings of Life")
	c.fill("#f-trackArtist", "Derrick May")
	c.clickText("Go on air")
	c.waitText("[data-testid=now-playing]", "On air")

	l.waitText("[data-testid=now-playing]", "Strings of Life")
	l.waitText("[data-testid=now-playing]", "On air")
	l.waitText("[data-testid=listeners]", "2 listeners")
	l.waitText("[data-testid=live-history]", "Strings of Life")

	c.clickText("Go off air")
	l.waitText("[data-testid=now-playing]", "Off air")
	noPageErrors(t, c, l)
}

// ---- pages whose APIs this server may not have ----

// Each page of an API that is not on this server says so instead of
// failing; admins see every console page.
func TestPagesSayWhenTheirAPIIsMissing(t *testing.T) {
	s := newSite(t)
	admin := s.admin("root")
	b := newBrowser(t, s)
	b.signInAs(admin)
	for _, p := range []string{"/leaderboard", "/wallet", "/admin/users", "/admin/reports", "/admin/cache", "/admin/audit"} {
		var missing bool
		ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
		b.open(p)
		// Either the page shows its data (the API is there) or it says it is not.
		_, err := chromedp.Run(ctx, chromedp.Poll[bool](`!!document.querySelector('[data-testid=unavailable]') || !document.querySelector('#main [aria-busy=true]')`))
		cancel()
		if err != nil {
			t.Fatalf("%s: never finished loading", p)
		}
		missing = eval[bool](b, `!!document.querySelector('[data-testid=unavailable]')`)
		t.Logf("%s: API missing: %v", p, missing)
		if errs := b.pageErrors(); len(errs) > 0 {
			t.Fatalf("%s: page errors: %v", p, errs)
		}
	}
}

// ---- markup never runs ----

// Markup in every field a member or an author controls (message bodies,
// profile fields, lesson bodies, mix titles, event descriptions, track
// titles) is shown as text or, for lesson bodies, as the server's
// sanitized HTML; none of it runs, and the page itself cannot turn a
// string into markup (Trusted Types).
func TestMarkupNeverRuns(t *testing.T) {
	s := newSite(t)
	admin := s.admin("root")
	ch := s.channel(admin, "general")
	eve := s.member("eve")
	s.promote(admin, eve, "creator")
	const evil = `<img src=x onerror="window.__pwned='img'"><script>window.__pwned='script'</script><svg onload="window.__pwned='svg'"></svg>`
	s.call("PATCH", "/api/users/me", eve.token, map[string]string{"displayName": `Eve<img src=y onerror="window.__pwned='name'">`, "bio": "bio " + evil}, nil)
	s.post(eve, ch, "message "+evil)
	course, lessons := s.course(admin, "Safety",
		lessonSpec{title: "Hostile body", preview: true, body: "<p>kept <em>emphasis</em></p>" + evil +
			`<a href="javascript:window.__pwned='href'">a javascript link</a><iframe srcdoc="<script>parent.__pwned='iframe'</script>"></iframe>` +
			`<p onclick="window.__pwned='click'" style="background:url(javascript:1)">styled</p><form action="/x"><input name=q></form>`})
	audio := s.upload(eve, "a.wav", wav(1))
	var mix struct{ ID int64 }
	if st := s.call("POST", "/api/mixes", eve.token, map[string]any{"title": "mix " + evil[:40], "genres": []string{"house"}, "durationSec": 1, "audioUrl": audio}, &mix); st != 201 {
		t.Fatalf("create mix: %d", st)
	}
	var ev struct{ ID int64 }
	start := time.Now().Add(24 * time.Hour).UTC()
	if st := s.call("POST", "/api/events", eve.token, map[string]any{"title": "event <b>bold?</b>", "description": "desc " + evil, "location": "<i>here</i>",
		"streamUrl": "", "startsAt": start.Format(time.RFC3339), "endsAt": start.Add(time.Hour).Format(time.RFC3339), "capacity": nil}, &ev); st != 201 {
		t.Fatalf("create event: %d", st)
	}
	if st := s.call("PUT", "/api/live/now-playing", eve.token, map[string]any{"live": true, "track": map[string]string{"title": "track " + evil[:40], "artist": "<u>artist</u>"}}, nil); st != 200 {
		t.Fatalf("set now playing: %d", st)
	}

	bob := s.member("bob")
	b := newBrowser(t, s)
	b.signInAs(bob)
	pages := []struct{ path, text string }{
		{"/channels/" + itoa(ch), "message <img src=x"},
		{"/users/" + itoa(eve.id), "bio <img src=x"},
		{"/courses/" + itoa(course) + "/lessons/" + itoa(lessons[0]), "a javascript link"},
		{"/mixes/" + itoa(mix.ID), "mix <img src=x"},
		{"/mixes", "mix <img src=x"},
		{"/events/" + itoa(ev.ID), "desc <img src=x"},
		{"/events", "event <b>bold?</b>"},
		{"/live", "track <img src=x"},
	}
	for _, p := range pages {
		b.open(p.path)
		b.waitText("#main", p.text)
		time.Sleep(150 * time.Millisecond) // an onerror or onload would have run by now
		if pwned := eval[string](b, `String(window.__pwned ?? '')`); pwned != "" {
			t.Fatalf("%s: markup ran (%s)", p.path, pwned)
		}
		injected := eval[[]string](b, `[...document.querySelectorAll('#main script, #main iframe, #main svg:not([data-chart]), #main img[src="x"], #main img[src="y"], #main form:not([class]) input[name=q], #main [onclick], #main [onerror], #main [onload], #main [style], #main a[href^="javascript:"]')].map(e => e.outerHTML)`)
		if len(injected) > 0 {
			t.Fatalf("%s: markup was inserted: %v", p.path, injected)
		}
	}
	// The lesson keeps the author's harmless formatting.
	b.open("/courses/" + itoa(course) + "/lessons/" + itoa(lessons[0]))
	b.waitText(".lesson-body em", "emphasis")
	// Nothing in the page can turn a string into markup, and the one policy
	// that parses lesson bodies cannot be made again by injected code.
	blocked := eval[[]bool](b, `[
		(() => { try { document.querySelector('#main').insertAdjacentHTML('beforeend', '<b id=tt>x</b>'); return false } catch { return true } })(),
		(() => { try { trustedTypes.createPolicy('plaza-lesson', {createHTML: s => s}); return false } catch { return true } })(),
		(() => { try { trustedTypes.createPolicy('other', {createHTML: s => s}); return false } catch { return true } })(),
	]`)
	for i, ok := range blocked {
		if !ok {
			t.Errorf("Trusted Types check %d: a string became markup or a policy was created", i)
		}
	}
	if eval[bool](b, `!!document.getElementById('tt')`) {
		t.Fatal("insertAdjacentHTML inserted markup")
	}
}
