package httpapi_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plazahq/plaza/internal/account"
	"github.com/plazahq/plaza/internal/sqldb"
	"github.com/plazahq/plaza/internal/sqldb/sqldbtest"
)

// A ban ends every session (sockets close with 4003), login answers 403
// banned with the reason and the end, the ban ends by itself at its end,
// and refused bans change nothing.
func TestBanAndUnban(t *testing.T) {
	sqldbtest.ForEach(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		adminTok, admin := e.admin("chief")
		tok, u := e.signup("rowan")
		other, _ := e.login("rowan", pw, "")
		ws := e.connect(tok)
		path := fmt.Sprintf("/api/admin/users/%d", u.ID)

		e.must(403, e.do("POST", path+"/ban", map[string]string{"reason": "spam"}, tok))
		e.must(422, e.do("POST", path+"/ban", map[string]string{}, adminTok))
		e.must(422, e.do("POST", path+"/ban", map[string]any{"reason": "spam", "until": e.clock.Now().Add(-time.Hour)}, adminTok))
		e.must(422, e.do("POST", path+"/ban", map[string]any{"reason": "spam", "until": "tomorrow"}, adminTok))
		e.must(422, e.do("POST", fmt.Sprintf("/api/admin/users/%d/ban", admin.ID), map[string]string{"reason": "oops"}, adminTok))
		e.must(404, e.do("POST", "/api/admin/users/99999999/ban", map[string]string{"reason": "spam"}, adminTok))
		e.must(409, e.do("POST", path+"/unban", nil, adminTok))
		e.must(200, e.do("GET", "/api/users/me", nil, other)) // nothing changed

		until := e.clock.Now().Add(48 * time.Hour).Truncate(time.Second)
		var banned account.User
		e.must(200, e.do("POST", path+"/ban", map[string]any{"reason": "spam links", "until": until}, adminTok)).json(&banned)
		if !banned.Banned || banned.BanReason != "spam links" || banned.BannedUntil == nil || !banned.BannedUntil.Equal(until) {
			t.Fatalf("ban answered %+v", banned)
		}
		if code := ws.closedWith(); code != 4003 {
			t.Fatalf("banned user's socket closed with %d, want 4003", code)
		}
		for _, s := range []string{tok, other} {
			if r := e.do("GET", "/api/users/me", nil, s); r.status != 401 && r.status != 403 {
				t.Fatalf("banned user's session still works: %d %s", r.status, r.body)
			}
		}
		r := e.must(403, e.do("POST", "/api/auth/login", map[string]string{"login": "rowan", "password": pw}, ""))
		var body struct {
			Error struct {
				Code, Message, Reason string
				Until                 *time.Time
			}
		}
		r.json(&body)
		if body.Error.Code != "banned" || body.Error.Reason != "spam links" || body.Error.Until == nil || !body.Error.Until.Equal(until) ||
			!strings.Contains(body.Error.Message, "spam links") {
			t.Fatalf("login of a banned user: %s", r.body)
		}
		// A wrong password still says wrong password (a ban tells nothing
		// to someone who does not know the password).
		e.must(401, e.do("POST", "/api/auth/login", map[string]string{"login": "rowan", "password": "not the password"}, ""))

		var detail struct {
			Status string
			Ban    *struct {
				Reason string
				Until  *time.Time
			}
			Counts struct{ LiveSessions int64 }
		}
		e.must(200, e.do("GET", path, nil, adminTok)).json(&detail)
		if detail.Status != "banned" || detail.Ban == nil || detail.Ban.Reason != "spam links" || detail.Counts.LiveSessions != 0 {
			t.Fatalf("detail of a banned user: %+v", detail)
		}

		// The ban ends by itself.
		e.clock.Advance(49 * time.Hour)
		tok, _ = e.login("rowan", pw, "")
		e.must(200, e.do("GET", "/api/users/me", nil, tok))
		e.must(409, e.do("POST", path+"/unban", nil, adminTok))

		// A ban without end, lifted by an admin.
		e.must(200, e.do("POST", path+"/ban", map[string]any{"reason": "again"}, adminTok))
		e.must(403, e.do("POST", "/api/auth/login", map[string]string{"login": "rowan", "password": pw}, ""))
		var lifted account.User
		e.must(200, e.do("POST", path+"/unban", map[string]string{"reason": "appeal accepted"}, adminTok)).json(&lifted)
		if lifted.Banned {
			t.Fatalf("unban answered %+v", lifted)
		}
		e.login("rowan", pw, "")
	})
}

