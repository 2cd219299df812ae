package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/plazahq/plaza/internal/community"
	"github.com/plazahq/plaza/internal/gamification"
	"github.com/plazahq/plaza/internal/sqldb"
	"github.com/plazahq/plaza/internal/sqldb/sqldbtest"
)

type reacted struct {
	ID        int64
	Reactions []community.ReactionCount
}

func reactionsOf(t *testing.T, r resp, id int64) []community.ReactionCount {
	t.Helper()
	var l struct{ Items []reacted }
	r.json(&l)
	for _, it := range l.Items {
		if it.ID == id {
			if it.Reactions == nil {
				t.Fatalf("item %d without reactions: %s", id, r.body)
			}
			return it.Reactions
		}
	}
	t.Fatalf("item %d not in %s", id, r.body)
	return nil
}

func TestReactions(t *testing.T) {
	sqldbtest.ForEach(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		adminTok, _ := e.admin("boss")
		tok, una := e.signup("una")
		vicTok, vic := e.signup("vic")
		var pub, priv channel
		e.must(201, e.do("POST", "/api/community/channels", map[string]any{"name": "General"}, adminTok)).json(&pub)
		e.must(201, e.do("POST", "/api/community/channels", map[string]any{"name": "Crew", "private": true}, adminTok)).json(&priv)
		msgs := fmt.Sprintf("/api/community/channels/%d/messages", pub.ID)
		var m, secret struct{ ID int64 }
		e.must(201, e.do("POST", msgs, map[string]string{"body": "react to me"}, tok)).json(&m)
		e.must(201, e.do("POST", fmt.Sprintf("/api/community/channels/%d/messages", priv.ID), map[string]string{"body": "psst"}, adminTok)).json(&secret)
		at := func(kind string, id int64, emoji string) string {
			return fmt.Sprintf("/api/%s/%d/reactions/%s", kind, id, url.PathEscape(emoji))
		}

		room := fmt.Sprintf("channel:%d", pub.ID)
		ws := e.connect(vicTok)
		ws.subscribe(room, nil)
		ws.subscribe("chat", nil)
		mine := e.connect(tok) // una's own room: level.up

		e.must(200, e.do("GET", msgs, nil, vicTok)) // the newest page is cached now
		var got community.ReactionCount
		e.must(200, e.do("PUT", at("community/messages", m.ID, "👍"), nil, vicTok)).json(&got)
		if want := (community.ReactionCount{Emoji: "👍", Count: 1, Mine: true}); got != want {
			t.Fatalf("PUT: %+v", got)
		}
		e.must(200, e.do("PUT", at("community/messages", m.ID, "👍"), nil, vicTok)).json(&got) // idempotent
		if got.Count != 1 {
			t.Fatalf("PUT again: %+v", got)
		}
		f := ws.next("presence")
		var ev struct {
			Kind      string
			ID        int64
			ChannelID int64
			Emoji     string
			UserID    int64
			Count     int
		}
		json.Unmarshal(f.Data, &ev)
		if f.Type != "reaction.added" || f.Room != room || ev.ID != m.ID || ev.Kind != "message" || ev.ChannelID != pub.ID || ev.Emoji != "👍" || ev.UserID != vic.ID || ev.Count != 1 {
			t.Fatalf("event %+v %s", f, f.Data)
		}
		// The cached page was dropped; mine is per reader.
		want := []community.ReactionCount{{Emoji: "👍", Count: 1, Mine: true}}
		if d := cmp.Diff(want, reactionsOf(t, e.must(200, e.do("GET", msgs, nil, vicTok)), m.ID)); d != "" {
			t.Fatalf("vic's page (-want +got):\n%s", d)
		}
		want[0].Mine = false
		for _, who := range []string{tok, ""} {
			if d := cmp.Diff(want, reactionsOf(t, e.must(200, e.do("GET", msgs, nil, who)), m.ID)); d != "" {
				t.Fatalf("others' page (-want +got):\n%s", d)
			}
		}
		// ❤ without the variation selector is the allowed ❤️; others are 422.
		e.must(200, e.do("PUT", at("community/messages", m.ID, "❤"), nil, tok)).json(&got)
		if got.Emoji != "❤️" {
			t.Fatalf("heart: %+v", got)
		}
		for _, bad := range []string{"💩", "abc", "👍👍"} {
			if r := e.do("PUT", at("community/messages", m.ID, bad), nil, vicTok); r.status != 422 {
				t.Fatalf("PUT %q: %d %s", bad, r.status, r.body)
			}
		}
		e.must(404, e.do("PUT", at("community/messages", secret.ID, "👍"), nil, vicTok))
		e.must(404, e.do("DELETE", at("community/messages", secret.ID, "👍"), nil, vicTok))
		e.must(200, e.do("PUT", at("community/messages", secret.ID, "👍"), nil, adminTok))
		e.must(404, e.do("PUT", at("community/messages", m.ID+1000, "👍"), nil, vicTok))
		e.must(401, e.do("PUT", at("community/messages", m.ID, "👍"), nil, ""))
		wenTok, _ := e.registerOnly("wen")
		if r := e.do("PUT", at("community/messages", m.ID, "👍"), nil, wenTok); r.status != 403 || r.code() != "verification_required" {
			t.Fatalf("unverified: %d %s", r.status, r.body)
		}

		e.must(204, e.do("DELETE", at("community/messages", m.ID, "👍"), nil, vicTok))
		e.must(204, e.do("DELETE", at("community/messages", m.ID, "👍"), nil, vicTok)) // idempotent
		// una's own ❤️ came first; then exactly one removal.
		if f := ws.next("presence"); f.Type != "reaction.added" {
			t.Fatalf("heart event %+v", f)
		}
		if f := ws.next("presence"); f.Type != "reaction.removed" || !json.Valid(f.Data) {
			t.Fatalf("remove event %+v", f)
		}
		want = []community.ReactionCount{{Emoji: "❤️", Count: 1, Mine: false}}
		if d := cmp.Diff(want, reactionsOf(t, e.must(200, e.do("GET", msgs, nil, vicTok)), m.ID)); d != "" {
			t.Fatalf("after removal (-want +got):\n%s", d)
		}

		// Shouts: same rules, events in chat.
		var sh struct{ ID int64 }
		e.must(201, e.do("POST", "/api/shouts", map[string]string{"body": "yo"}, tok)).json(&sh)
		if f := ws.next("presence"); f.Type != "shout.created" {
			t.Fatalf("shout event %+v", f)
		}
		e.must(200, e.do("GET", "/api/shouts", nil, "")) // cached
		e.must(200, e.do("PUT", at("shouts", sh.ID, "🔥"), nil, vicTok))
		if f := ws.next("presence"); f.Type != "reaction.added" || f.Room != "chat" {
			t.Fatalf("shout reaction event %+v", f)
		}
		want = []community.ReactionCount{{Emoji: "🔥", Count: 1, Mine: true}}
		if d := cmp.Diff(want, reactionsOf(t, e.must(200, e.do("GET", "/api/shouts", nil, vicTok)), sh.ID)); d != "" {
			t.Fatalf("shouts (-want +got):\n%s", d)
		}
		e.must(422, e.do("PUT", at("shouts", sh.ID, "💩"), nil, vicTok))
		e.must(404, e.do("PUT", at("shouts", sh.ID+1000, "🔥"), nil, vicTok))

		// XP: una has 1 (post) + 1 (vic on the message) + 1 (vic on the
		// shout); her own ❤️ earned nothing. Two more posts bring her to 5,
		// level 2: level.up once, in her room.
		var xp gamification.Ledger
		e.must(200, e.do("GET", "/api/users/me/xp", nil, tok)).json(&xp)
		if xp.XP != 3 || xp.Level != 1 || xp.NextLevelAt == nil || *xp.NextLevelAt != 5 || len(xp.Items) != 3 {
			t.Fatalf("ledger %+v", xp)
		}
		// A mention is a marker in her room: nothing came before it.
		marker := func() {
			t.Helper()
			e.must(201, e.do("POST", msgs, map[string]string{"body": "hey @una"}, adminTok))
			if f := mine.next("presence"); f.Type != "mention" {
				t.Fatalf("before the marker: %+v %s", f, f.Data)
			}
		}
		e.must(201, e.do("POST", msgs, map[string]string{"body": "two"}, tok))
		marker()
		e.must(201, e.do("POST", msgs, map[string]string{"body": "three"}, tok))
		f = mine.next("presence")
		var lv struct{ Level, XP int64 }
		json.Unmarshal(f.Data, &lv)
		if f.Type != "level.up" || f.Room != fmt.Sprintf("user:%d", una.ID) || lv.Level != 2 || lv.XP != 5 {
			t.Fatalf("level.up %+v %s", f, f.Data)
		}
		e.must(200, e.do("PUT", at("community/messages", m.ID, "🎉"), nil, adminTok))
		marker() // no second level.up (xp 5 → 6)
		// Her cached profile follows the awards.
		profile := fmt.Sprintf("/api/users/%d", una.ID)
		var p struct{ XP, Level int64 }
		e.must(200, e.do("GET", profile, nil, "")).json(&p) // cached now
		if p.XP != 6 {
			t.Fatalf("profile: %+v", p)
		}
		e.must(201, e.do("POST", msgs, map[string]string{"body": "four"}, tok))
		e.must(200, e.do("GET", profile, nil, "")).json(&p)
		if p.XP != 7 || p.Level != 2 {
			t.Fatalf("profile after an award: %+v", p)
		}
		e.must(200, e.do("GET", "/api/users/me/xp?limit=2", nil, tok)).json(&xp)
		if xp.XP != 7 || xp.Level != 2 || *xp.NextLevelAt != 20 || len(xp.Items) != 2 || xp.NextCursor == "" ||
			xp.Items[0].Reason != gamification.ReasonMessage || xp.Items[1].Reason != gamification.ReasonReaction {
			t.Fatalf("ledger page %+v", xp)
		}
		e.must(401, e.do("GET", "/api/users/me/xp", nil, ""))
		e.must(422, e.do("GET", "/api/users/me/xp?limit=x", nil, tok))
	})
}

