package webtest

import (
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// choose picks value in the select sel, as a person choosing an option.
func (b *browser) choose(sel, value string) {
	b.t.Helper()
	b.run(chromedp.WaitVisible(chromedp.CSS(sel)), chromedp.SetValue(chromedp.CSS(sel), value))
	eval[bool](b, fmt.Sprintf(`(() => { document.querySelector(%q).dispatchEvent(new Event('change', {bubbles: true})); return true })()`, sel))
}

// noPageErrors fails the test on any uncaught exception, console error or
// CSP report in the browsers.
// The lesson body the admin writes: HTML with a <script> shown as text
// (escaped inside <code>), and a real <script> and an onerror that the
// server removes and the page would not copy anyway.
const hostileLesson = `<p>Never paste a <code>&lt;script&gt;</code> tag from a stranger.</p>` +
	`<script>window.__pwned = 'script'</script><img src="/nothing.png" onerror="window.__pwned = 'img'" alt="a microphone"><p>Point the <strong>capsule</strong> at the source.</p>`

// An admin builds a course in the console (a refused form first: its
// field's message), adds a module and a lesson whose body holds a <script>,
// sees the preview with the script inert, publishes with an audit reason;
// a member then finds the course, enrolls, reads the lesson (the script
// shown as text, nothing run) and completes it.
func TestAdminBuildsCourseMemberCompletesIt(t *testing.T) {
	s := newSite(t)
	root := s.admin("root")
	ann := s.member("ann")

	a := newBrowser(t, s)
	a.signInAs(root)
	a.open("/admin")
	a.click(`.admin-index a[href="/admin/courses"]`)
	a.waitText("h1", "Courses")
	a.waitText("#main", "No courses yet")

	// Without a title the server answers 422, shown at the field.
	a.fill("#f-new-summary", "Record the world around you.")
	a.clickText("Create course")
	a.waitText("#main [role=alert]", "Please check the fields marked below.")
	a.waitText("#f-new-title-err", "is required")
	if inv := eval[string](a, `document.querySelector('#f-new-title').getAttribute('aria-invalid') ?? ''`); inv != "true" {
		t.Fatalf("the title field is not marked invalid (aria-invalid=%q)", inv)
	}
	// A price that is not an amount is refused before it is sent.
	a.fill("#f-new-title", "Field recording")
	a.fill("#f-new-price", "12.345")
	a.clickText("Create course")
	a.waitText("#f-new-price-err", "must be an amount like 19.99")
	a.fill("#f-new-price", "0")
	a.clickText("Create course")
	a.waitJS(`/^\/admin\/courses\/\d+$/.test(location.pathname)`, "the new course's page")
	course := eval[int64](a, `Number(location.pathname.split('/').pop())`)
	a.waitText("h1", "Field recording")
	a.waitText("#main", "Only admins see a draft.")

	// A module, then a lesson in it.
	a.fill("#f-module-title", "Getting started")
	a.clickText("Add module")
	a.waitText(".module-admin h3", "Getting started")
	a.click(`a[aria-label="Add a lesson to Getting started"]`)
	a.waitText("h1", "New lesson")
	a.fill("#f-lesson-title", "Microphones")
	a.choose("#f-lesson-format", "html")
	a.fill("#f-lesson-body", hostileLesson)
	a.fill("#f-lesson-duration", "12:30")
	a.clickText("Create lesson")
	a.waitJS(`/^\/admin\/courses\/\d+\/lessons\/\d+$/.test(location.pathname)`, "the new lesson's page")
	a.waitText("#main [role=status]", "Lesson created.")
	lesson := eval[int64](a, `Number(location.pathname.split('/').pop())`)
	a.waitText("[data-testid=lesson-preview] code", "<script>")
	a.waitText("[data-testid=lesson-preview] strong", "capsule")
	if v := eval[string](a, `document.querySelector('#f-lesson-duration').value`); v != "12:30" {
		t.Fatalf("the saved length reads %q, want 12:30", v)
	}
	assertInert(t, a, "[data-testid=lesson-preview]")

	// Publish, saying why.
	a.clickText("← Back to the course")
	a.waitText(".module-admin .lesson-row", "Microphones")
	a.waitText(".module-admin .lesson-row", "12:30")
	a.fill("#f-publish-reason", "ready for members")
	a.clickText("Publish")
	a.waitText("#main [role=status]", "Published: members see it in the catalog.")
	a.waitText("#main", "Open the member's page")
	var audit struct {
		Items []struct {
			Action string
			Reason string
			Target struct{ ID int64 }
		}
	}
	s.call("GET", "/api/admin/audit?action=course.update", root.token, nil, &audit)
	if len(audit.Items) == 0 || audit.Items[0].Reason != "ready for members" || audit.Items[0].Target.ID != course {
		t.Fatalf("audit of the publication: %+v, want course.update of %d with the reason", audit.Items, course)
	}

	// The member finds it, enrolls, reads and completes the lesson.
	m := newBrowser(t, s)
	m.signInAs(ann)
	m.open("/courses")
	m.waitText("[data-testid=courses]", "Field recording")
	m.clickText("Field recording")
	m.waitText("h1", "Field recording")
	m.clickText("Enroll")
	m.waitText(".lesson-row", "Microphones")
	m.clickText("Microphones")
	m.waitJS(fmt.Sprintf(`location.pathname === '/courses/%d/lessons/%d'`, course, lesson), "the lesson the admin wrote")
	m.waitText("h1", "Microphones")
	m.waitText(".lesson-body code", "<script>")
	m.waitText(".lesson-body strong", "capsule")
	assertInert(t, m, ".lesson-body")
	m.clickText("Mark as complete")
	m.waitText("[data-testid=lesson-completed]", "1 of 1 lesson done")
	m.waitText("[data-testid=lesson-completed]", "Course completed!")
	var p struct {
		Progress struct{ Completed, Total int }
	}
	s.call("GET", "/api/courses/"+itoa(course), ann.token, nil, &p)
	if p.Progress.Completed != 1 || p.Progress.Total != 1 {
		t.Fatalf("ann's progress after completing: %+v, want 1 of 1", p.Progress)
	}

	// The admin deletes the lesson, confirming with the keyboard's focus on the confirmation.
	a.open("/admin/courses/" + itoa(course) + "/lessons/" + itoa(lesson))
	a.clickText("Delete…")
	a.waitJS(`document.activeElement?.textContent === 'Delete “Microphones” for good'`, "the keyboard at the confirmation")
	a.fill("#f-delete-reason", "recorded again")
	a.clickText("Delete “Microphones” for good")
	a.waitJS(fmt.Sprintf(`location.pathname === '/admin/courses/%d'`, course), "the course's page")
	a.waitText(".module-admin", "No lessons yet.")
	s.call("GET", "/api/admin/audit?action=lesson.delete", root.token, nil, &audit)
	if len(audit.Items) != 1 || audit.Items[0].Reason != "recorded again" || audit.Items[0].Target.ID != lesson {
		t.Fatalf("audit of the deletion: %+v", audit.Items)
	}
	noPageErrors(t, a, m)
}

// assertInert checks that nothing of a hostile body ran or was inserted
// under sel.
func assertInert(t *testing.T, b *browser, sel string) {
	t.Helper()
	time.Sleep(150 * time.Millisecond) // an onerror would have run by now
	if pwned := eval[string](b, `String(window.__pwned ?? '')`); pwned != "" {
		t.Fatalf("markup in the lesson ran (%s)", pwned)
	}
	found := eval[[]string](b, fmt.Sprintf(`[...document.querySelectorAll(%q)].flatMap(r => [...r.querySelectorAll('script, [onerror], [onload], [onclick]')]).map(e => e.outerHTML)`, sel))
	if len(found) > 0 {
		t.Fatalf("%s: markup was inserted: %v", sel, found)
	}
}

// An admin defines a collectible with a supply of 2 (a refused slug
// first); members buy it from the collectibles page with credits: the
// first gets serial #1 of 2 and sees the balance drop, one without enough
// credits is told so, the second buyer gets #2 of 2, and a third, whose
// page still said some were left, is told it sold out and pays nothing. The
// admin cannot lower the supply below what was handed out.
func TestCollectibleDefinedThenBoughtUntilSoldOut(t *testing.T) {
	s := newSite(t)
	root := s.admin("root")
	ann, bob, cleo, dan := s.member("ann"), s.member("bob"), s.member("cleo"), s.member("dan")
	for _, g := range []struct {
		m      member
		amount int
	}{{ann, 100}, {bob, 100}, {cleo, 100}, {dan, 10}} {
		if st := s.callKey("POST", "/api/admin/wallets/"+itoa(g.m.id)+"/adjust", root.token, "adjust-"+g.m.name, map[string]any{"amount": g.amount, "reason": "welcome"}); st != 201 {
			t.Fatalf("adjust %s: %d", g.m.name, st)
		}
	}

	a := newBrowser(t, s)
	a.signInAs(root)
	a.open("/admin/collectibles")
	a.waitText("#main", "No collectibles yet.")
	a.fill("#f-new-name", "Gold vinyl")
	a.fill("#f-new-slug", "Gold Vinyl")
	a.choose("#f-new-rarity", "legendary")
	a.fill("#f-new-supply", "2")
	a.fill("#f-new-price", "40")
	a.clickText("Create collectible")
	a.waitText("#f-new-slug-err", "lowercase letters, digits and dashes")
	a.fill("#f-new-slug", "gold-vinyl")
	a.clickText("Create collectible")
	a.waitText("#main [role=status]", "Created “Gold vinyl”: 2 of 2 left, 40 credits.")
	a.waitText("table.admin-collectibles", "Gold vinyl")
	a.waitText("table.admin-collectibles", "2 of 2 left")

	// Cleo opens the page now; it still says two are left when she buys.
	c := newBrowser(t, s)
	c.signInAs(cleo)
	c.open("/collectibles")
	c.waitText("[data-testid=balance]", "100 credits")
	c.waitText("[data-testid=supply]", "2 of 2 left")

	buy := `Buy Gold vinyl for 40 credits`
	u := newBrowser(t, s)
	u.signInAs(ann)
	u.open("/wallet")
	u.clickText("collectibles")
	u.waitText("[data-testid=balance]", "100 credits")
	u.waitText(".collectible .price", "40 credits")
	u.clickText(buy)
	u.waitText(".collectible [role=status]", "It's yours: Gold vinyl #1 of 2.")
	u.waitText("[data-testid=owned]", "Yours: #1 of 2")
	u.waitText("[data-testid=balance]", "60 credits")
	u.waitText("[data-testid=supply]", "1 of 2 left")

	// Dan has 10 credits: a clear refusal, with the way to get more.
	d := newBrowser(t, s)
	d.signInAs(dan)
	d.open("/collectibles")
	d.waitText("[data-testid=balance]", "10 credits")
	d.clickText(buy)
	d.waitText(".collectible [role=alert]", "Not enough credits: Gold vinyl costs 40 credits and you have 10 credits. Nothing was charged.")
	d.waitText(".collectible [role=alert] a[href='/wallet']", "Buy credits")
	d.waitText("[data-testid=balance]", "10 credits")

	b := newBrowser(t, s)
	b.signInAs(bob)
	b.open("/collectibles")
	b.clickText(buy)
	b.waitText(".collectible [role=status]", "It's yours: Gold vinyl #2 of 2.")
	b.waitText("[data-testid=balance]", "60 credits")
	b.waitText("[data-testid=supply]", "Sold out")

	// Cleo's page was read before the last one went.
	c.waitText("[data-testid=supply]", "2 of 2 left")
	c.clickText(buy)
	c.waitText(".collectible [role=alert]", "Sold out: all 2 are taken. Nothing was charged.")
	c.waitText("[data-testid=supply]", "Sold out (all 2 claimed)")
	c.waitText("[data-testid=balance]", "100 credits")
	c.waitJS(`[...document.querySelectorAll('.collectible button')].every(b => b.disabled && b.textContent.trim() === 'Sold out')`, "the buy button to say sold out")

	// What the server holds agrees: two serials, two debits, nobody else paid.
	var list struct {
		Items []struct {
			Supply, Remaining *int64
		}
	}
	s.call("GET", "/api/collectibles", "", nil, &list)
	if len(list.Items) != 1 || *list.Items[0].Supply != 2 || *list.Items[0].Remaining != 0 {
		t.Fatalf("collectibles: %+v, want one with 0 of 2 left", list.Items)
	}
	for _, w := range []struct {
		m    member
		want int64
	}{{ann, 60}, {bob, 60}, {cleo, 100}, {dan, 10}} {
		var bal struct{ Balance int64 }
		s.call("GET", "/api/wallet", w.m.token, nil, &bal)
		if bal.Balance != w.want {
			t.Errorf("%s's balance is %d, want %d", w.m.name, bal.Balance, w.want)
		}
	}
	var owned struct{ Items []struct{ Serial int64 } }
	s.call("GET", "/api/users/"+itoa(bob.id)+"/collectibles", "", nil, &owned)
	if len(owned.Items) != 1 || owned.Items[0].Serial != 2 {
		t.Fatalf("bob holds %+v, want serial 2", owned.Items)
	}

	// The admin cannot lower the supply below the two handed out: the 409 says why.
	a.open("/admin/collectibles")
	a.waitText("table.admin-collectibles", "Sold out (all 2 claimed)")
	a.click(`button[aria-label="Edit Gold vinyl"]`)
	a.waitJS(`document.activeElement?.id === 'edit-col-h'`, "the keyboard at the edit form")
	a.fill("#f-edit-supply", "1")
	a.clickText("Save collectible")
	a.waitText("#main [role=alert]", "2 were handed out already")
	a.fill("#f-edit-supply", "3")
	a.clickText("Save collectible")
	a.waitText("#main [role=status]", "Saved “Gold vinyl”.")
	a.waitText("table.admin-collectibles", "1 of 3 left")
	noPageErrors(t, a, u, d, b, c)
}

// An admin defines an achievement earned by a rule (a refused form
// first), sees it listed with its rule, and grants it by hand with a
// reason, which the audit log keeps.
func TestAdminDefinesAndGrantsAchievement(t *testing.T) {
	s := newSite(t)
	root := s.admin("root")
	ann := s.member("ann")

	a := newBrowser(t, s)
	a.signInAs(root)
	a.open("/admin")
	a.click(`.admin-index a[href="/admin/achievements"]`)
	a.waitText("h1", "Achievements")
	a.fill("#f-ach-name", "Night owl")
	a.fill("#f-ach-slug", "night-owl")
	a.fill("#f-ach-xp", "25")
	a.choose("#f-ach-rarity", "rare")
	a.choose("#f-ach-rule", "shouts")
	a.fill("#f-ach-count", "0")
	a.clickText("Define achievement")
	a.waitText("#f-ach-count-err", "must be a whole number from 1")
	a.fill("#f-ach-count", "3")
	a.fill("#f-ach-description", "Three shouts after midnight.")
	a.clickText("Define achievement")
	a.waitText("#main [role=status]", "Defined “Night owl”.")
	a.waitText("table.admin-achievements", "Night owl")
	a.waitText("table.admin-achievements", "3 shouts posted")
	a.waitText("table.admin-achievements", "rare")

	// The same slug again: the server's 409 names the field.
	a.fill("#f-ach-name", "Night owl again")
	a.fill("#f-ach-slug", "night-owl")
	a.clickText("Define achievement")
	a.waitText("#f-ach-slug-err", "is taken")

	// Grant it by hand.
	var defs struct {
		Items []struct {
			ID   int64
			Slug string
		}
	}
	s.call("GET", "/api/achievements", "", nil, &defs)
	var id int64
	for _, d := range defs.Items {
		if d.Slug == "night-owl" {
			id = d.ID
		}
	}
	if id == 0 {
		t.Fatalf("night-owl is not in the catalog: %+v", defs.Items)
	}
	a.choose("#f-grant-achievement", itoa(id))
	a.fill("#f-grant-userId", itoa(ann.id))
	a.fill("#f-grant-reason", "won the night contest")
	a.clickText("Grant")
	a.waitText("#main [role=status]", "Member #"+itoa(ann.id)+" holds “Night owl” since")
	var held struct {
		Items []struct{ Achievement struct{ Slug string } }
	}
	s.call("GET", "/api/users/"+itoa(ann.id)+"/achievements", "", nil, &held)
	if len(held.Items) != 1 || held.Items[0].Achievement.Slug != "night-owl" {
		t.Fatalf("ann holds %+v, want night-owl", held.Items)
	}
	var audit struct{ Items []struct{ Reason string } }
	s.call("GET", "/api/admin/audit?action=achievement.grant", root.token, nil, &audit)
	if len(audit.Items) != 1 || audit.Items[0].Reason != "won the night contest" {
		t.Fatalf("audit of the grant: %+v", audit.Items)
	}
	noPageErrors(t, a)
}