// The admins' user list searches by username or email prefix and filters
// by role and status; it pages.
func TestAdminUserList(t *testing.T) {
	sqldbtest.ForEach(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		adminTok, _ := e.admin("chief")
		modTok, _ := e.signup("mona")
		_, ana := e.signup("ana_b")
		e.signup("anna")
		e.must(201, e.do("POST", "/api/auth/register", map[string]string{"email": "zed@elsewhere.org", "username": "zed", "password": pw}, ""))
		e.must(200, e.do("POST", fmt.Sprintf("/api/admin/users/%d/ban", ana.ID), map[string]string{"reason": "x"}, adminTok))

		list := func(q string) []string {
			t.Helper()
			var out struct {
				Items []struct {
					Username string
					Status   string
				}
				NextCursor string
			}
			e.must(200, e.do("GET", "/api/admin/users"+q, nil, adminTok)).json(&out)
			var names []string
			for _, it := range out.Items {
				names = append(names, it.Username+"/"+it.Status)
			}
			return names
		}
		check := func(q string, want ...string) {
			t.Helper()
			if got := list(q); strings.Join(got, ",") != strings.Join(want, ",") {
				t.Fatalf("%s: got %v, want %v", q, got, want)
			}
		}
		check("?q=an", "anna/active", "ana_b/banned")
		check("?q=ana_", "ana_b/banned") // _ is a character, not a wildcard
		check("?q=ZED@", "zed/unverified")
		check("?status=banned", "ana_b/banned")
		check("?status=unverified", "zed/unverified")
		check("?role=admin", "chief/active")
		check("?q=an&status=active", "anna/active")
		check("?limit=2", "zed/unverified", "anna/active")
		e.must(422, e.do("GET", "/api/admin/users?status=sleeping", nil, adminTok))
		e.must(422, e.do("GET", "/api/admin/users?role=king", nil, adminTok))
		e.must(403, e.do("GET", "/api/admin/users", nil, modTok))
		e.must(401, e.do("GET", "/api/admin/users", nil, ""))
		e.must(404, e.do("GET", "/api/admin/users/99999999", nil, adminTok))
	})
}

type reportOut struct {
	ID         int64
	TargetKind string
	TargetID   int64
	AuthorID   int64
	Status     string
}

type groupOut struct {
	ReportID int64
	Target   struct {
		Kind     string
		ID       int64
		AuthorID int64
	}
	Count   int
	Reasons []struct {
		ReporterID int64
		Reason     string
	}
}

func (e *env) queue(tok, status string) []groupOut {
	e.t.Helper()
	var out struct{ Items []groupOut }
	e.must(200, e.do("GET", "/api/admin/reports?status="+status, nil, tok)).json(&out)
	return out.Items
}

func (e *env) modUser(adminTok, name string) string {
	e.t.Helper()
	tok, u := e.signup(name)
	e.must(200, e.do("PATCH", fmt.Sprintf("/api/admin/users/%d", u.ID), map[string]string{"role": "moderator"}, adminTok))
	return tok
}

func (e *env) xpOf(tok string) int64 {
	e.t.Helper()
	var me account.User
	e.must(200, e.do("GET", "/api/users/me", nil, tok)).json(&me)
	return me.XP
}