// TestReactionsCostOneQueryPerPage: a page's reactions come from one
// query whatever its size, never one per message.
func TestReactionsCostOneQueryPerPage(t *testing.T) {
	e := newEnv(t, sqldbtest.OpenSQLite(t, sqldb.Config{}))
	adminTok, _ := e.admin("boss")
	tok, _ := e.signup("una")
	var ch channel
	e.must(201, e.do("POST", "/api/community/channels", map[string]any{"name": "General"}, adminTok)).json(&ch)
	msgs := fmt.Sprintf("/api/community/channels/%d/messages", ch.ID)
	for i := range 30 {
		var m struct{ ID int64 }
		e.must(201, e.do("POST", msgs, map[string]string{"body": fmt.Sprint("m", i)}, tok)).json(&m)
		e.must(200, e.do("PUT", fmt.Sprintf("/api/community/messages/%d/reactions/%s", m.ID, url.PathEscape("👍")), nil, adminTok))
	}
	e.jobs.Stop(context.Background()) // its polling would count as queries too
	cost := func(path, token string) int64 {
		if token != "" {
			e.must(200, e.do("GET", "/api/users/me", nil, token)) // session cached
		}
		// Background work (the outbox relay, timers) may query while
		// a request runs; it only ever adds, so the least of three
		// reads is the request's own cost.
		least := int64(-1)
		for range 3 {
			before := e.db.Queries()
			r := e.must(200, e.do("GET", path, nil, token))
			n := e.db.Queries() - before
			if got := len(reactionsOf(t, r, firstID(t, r))); got != 1 {
				t.Fatalf("reactions %d", got)
			}
			if least < 0 || n < least {
				least = n
			}
		}
		return least
	}
	for _, token := range []string{"", tok} {
		// Past pages are not cached: messages, authors, reactions.
		small, large := cost(msgs+"?before=1000000&limit=3", token), cost(msgs+"?before=1000000&limit=30", token)
		if small != large {
			t.Fatalf("a page of 3 costs %d queries, of 30 %d", small, large)
		}
		// The cached newest page: mine for a signed-in reader in one query.
		cost(msgs+"?limit=30", token)
		if warm := cost(msgs+"?limit=30", token); warm > 2 {
			t.Fatalf("a warm page costs %d queries", warm)
		}
	}
}

func firstID(t *testing.T, r resp) int64 {
	var l struct{ Items []reacted }
	r.json(&l)
	if len(l.Items) == 0 {
		t.Fatal("empty page")
	}
	return l.Items[0].ID
}
