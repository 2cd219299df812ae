package webtest

import (
	"testing"
)

// rankNames returns the leaderboard's member names in rank order.
func rankNames(b *browser) string {
	b.t.Helper()
	return eval[string](b, `[...document.querySelectorAll('table.leaderboard tbody tr')].map(r => r.cells[0].textContent + ':' + r.cells[1].textContent.trim().split(/\s+/).pop()).join(' ')`)
}

// The leaderboard ranks members by the XP their messages earned, and moves
// them live when someone earns more while the page is open.
func TestLeaderboardRanksAndUpdatesLive(t *testing.T) {
	s := newSiteWith(t, map[string]string{"PLAZA_XP_MESSAGE": "100", "PLAZA_XP_MESSAGE_DAILY_CAP": "100000"})
	root := s.admin("root")
	ch := s.channel(root, "general")
	ann, bob, cat := s.member("ann"), s.member("bob"), s.member("cat")
	for i := range 3 {
		s.post(ann, ch, "ann says "+itoa(int64(i)))
	}
	s.post(bob, ch, "bob says hi")
	for i := range 2 {
		s.post(cat, ch, "cat says "+itoa(int64(i)))
	}

	b := newBrowser(t, s)
	b.signInAs(bob)
	b.open("/leaderboard")
	b.waitText("h1", "Leaderboard")
	b.waitJS(`document.querySelectorAll('table.leaderboard tbody tr').length === 3`, "three ranked members")
	if got, want := rankNames(b), "1:ann 2:cat 3:bob"; got != want {
		t.Fatalf("ranks %q, want %q", got, want)
	}
	b.waitText(`[data-testid=my-rank]`, "#3")
	b.waitText("table.leaderboard tr.me", "bob")

	// Bob posts four messages: the open page moves him to the top.
	for i := range 4 {
		s.post(bob, ch, "bob again "+itoa(int64(i)))
	}
	b.waitJS(`(document.querySelector('table.leaderboard tbody tr')?.cells[1].textContent ?? '').includes('bob')`, "bob to rise to #1 live")
	if got, want := rankNames(b), "1:bob 2:ann 3:cat"; got != want {
		t.Fatalf("ranks after bob's messages %q, want %q", got, want)
	}

	// All time shows the same order; a signed-out visitor sees it too.
	b.clickText("All time")
	b.waitJS(`location.search.includes('period=all')`, "the all-time board")
	b.waitJS(`document.querySelectorAll('table.leaderboard tbody tr').length === 3`, "three ranked members")
	if got, want := rankNames(b), "1:bob 2:ann 3:cat"; got != want {
		t.Fatalf("all-time ranks %q, want %q", got, want)
	}
	v := newBrowser(t, s)
	v.open("/leaderboard?period=30d")
	v.waitJS(`document.querySelectorAll('table.leaderboard tbody tr').length === 3`, "three ranked members")
	if got, want := rankNames(v), "1:bob 2:ann 3:cat"; got != want {
		t.Fatalf("visitor ranks %q, want %q", got, want)
	}
	noPageErrors(t, b, v)
}