// Reports: one open report per reporter and target; the queue groups them;
// removing hides the content, notifies its author and takes its XP back
// once; resolving again is 409; acting on deleted content changes nothing.
func TestReportsAndRemoval(t *testing.T) {
	sqldbtest.ForEach(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		adminTok, _ := e.admin("chief")
		modTok := e.modUser(adminTok, "mona")
		authorTok, author := e.signup("spammer")
		aTok, _ := e.signup("alice")
		bTok, _ := e.signup("bob")
		var ch channel
		e.must(201, e.do("POST", "/api/community/channels", map[string]any{"name": "General"}, adminTok)).json(&ch)
		var msg struct{ ID int64 }
		e.must(201, e.do("POST", fmt.Sprintf("/api/community/channels/%d/messages", ch.ID), map[string]string{"body": "buy now"}, authorTok)).json(&msg)
		e.must(200, e.do("PUT", fmt.Sprintf("/api/community/messages/%d/reactions/%s", msg.ID, "👍"), nil, aTok))
		xpBefore := e.xpOf(authorTok)
		if xpBefore < 2 {
			t.Fatalf("author has %d XP after a message and a reaction", xpBefore)
		}
		authorWS := e.connect(authorTok)

		// Filing.
		e.must(401, e.do("POST", "/api/reports", map[string]any{"targetKind": "message", "targetId": msg.ID, "reason": "spam"}, ""))
		e.must(422, e.do("POST", "/api/reports", map[string]any{"targetKind": "planet", "targetId": msg.ID, "reason": "spam"}, aTok))
		e.must(422, e.do("POST", "/api/reports", map[string]any{"targetKind": "message", "targetId": msg.ID, "reason": ""}, aTok))
		e.must(404, e.do("POST", "/api/reports", map[string]any{"targetKind": "message", "targetId": 99999999, "reason": "spam"}, aTok))
		e.must(404, e.do("POST", "/api/reports", map[string]any{"targetKind": "shout", "targetId": 99999999, "reason": "spam"}, aTok))
		e.must(400, e.do("POST", "/api/reports", `{"targetKind":"message","targetId":1,"reason":"x","extra":1}`, aTok))
		var r1, r1again, r2 reportOut
		e.must(201, e.do("POST", "/api/reports", map[string]any{"targetKind": "message", "targetId": msg.ID, "reason": "spam"}, aTok)).json(&r1)
		e.must(200, e.do("POST", "/api/reports", map[string]any{"targetKind": "message", "targetId": msg.ID, "reason": "still spam"}, aTok)).json(&r1again)
		if r1again.ID != r1.ID || r1.AuthorID != author.ID || r1.Status != "open" {
			t.Fatalf("report %+v, again %+v", r1, r1again)
		}
		e.must(201, e.do("POST", "/api/reports", map[string]any{"targetKind": "message", "targetId": msg.ID, "reason": "scam"}, bTok)).json(&r2)
		var ur reportOut
		e.must(201, e.do("POST", "/api/reports", map[string]any{"targetKind": "user", "targetId": author.ID, "reason": "spammer"}, bTok)).json(&ur)

		// The queue.
		e.must(403, e.do("GET", "/api/admin/reports", nil, aTok))
		e.must(422, e.do("GET", "/api/admin/reports?status=maybe", nil, modTok))
		q := e.queue(modTok, "open")
		if len(q) != 2 || q[0].ReportID != r1.ID || q[0].Count != 2 || len(q[0].Reasons) != 2 || q[0].Target.Kind != "message" ||
			q[1].Target.Kind != "user" || q[1].Count != 1 {
			t.Fatalf("queue %+v", q)
		}

		// Resolving: bad input and a plain user change nothing.
		e.must(403, e.do("POST", fmt.Sprintf("/api/admin/reports/%d/resolve", r2.ID), map[string]string{"action": "remove"}, aTok))
		e.must(422, e.do("POST", fmt.Sprintf("/api/admin/reports/%d/resolve", r2.ID), map[string]string{"action": "burn"}, modTok))
		e.must(404, e.do("POST", "/api/admin/reports/99999999/resolve", map[string]string{"action": "remove"}, modTok))
		e.must(422, e.do("POST", fmt.Sprintf("/api/admin/reports/%d/resolve", ur.ID), map[string]string{"action": "remove"}, modTok))
		if len(e.queue(modTok, "open")) != 2 {
			t.Fatal("refused resolutions changed the queue")
		}

		var res struct {
			Action    string
			Resolved  int
			XPRevoked int64
		}
		e.must(200, e.do("POST", fmt.Sprintf("/api/admin/reports/%d/resolve", r2.ID), map[string]string{"action": "remove", "note": "spam"}, modTok)).json(&res)
		if res.Resolved != 2 || res.XPRevoked != xpBefore {
			t.Fatalf("resolution %+v (author had %d XP)", res, xpBefore)
		}
		e.must(409, e.do("POST", fmt.Sprintf("/api/admin/reports/%d/resolve", r1.ID), map[string]string{"action": "remove"}, modTok))
		e.must(409, e.do("POST", fmt.Sprintf("/api/admin/reports/%d/resolve", r2.ID), map[string]string{"action": "dismiss"}, modTok))
		if f := authorWS.next("presence"); f.Type != "moderation.removed" || !strings.Contains(string(f.Data), `"targetKind":"message"`) {
			t.Fatalf("author heard %+v", f)
		}
		if xp := e.xpOf(authorTok); xp != 0 {
			t.Fatalf("author keeps %d XP after the removal", xp)
		}
		var page struct{ Items []struct{ ID int64 } }
		e.must(200, e.do("GET", fmt.Sprintf("/api/community/channels/%d/messages", ch.ID), nil, aTok)).json(&page)
		for _, m := range page.Items {
			if m.ID == msg.ID {
				t.Fatal("the removed message is still listed")
			}
		}
		// Removed content cannot be reported again.
		e.must(404, e.do("POST", "/api/reports", map[string]any{"targetKind": "message", "targetId": msg.ID, "reason": "spam"}, aTok))
		if q := e.queue(modTok, "open"); len(q) != 1 || q[0].Target.Kind != "user" {
			t.Fatalf("open queue after resolving %+v", q)
		}
		if q := e.queue(modTok, "resolved"); len(q) != 1 || q[0].Count != 2 {
			t.Fatalf("resolved queue %+v", q)
		}

		// Acting on content its author deleted: 404, the report stays open.
		var msg2 struct{ ID int64 }
		e.must(201, e.do("POST", fmt.Sprintf("/api/community/channels/%d/messages", ch.ID), map[string]string{"body": "again"}, authorTok)).json(&msg2)
		var r3 reportOut
		e.must(201, e.do("POST", "/api/reports", map[string]any{"targetKind": "message", "targetId": msg2.ID, "reason": "spam"}, aTok)).json(&r3)
		e.must(204, e.do("DELETE", fmt.Sprintf("/api/community/messages/%d", msg2.ID), nil, authorTok))
		e.must(404, e.do("POST", fmt.Sprintf("/api/admin/reports/%d/resolve", r3.ID), map[string]string{"action": "remove"}, modTok))
		if q := e.queue(modTok, "open"); len(q) != 2 {
			t.Fatalf("a refused removal resolved reports: %+v", q)
		}
		e.must(200, e.do("POST", fmt.Sprintf("/api/admin/reports/%d/resolve", r3.ID), map[string]string{"action": "dismiss"}, modTok))

		// ban_author on the user report: the author's sessions end.
		e.must(200, e.do("POST", fmt.Sprintf("/api/admin/reports/%d/resolve", ur.ID), map[string]string{"action": "ban_author", "note": "spam ring"}, modTok))
		if code := authorWS.closedWith(); code != 4003 {
			t.Fatalf("banned author's socket closed with %d", code)
		}
		e.must(403, e.do("POST", "/api/auth/login", map[string]string{"login": "spammer", "password": pw}, ""))
		// A moderator may not ban a moderator or an admin.
		var adminReport reportOut
		e.must(201, e.do("POST", "/api/reports", map[string]any{"targetKind": "user", "targetId": 1, "reason": "rude"}, aTok)).json(&adminReport)
		e.must(403, e.do("POST", fmt.Sprintf("/api/admin/reports/%d/resolve", adminReport.ID), map[string]string{"action": "ban_author"}, modTok))
		_ = bTok
	})
}

