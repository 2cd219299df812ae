package httpapi_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/plazahq/plaza/internal/sqldb"
	"github.com/plazahq/plaza/internal/sqldb/sqldbtest"
)

// TestControlCharactersRefused: every free-text field refuses control
// characters (a NUL, a terminal escape, a bell) with 422 and changes
// nothing, wherever it is shown later: a tip's note in the recipient's
// history, a report's reason in the moderators' queue, names and topics
// in public lists, reasons in the audit log. Text that may span lines
// keeps its line breaks.
func TestControlCharactersRefused(t *testing.T) {
	sqldbtest.ForEach(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		adminTok, _ := e.admin("root")
		aTok, a := e.signup("amy")
		_, b := e.signup("bob")
		e.must(201, e.do("POST", fmt.Sprintf("/api/admin/wallets/%d/adjust", a.ID), map[string]any{"amount": 50, "reason": "start\nup"}, adminTok, key("grant")...))
		var ch struct{ ID int64 }
		e.must(201, e.do("POST", "/api/community/channels", map[string]any{"name": "Lobby", "description": "two\nlines"}, adminTok)).json(&ch)
		var ach struct{ ID int64 }
		e.must(201, e.do("POST", "/api/admin/achievements", map[string]any{"slug": "kind", "name": "Kind", "rarity": "rare",
			"description": "Was kind.\nTwice."}, adminTok)).json(&ach)
		var msg struct{ ID int64 }
		e.must(201, e.do("POST", fmt.Sprintf("/api/community/channels/%d/messages", ch.ID), map[string]string{"body": "hi"}, aTok)).json(&msg)

		const nul, esc, bell = "a\x00b", "\x1b[31mred", "ding\a"
		for _, c := range []struct {
			name, method, path, token string
			body                      map[string]any
			headers                   []string
		}{
			{"tip note", "POST", "/api/wallet/tips", aTok, map[string]any{"toUserId": b.ID, "amount": 1, "note": esc}, key("tip")},
			{"adjust reason", "POST", fmt.Sprintf("/api/admin/wallets/%d/adjust", a.ID), adminTok, map[string]any{"amount": 1, "reason": nul}, key("adj")},
			{"report reason", "POST", "/api/reports", aTok, map[string]any{"targetKind": "user", "targetId": b.ID, "reason": bell}, nil},
			{"ban reason", "POST", fmt.Sprintf("/api/admin/users/%d/ban", b.ID), adminTok, map[string]any{"reason": esc}, nil},
			{"channel name", "POST", "/api/community/channels", adminTok, map[string]any{"name": nul}, nil},
			{"channel description", "POST", "/api/community/channels", adminTok, map[string]any{"name": "Fine", "description": esc}, nil},
			{"channel rename", "PATCH", fmt.Sprintf("/api/admin/channels/%d", ch.ID), adminTok, map[string]any{"name": "two\nlines"}, nil},
			{"channel topic", "PATCH", fmt.Sprintf("/api/admin/channels/%d", ch.ID), adminTok, map[string]any{"topic": bell}, nil},
			{"achievement name", "POST", "/api/admin/achievements", adminTok, map[string]any{"slug": "x1", "name": esc, "rarity": "rare"}, nil},
			{"achievement description", "POST", "/api/admin/achievements", adminTok, map[string]any{"slug": "x2", "name": "X", "rarity": "rare", "description": nul}, nil},
			{"grant reason", "POST", fmt.Sprintf("/api/admin/achievements/%d/grant", ach.ID), adminTok, map[string]any{"userId": b.ID, "reason": esc}, nil},
			{"collectible name", "POST", "/api/admin/collectibles", adminTok, map[string]any{"slug": "c1", "name": bell, "rarity": "rare"}, nil},
			{"cache prefix", "POST", "/api/admin/cache/flush", adminTok, map[string]any{"prefix": nul}, nil},
		} {
			r := e.do(c.method, c.path, c.body, c.token, c.headers...)
			if r.status != 422 || !strings.Contains(string(r.body), "control characters") {
				t.Errorf("%s: %d %s, want 422 naming the control characters", c.name, r.status, r.body)
			}
		}

		// Nothing changed: no tip, no report, no ban, no new channel,
		// achievement, grant or collectible, and the channel as it was.
		var w struct{ Balance int64 }
		e.must(200, e.do("GET", "/api/wallet", nil, aTok)).json(&w)
		if w.Balance != 50 {
			t.Errorf("amy's balance %d, want 50", w.Balance)
		}
		var reports struct{ Items []any }
		e.must(200, e.do("GET", "/api/admin/reports", nil, adminTok)).json(&reports)
		if len(reports.Items) != 0 {
			t.Errorf("%d reports filed", len(reports.Items))
		}
		bobTok, _ := e.login("bob", pw, "") // not banned
		e.must(200, e.do("GET", "/api/users/me", nil, bobTok))
		var chans struct {
			Items []struct{ Name, Topic string }
		}
		e.must(200, e.do("GET", "/api/community/channels", nil, adminTok)).json(&chans)
		if len(chans.Items) != 1 || chans.Items[0].Name != "Lobby" || chans.Items[0].Topic != "" {
			t.Errorf("channels %+v, want Lobby alone, unchanged", chans.Items)
		}
		var cat struct{ Items []struct{ Slug string } }
		e.must(200, e.do("GET", "/api/achievements", nil, "")).json(&cat)
		for _, it := range cat.Items {
			if it.Slug == "x1" || it.Slug == "x2" {
				t.Errorf("achievement %s defined", it.Slug)
			}
		}
		var held struct{ Items []struct{ Slug string } }
		e.must(200, e.do("GET", fmt.Sprintf("/api/users/%d/achievements", b.ID), nil, "")).json(&held)
		for _, it := range held.Items {
			if it.Slug == "kind" {
				t.Error("the grant with a bad reason was made")
			}
		}
		var cs struct{ Items []any }
		e.must(200, e.do("GET", "/api/collectibles", nil, "")).json(&cs)
		if len(cs.Items) != 0 {
			t.Errorf("%d collectibles defined", len(cs.Items))
		}
	})
}

// TestNullBodyRefused: a body of JSON null is not an object: 400, and
// nothing changes (decoded into an edit's input it would leave every
// member unset, and a PATCH of null answered 200 as a PATCH of {} does).
func TestNullBodyRefused(t *testing.T) {
	sqldbtest.ForEach(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		adminTok, _ := e.admin("root")
		tok, _ := e.signup("nell")
		for _, c := range []struct{ method, path, token string }{
			{"PATCH", "/api/users/me", tok},
			{"POST", "/api/community/channels", adminTok},
			{"POST", "/api/admin/achievements", adminTok},
		} {
			r := e.do(c.method, c.path, " \n null", c.token)
			if r.status != 400 || !strings.Contains(string(r.body), "not null") {
				t.Errorf("%s %s with null: %d %s, want 400", c.method, c.path, r.status, r.body)
			}
		}
		e.must(422, e.do("GET", "/api/admin/contact-messages?unread=maybe", nil, adminTok))
		e.must(200, e.do("GET", "/api/admin/contact-messages?unread=true", nil, adminTok))
	})
}
