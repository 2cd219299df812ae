package webtest

import (
	"testing"

	"github.com/chromedp/chromedp"
)

// An admin bans a member from the admin users page of another browser:
// the member's open channel page is signed out at once (the server closes
// its WebSocket with 4003) and returns to sign-in, which then refuses them.
func TestBanSignsOutOpenPage(t *testing.T) {
	s := newSite(t)
	root := s.admin("root")
	ch := s.channel(root, "general")
	eve := s.member("eve")
	s.post(eve, ch, "hello before the ban")

	u := newBrowser(t, s)
	u.signInAs(eve)
	u.open("/channels/" + itoa(ch))
	u.waitText(".message-list .body", "hello before the ban")
	u.waitText(`[data-testid=online-count]`, "1 online")

	a := newBrowser(t, s)
	a.signInAs(root)
	a.open("/admin/users")
	a.waitText("h1", "Users")
	a.fill("#user-q", "eve")
	a.click(`form[role=search] button[type=submit]`)
	a.waitJS(`location.search.includes('q=eve')`, "the search in the address")
	a.waitText(".admin-users", "@eve")
	a.waitNoText(".admin-users", "@root")
	a.fill(`input[aria-label="Reason to ban eve"]`, "spam")
	a.clickText("Ban")
	a.waitText(".admin-users .tag", "banned")
	a.waitText(".admin-users button", "Unban")

	// Eve's page, which nobody reloaded, goes back to sign-in and says why.
	u.waitText("h1", "Sign in")
	u.waitText("body", "Your account was suspended.")
	if p := u.path(); p != "/sign-in?next="+"%2Fchannels%2F"+itoa(ch) {
		t.Fatalf("eve is at %s, want sign-in then her channel", p)
	}
	// Her old session no longer works and she cannot sign in again.
	if st := s.call("GET", "/api/users/me", eve.token, nil, nil); st != 401 {
		t.Fatalf("banned session: GET /api/users/me = %d, want 401", st)
	}
	u.fill("#f-login", "eve")
	u.fill("#f-password", password)
	u.click(`button[type=submit]`)
	u.waitText("#main", "This account is banned: spam")

	// The list filtered by status shows her as banned; unbanning lets her in again.
	a.open("/admin/users?status=banned")
	a.waitText(".admin-users", "@eve")
	a.clickText("Unban")
	a.waitNoText(".admin-users", "@eve")
	s.login("eve")

	noPageErrors(t, u, a)
}

// The admin console against the real API: users searched and a role
// changed, a reported message removed from the reports queue, and the audit
// log showing those actions, filtered, with its chain verified.
func TestAdminUsersReportsAndAudit(t *testing.T) {
	s := newSite(t)
	root := s.admin("root")
	ch := s.channel(root, "general")
	eve, bob, carl := s.member("eve"), s.member("bob"), s.member("carl")
	msg := s.post(eve, ch, "buy cheap followers now")
	for _, m := range []member{bob, carl} {
		if st := s.call("POST", "/api/reports", m.token, map[string]any{"targetKind": "message", "targetId": msg, "reason": "spam from " + m.name}, nil); st != 201 {
			t.Fatalf("report: %d", st)
		}
	}

	a := newBrowser(t, s)
	a.signInAs(root)

	// Users: search by part of an email, then make carl a moderator.
	a.open("/admin/users")
	a.waitText(".admin-users", "@eve")
	a.fill("#user-q", "carl@example")
	a.click(`form[role=search] button[type=submit]`)
	a.waitJS(`document.querySelectorAll('.admin-users > li').length === 1`, "one user found")
	a.waitText(".admin-users", "@carl")
	a.run(chromedp.SetValue(chromedp.CSS(`select[aria-label="Role of carl"]`), "moderator"))
	eval[bool](a, `(() => { const e = document.querySelector('select[aria-label="Role of carl"]'); e.dispatchEvent(new Event('change', {bubbles: true})); return true })()`)
	a.clickText("Save role")
	a.waitText(".admin-users .tag", "moderator")
	var who struct{ Role string }
	s.call("GET", "/api/admin/users/"+itoa(carl.id), root.token, nil, &who)
	if who.Role != "moderator" {
		t.Fatalf("carl's role is %q after saving, want moderator", who.Role)
	}
	a.run(chromedp.SetValue(chromedp.CSS(`#user-role`), "admin"))
	eval[bool](a, `(() => { document.querySelector('#user-role').dispatchEvent(new Event('change', {bubbles: true})); return true })()`)
	a.waitJS(`location.search.includes('role=admin')`, "the role filter")
	a.waitText("#main", "No users match.")

	// Reports: the two reports on eve's message are one entry; removing it
	// empties the queue and hides the message.
	a.open("/admin/reports")
	a.waitText(".reports", "message #"+itoa(msg))
	a.waitText(".reports", "2 reports")
	a.waitText(".reports .reasons", "spam from bob")
	a.waitText(".reports .reasons", "spam from carl")
	a.fill(`.reports input[type=text]`, "spam")
	a.clickText("Remove the content")
	a.waitText("#main", "No open reports.")
	var hist struct{ Items []struct{ ID int64 } }
	s.call("GET", "/api/community/channels/"+itoa(ch)+"/messages", bob.token, nil, &hist)
	for _, m := range hist.Items {
		if m.ID == msg {
			t.Fatal("the removed message is still in the channel's history")
		}
	}

	// Audit log: both actions, by root; filtered by action; the chain verifies.
	a.open("/admin/audit")
	a.waitText("table.audit", "report.resolve")
	a.waitText("table.audit", "user.role")
	a.waitText("table.audit", "#"+itoa(root.id))
	a.fill("#audit-action", "user.role")
	a.clickText("Filter")
	a.waitJS(`location.search.includes('action=user.role')`, "the action filter")
	a.waitNoText("table.audit", "report.resolve")
	a.waitText("table.audit", "user "+itoa(carl.id))
	a.clickText("Verify the chain")
	a.waitText(`[data-testid=audit-verdict]`, "Intact:")
	noPageErrors(t, a)
}

// The cache page shows the backend and each tier's counts; a flush says how
// many entries went and lands in the audit log.
func TestAdminCacheStatsAndFlush(t *testing.T) {
	s := newSite(t)
	root := s.admin("root")
	s.channel(root, "general")
	for range 3 {
		s.call("GET", "/api/courses", root.token, nil, nil) // fills and hits the cache
	}
	a := newBrowser(t, s)
	a.signInAs(root)
	a.open("/admin/cache")
	a.waitText("h1", "Cache")
	a.waitJS(`[...document.querySelectorAll('dl.stats dd')].length >= 2 && document.querySelector('dl.stats dd').textContent !== '—'`, "the backend")
	a.waitJS(`document.querySelectorAll('#main table tbody tr').length > 0`, "the tiers")
	if dash := eval[int](a, `[...document.querySelectorAll('#main table tbody td')].filter(td => td.textContent === '—').length`); dash != 0 {
		t.Fatalf("%d tier cells show no figure", dash)
	}
	a.clickText("Flush")
	a.waitJS(`/Flushed \d+ entries\./.test(document.querySelector('#main [role=status]')?.textContent ?? '')`, "the flush result")
	a.open("/admin/audit?action=cache.flush")
	a.waitText("table.audit", "cache.flush")
	noPageErrors(t, a)
}