// Removing a shout, a mix and an event hides each from its lists.
func TestRemovalOfShoutsMixesEvents(t *testing.T) {
	sqldbtest.ForEach(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		adminTok, _ := e.admin("chief")
		aTok, _ := e.signup("alice")
		var sh struct{ ID int64 }
		e.must(201, e.do("POST", "/api/shouts", map[string]string{"body": "hello all"}, aTok)).json(&sh)
		var before struct{ Items []struct{ ID int64 } }
		e.must(200, e.do("GET", "/api/shouts", nil, "")).json(&before) // cached now
		var r reportOut
		e.must(201, e.do("POST", "/api/reports", map[string]any{"targetKind": "shout", "targetId": sh.ID, "reason": "rude"}, adminTok)).json(&r)
		e.must(200, e.do("POST", fmt.Sprintf("/api/admin/reports/%d/resolve", r.ID), map[string]string{"action": "remove"}, adminTok))
		var after struct{ Items []struct{ ID int64 } }
		e.must(200, e.do("GET", "/api/shouts", nil, "")).json(&after)
		if len(before.Items) != 1 || len(after.Items) != 0 {
			t.Fatalf("shouts before %v after %v", before.Items, after.Items)
		}

		var ev struct{ ID int64 }
		start := e.clock.Now().Add(24 * time.Hour)
		e.must(201, e.do("POST", "/api/events", map[string]any{"title": "Meetup", "description": "x", "startsAt": start, "endsAt": start.Add(time.Hour)}, adminTok)).json(&ev)
		e.must(200, e.do("GET", fmt.Sprintf("/api/events/%d", ev.ID), nil, ""))
		e.must(201, e.do("POST", "/api/reports", map[string]any{"targetKind": "event", "targetId": ev.ID, "reason": "fake"}, aTok)).json(&r)
		e.must(200, e.do("POST", fmt.Sprintf("/api/admin/reports/%d/resolve", r.ID), map[string]string{"action": "remove"}, adminTok))
		e.must(404, e.do("GET", fmt.Sprintf("/api/events/%d", ev.ID), nil, ""))
	})
}

