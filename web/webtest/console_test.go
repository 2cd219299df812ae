package webtest

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plazahq/plaza/internal/jobs"
)

// A member's profile shows the achievements they earned, by a rule (their
// first message, awarded by the check job) and by an admin's grant, and
// the collectible they bought with credits, with its serial.
func TestProfileAchievementsAndCollectibles(t *testing.T) {
	s := newSite(t)
	root := s.admin("root")
	ch := s.channel(root, "general")
	ann := s.member("ann")

	var ach struct{ ID int64 }
	if st := s.call("POST", "/api/admin/achievements", root.token, map[string]any{"slug": "helper", "name": "Helpful soul",
		"description": "Answered questions", "xp": 10, "rarity": "rare"}, &ach); st != 201 {
		t.Fatalf("define achievement: %d", st)
	}
	if st := s.call("POST", "/api/admin/achievements/"+itoa(ach.ID)+"/grant", root.token, map[string]any{"userId": ann.id, "reason": "forum help"}, nil); st != 201 {
		t.Fatalf("grant: %d", st)
	}
	s.post(ann, ch, "my first message") // meets the built-in first-message rule

	var col struct{ ID int64 }
	if st := s.call("POST", "/api/admin/collectibles", root.token, map[string]any{"slug": "gold-mic", "name": "Gold microphone",
		"rarity": "epic", "supply": 10, "priceCredits": 60}, &col); st != 201 {
		t.Fatalf("create collectible: %d", st)
	}
	if st := s.callKey("POST", "/api/admin/wallets/"+itoa(ann.id)+"/adjust", root.token, "adjust-ann", map[string]any{"amount": 100, "reason": "prize"}); st/100 != 2 {
		t.Fatalf("adjust: %d", st)
	}
	if st := s.callKey("POST", "/api/collectibles/"+itoa(col.ID)+"/purchase", ann.token, "buy-mic", map[string]any{}); st/100 != 2 {
		t.Fatalf("purchase: %d", st)
	}

	// A visitor (not signed in) opens ann's profile.
	v := newBrowser(t, s)
	v.open("/users/" + itoa(ann.id))
	v.waitText("h1", "ann")
	v.waitText(`section[aria-labelledby=ach-h] .badges`, "Helpful soul")
	v.waitText(`section[aria-labelledby=ach-h] .badges`, "rare · +10 XP")
	v.waitText(`section[aria-labelledby=col-h] .badges`, "Gold microphone")
	v.waitText(`section[aria-labelledby=col-h] .badges`, "epic · #1 of 10")
	// The rule's award comes from a job: a reload shows it once it ran.
	waitFor(t, "the first-message award", func() bool {
		var l struct {
			Items []struct{ Achievement struct{ Slug string } }
		}
		s.call("GET", "/api/users/"+itoa(ann.id)+"/achievements", "", nil, &l)
		for _, x := range l.Items {
			if x.Achievement.Slug == "first-message" {
				return true
			}
		}
		return false
	})
	v.open("/users/" + itoa(ann.id))
	v.waitText(`section[aria-labelledby=ach-h] .badges`, "Helpful soul")
	v.waitJS(`document.querySelectorAll('section[aria-labelledby=ach-h] .badges li').length === 2`, "two achievements")

	// Ann's own page also shows her XP with the achievements' XP in it.
	a := newBrowser(t, s)
	a.signInAs(ann)
	a.open("/users/" + itoa(ann.id))
	a.waitText(`section[aria-labelledby=col-h]`, "#1 of 10")
	a.waitText(`[data-testid=xp]`, "XP")
	noPageErrors(t, v, a)
}

// A message sent with the contact form reaches the admin's inbox, which
// marks it read (audited) and shows it again under "all".
func TestContactInbox(t *testing.T) {
	s := newSite(t)
	root := s.admin("root")

	c := newBrowser(t, s)
	c.open("/contact")
	c.fill("#f-name", "Dora Visitor")
	c.fill("#f-email", "dora@example.com")
	c.fill("#f-message", "Can our choir use Plaza? <b>thanks</b>")
	c.clickText("Send")
	c.waitText(`[role=status]`, "Thank you.")
	if st := s.call("POST", "/api/contact", "", map[string]string{"name": "Eli", "email": "eli@example.com", "message": "Second question"}, nil); st/100 != 2 {
		t.Fatalf("contact API: %d", st)
	}

	a := newBrowser(t, s)
	a.signInAs(root)
	a.open("/admin/inbox")
	a.waitText("h1", "Contact inbox")
	a.waitText(".inbox", "Can our choir use Plaza? <b>thanks</b>")
	a.waitText(".inbox", "dora@example.com")
	a.waitText(".inbox", "Second question")
	if n := eval[int](a, `document.querySelectorAll('.inbox li.unread').length`); n != 2 {
		t.Fatalf("%d unread messages shown, want 2", n)
	}
	if n := eval[int](a, `document.querySelectorAll('.inbox b').length`); n != 0 {
		t.Fatal("markup in a contact message was rendered")
	}
	a.click(`.inbox button[aria-label*="Dora Visitor"]`)
	a.waitNoText(".inbox", "Can our choir")
	a.waitText(".inbox", "Second question")

	// Everything, read included; the mark is in the audit log.
	a.click(`#main input[type=checkbox]`)
	a.waitText(".inbox", "Can our choir")
	a.waitText(".inbox li:not(.unread)", "Dora Visitor")
	a.waitText(".inbox li.unread", "Eli")
	a.open("/admin/audit?action=contact.mark")
	a.waitText("table.audit", "contact.mark")
	noPageErrors(t, c, a)
}

