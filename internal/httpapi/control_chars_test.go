package httpapi_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
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
			{"contact name", "POST", "/api/contact", "", map[string]any{"name": esc, "email": "eve@example.com", "message": "hello"}, nil},
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

// TestNullBodyRefused: a body of JSON null is not an object: 400 (and
// a body that merely starts with n is a syntax error), and
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
		if r := e.do("PATCH", "/api/users/me", "nonsense", tok); r.status != 400 || strings.Contains(string(r.body), "not null") {
			t.Errorf("a body of nonsense: %d %s, want 400 naming the syntax error", r.status, r.body)
		}
		e.must(422, e.do("GET", "/api/admin/contact-messages?unread=maybe", nil, adminTok))
		e.must(200, e.do("GET", "/api/admin/contact-messages?unread=true", nil, adminTok))
	})
}

// TestReactionsRacingARemoval: reactions sent while a moderator removes
// the message either come before the removal, which takes back the XP
// they earned its author, or are refused (404): the message's net XP is 0
// after each round.
func TestReactionsRacingARemoval(t *testing.T) {
	sqldbtest.ForEach(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db, withEnv("PLAZA_RATE_API", "off"), withEnv("PLAZA_RATE_STRICT", "off"))
		adminTok, _ := e.admin("chief")
		modTok := e.modUser(adminTok, "mona")
		authorTok, author := e.signup("poster")
		var fans []string
		for i := range 8 {
			tok, _ := e.signup(fmt.Sprint("fan", i))
			fans = append(fans, tok)
		}
		var ch channel
		e.must(201, e.do("POST", "/api/community/channels", map[string]any{"name": "Race"}, adminTok)).json(&ch)
		for round := range 4 {
			var m struct{ ID int64 }
			e.must(201, e.do("POST", fmt.Sprintf("/api/community/channels/%d/messages", ch.ID), map[string]string{"body": fmt.Sprint("round ", round)}, authorTok)).json(&m)
			var r struct{ ID int64 }
			e.must(201, e.do("POST", "/api/reports", map[string]any{"targetKind": "message", "targetId": m.ID, "reason": "spam"}, fans[0])).json(&r)
			var wg sync.WaitGroup
			wg.Go(func() {
				e.must(200, e.do("POST", fmt.Sprintf("/api/admin/reports/%d/resolve", r.ID), map[string]string{"action": "remove"}, modTok))
			})
			for _, tok := range fans {
				wg.Go(func() {
					if r := e.do("PUT", fmt.Sprintf("/api/community/messages/%d/reactions/%%F0%%9F%%94%%A5", m.ID), nil, tok); r.status != 200 && r.status != 404 {
						t.Errorf("reaction: %d %s", r.status, r.body)
					}
				})
			}
			wg.Wait()
			ref := fmt.Sprintf("message:%d", m.ID)
			var net int64
			if err := db.Write().QueryRow(context.Background(), []any{&net}, `SELECT COALESCE(SUM(amount), 0) FROM xp_events WHERE user_id = ? AND (ref = ? OR ref LIKE ?)`,
				author.ID, ref, ref+":%"); err != nil {
				t.Fatal(err)
			}
			if net != 0 {
				t.Fatalf("round %d: the removed message still earns its author %d XP", round, net)
			}
		}
	})
}