// Two moderators resolving one target at once: exactly one wins, the
// other gets 409, and the XP is taken back once.
func TestConcurrentResolutions(t *testing.T) {
	sqldbtest.ForEach(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		adminTok, _ := e.admin("chief")
		mods := []string{e.modUser(adminTok, "mona"), e.modUser(adminTok, "mike"), adminTok}
		authorTok, _ := e.signup("spammer")
		var ch channel
		e.must(201, e.do("POST", "/api/community/channels", map[string]any{"name": "General"}, adminTok)).json(&ch)
		for round := 0; round < 3; round++ {
			var msg struct{ ID int64 }
			e.must(201, e.do("POST", fmt.Sprintf("/api/community/channels/%d/messages", ch.ID), map[string]string{"body": fmt.Sprint("spam ", round)}, authorTok)).json(&msg)
			var ids []int64
			for i, m := range mods {
				var r reportOut
				e.must(201, e.do("POST", "/api/reports", map[string]any{"targetKind": "message", "targetId": msg.ID, "reason": fmt.Sprint("r", i)}, m)).json(&r)
				ids = append(ids, r.ID)
			}
			xp := e.xpOf(authorTok)
			var wg sync.WaitGroup
			codes := make([]int, len(mods))
			for i, m := range mods {
				wg.Add(1)
				go func() {
					defer wg.Done()
					action := []string{"remove", "dismiss", "remove"}[i]
					codes[i] = e.do("POST", fmt.Sprintf("/api/admin/reports/%d/resolve", ids[i]), map[string]string{"action": action}, m).status
				}()
			}
			wg.Wait()
			won, want := 0, xp
			for i, c := range codes {
				switch c {
				case 200:
					won++
					if i != 1 { // a removal takes back the message's 1 XP; a dismissal nothing
						want = xp - 1
					}
				case 409:
				default:
					t.Fatalf("round %d: statuses %v", round, codes)
				}
			}
			if won != 1 {
				t.Fatalf("round %d: %d resolutions won (%v)", round, won, codes)
			}
			if got := e.xpOf(authorTok); got != want {
				t.Fatalf("round %d: XP %d -> %d, want %d (statuses %v)", round, xp, got, want, codes)
			}
		}
		var ledger struct {
			Items []struct {
				Amount int64
				Reason string
				Ref    string
			}
		}
		e.must(200, e.do("GET", "/api/users/me/xp?limit=100", nil, authorTok)).json(&ledger)
		seen := map[string]bool{}
		for _, it := range ledger.Items {
			if it.Reason == "moderation.removed" {
				if seen[it.Ref] || it.Amount >= 0 {
					t.Fatalf("compensating rows %+v", ledger.Items)
				}
				seen[it.Ref] = true
			}
		}
	})
}

