package webtest

import (
	"testing"
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

	for _, x := range []*browser{u, a} {
		if errs := x.pageErrors(); len(errs) > 0 {
			t.Fatalf("page errors: %v", errs)
		}
	}
}