// A job that failed shows among the dead letters with its error; retried
// once its cause is gone it completes, and a discarded one moves to
// "discarded".
func TestAdminJobsRetryAndDiscard(t *testing.T) {
	var broken atomic.Bool
	broken.Store(true)
	sync := jobs.Kind{Name: "webtest.sync", MaxAttempts: 1, Handle: func(ctx context.Context, j jobs.Job) error {
		if broken.Load() {
			return errors.New("partner API answered 503")
		}
		return nil
	}}
	s := newSiteWithJobs(t, sync)
	root := s.admin("root")
	for i := range 2 {
		if err := s.app.Jobs.Enqueue(context.Background(), jobs.Must("webtest.sync", map[string]int{"n": i})); err != nil {
			t.Fatal(err)
		}
	}

	a := newBrowser(t, s)
	a.signInAs(root)
	a.open("/admin/jobs")
	a.waitText("h1", "Jobs")
	// Both fail their only attempt and die; the page (dead by default) shows them.
	waitFor(t, "two dead jobs", func() bool {
		var l struct{ Items []jobs.Job }
		s.call("GET", "/api/admin/jobs?state=dead", root.token, nil, &l)
		return len(l.Items) == 2
	})
	a.open("/admin/jobs")
	a.waitJS(`document.querySelectorAll('ul.jobs li').length === 2`, "two dead jobs listed")
	a.waitText("ul.jobs", "webtest.sync")
	a.waitText("ul.jobs pre", "partner API answered 503")
	a.waitText("ul.jobs", "attempts 1/1")
	a.waitText("dl.stats", "Dead")
	ids := eval[[]float64](a, `[...document.querySelectorAll('ul.jobs li strong')].map(e => +e.textContent.match(/#(\d+)/)[1])`)
	if len(ids) != 2 {
		t.Fatalf("job ids %v", ids)
	}
	retry, discard := int64(ids[0]), int64(ids[1])

	// The partner is back: retry one, discard the other.
	broken.Store(false)
	a.click(fmt.Sprintf(`button[aria-label="Retry job %d"]`, retry))
	a.waitJS(fmt.Sprintf(`!document.querySelector('button[aria-label="Retry job %d"]')`, retry), "the retried job to leave the list")
	a.click(fmt.Sprintf(`button[aria-label="Discard job %d"]`, discard))
	a.waitText("#main", "No dead jobs.")

	var j struct{ State string }
	waitFor(t, "the retried job to complete", func() bool {
		s.call("GET", "/api/admin/jobs/"+itoa(retry), root.token, nil, &j)
		return j.State == "completed"
	})
	s.call("GET", "/api/admin/jobs/"+itoa(discard), root.token, nil, &j)
	if j.State != "discarded" {
		t.Fatalf("discarded job is %q", j.State)
	}
	setSelect(a, "#job-state", "completed")
	a.waitText("ul.jobs", fmt.Sprintf("#%d webtest.sync", retry))
	setSelect(a, "#job-state", "discarded")
	a.waitText("ul.jobs", fmt.Sprintf("#%d webtest.sync", discard))
	a.open("/admin/audit")
	a.waitText("table.audit", "job.retry")
	a.waitText("table.audit", "job.discard")
	noPageErrors(t, a)
}

// waitFor polls ok for up to ten seconds.
func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !ok(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s: timed out", what)
		}
	}
}

// setSelect chooses value in the select sel as a person would.
func setSelect(b *browser, sel, value string) {
	b.t.Helper()
	eval[bool](b, fmt.Sprintf(`(() => { const s = document.querySelector(%q); s.value = %q; s.dispatchEvent(new Event('change', {bubbles: true})); return true })()`, sel, value))
}