// Channel edits: rename, topic, private, archive (posts refused).
func TestAdminChannelEdits(t *testing.T) {
	sqldbtest.ForEach(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		adminTok, _ := e.admin("chief")
		modTok := e.modUser(adminTok, "mona")
		uTok, _ := e.signup("alice")
		var ch channel
		e.must(201, e.do("POST", "/api/community/channels", map[string]any{"name": "General"}, adminTok)).json(&ch)
		path := fmt.Sprintf("/api/admin/channels/%d", ch.ID)
		e.must(403, e.do("PATCH", path, map[string]any{"name": "x"}, modTok))
		e.must(422, e.do("PATCH", path, map[string]any{}, adminTok))
		e.must(422, e.do("PATCH", path, map[string]any{"name": "  "}, adminTok))
		e.must(422, e.do("PATCH", path, map[string]any{"archived": "yes"}, adminTok))
		e.must(404, e.do("PATCH", "/api/admin/channels/99999999", map[string]any{"name": "x"}, adminTok))

		var got struct {
			Name, Topic       string
			Private, Archived bool
		}
		e.must(200, e.do("PATCH", path, map[string]any{"name": "Lobby", "topic": "say hi"}, adminTok)).json(&got)
		if got.Name != "Lobby" || got.Topic != "say hi" || got.Archived {
			t.Fatalf("patched %+v", got)
		}
		var list struct {
			Items []struct{ Name, Topic string }
		}
		e.must(200, e.do("GET", "/api/community/channels", nil, uTok)).json(&list)
		if len(list.Items) != 1 || list.Items[0].Name != "Lobby" || list.Items[0].Topic != "say hi" {
			t.Fatalf("channel list after rename %+v", list.Items)
		}
		e.must(200, e.do("PATCH", path, map[string]any{"archived": true}, adminTok))
		e.must(409, e.do("POST", fmt.Sprintf("/api/community/channels/%d/messages", ch.ID), map[string]string{"body": "hi"}, uTok))
		e.must(200, e.do("GET", fmt.Sprintf("/api/community/channels/%d/messages", ch.ID), nil, uTok))
		e.must(200, e.do("PATCH", path, map[string]any{"archived": false, "private": true}, adminTok))
		e.must(404, e.do("GET", fmt.Sprintf("/api/community/channels/%d/messages", ch.ID), nil, uTok))
	})
}

// Cache stats and flush, and the stats summary.
func TestAdminCacheAndStats(t *testing.T) {
	sqldbtest.ForEach(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		adminTok, _ := e.admin("chief")
		uTok, _ := e.signup("alice")
		var ch channel
		e.must(201, e.do("POST", "/api/community/channels", map[string]any{"name": "General"}, adminTok)).json(&ch)
		e.must(201, e.do("POST", fmt.Sprintf("/api/community/channels/%d/messages", ch.ID), map[string]string{"body": "hi"}, uTok))
		e.must(200, e.do("GET", "/api/shouts", nil, ""))
		e.must(200, e.do("GET", "/api/shouts", nil, ""))

		var c struct {
			Backend string
			Entries int
			Tiers   []struct {
				Tier    string
				HitRate float64
			}
		}
		e.must(200, e.do("GET", "/api/admin/cache", nil, adminTok)).json(&c)
		if c.Backend != "memory" || c.Entries == 0 || len(c.Tiers) == 0 {
			t.Fatalf("cache %+v", c)
		}
		e.must(403, e.do("GET", "/api/admin/cache", nil, uTok))
		e.must(422, e.do("POST", "/api/admin/cache/flush", map[string]any{}, adminTok))
		var fl struct{ Flushed int }
		e.must(200, e.do("POST", "/api/admin/cache/flush", map[string]any{"prefix": "shouts:"}, adminTok)).json(&fl)
		if fl.Flushed < 1 {
			t.Fatalf("flush %+v", fl)
		}
		e.must(200, e.do("POST", "/api/admin/cache/flush", map[string]any{"prefix": "shouts:"}, adminTok)).json(&fl)
		if fl.Flushed != 0 {
			t.Fatalf("second flush %+v", fl)
		}

		var st struct {
			Users struct {
				Total, Active24h, Active7d int64
			}
			MessagesPerDay []struct {
				Day   string
				Count int64
			}
			WebSocket struct{ Connections int64 }
			Jobs      json.RawMessage
			Revenue   struct{ CreditsSold int64 }
		}
		e.connect(uTok)
		e.must(200, e.do("GET", "/api/admin/stats", nil, adminTok)).json(&st)
		if st.Users.Total != 2 || st.Users.Active24h != 2 || st.Users.Active7d != 2 || len(st.MessagesPerDay) != 14 ||
			st.MessagesPerDay[13].Count != 1 || st.MessagesPerDay[13].Day != e.clock.Now().Format("2006-01-02") ||
			st.WebSocket.Connections != 1 || len(st.Jobs) < 2 || st.Revenue.CreditsSold != 0 {
			t.Fatalf("stats %+v", st)
		}
	})
}
