package httpapi_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/plazahq/plaza/internal/account"
	"github.com/plazahq/plaza/internal/community"
	"github.com/plazahq/plaza/internal/gamification"
	"github.com/plazahq/plaza/internal/sqldb"
	"github.com/plazahq/plaza/internal/sqldb/sqldbtest"
	"github.com/plazahq/plaza/internal/sqlstore"
)

// admin creates an admin account and signs it in.
func (e *env) admin(name string) (string, account.User) {
	e.t.Helper()
	if _, err := e.accounts.CreateAdmin(context.Background(), account.RegisterInput{Email: name + "@example.com", Username: name, Password: pw}); err != nil {
		e.t.Fatal(err)
	}
	return e.login(name, pw, "")
}

type channel struct {
	ID      int64
	Slug    string
	Private bool
}

// TestChannelsArePaged: the channel list is a cursor-paged list like every
// other (it answered all channels at once, ignoring limit).
func TestChannelsArePaged(t *testing.T) {
	sqldbtest.ForEach(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		adminTok, boss := e.admin("boss")
		store := sqlstore.NewCommunity(db, nil, gamification.DefaultRules)
		for i := range 105 {
			if _, err := store.CreateChannel(context.Background(), community.Channel{Slug: fmt.Sprintf("room-%d", i), Name: fmt.Sprintf("Room %d", i), CreatedAt: time.Now()}, boss.ID); err != nil {
				t.Fatal(err)
			}
		}
		type page struct {
			Items      []channel
			NextCursor string
		}
		var p page
		e.must(200, e.do("GET", "/api/community/channels", nil, "")).json(&p)
		if len(p.Items) != 50 || p.NextCursor == "" || p.Items[0].Slug != "room-104" {
			t.Fatalf("default page: %d items, cursor %q, first %+v", len(p.Items), p.NextCursor, p.Items[0])
		}
		e.must(200, e.do("GET", "/api/community/channels?limit=500", nil, "")).json(&p)
		if len(p.Items) != 100 {
			t.Fatalf("limit=500 gave %d items, want the maximum 100", len(p.Items))
		}
		for _, bad := range []string{"limit=0", "limit=x", "before=x", "before=-1"} {
			e.must(422, e.do("GET", "/api/community/channels?"+bad, nil, ""))
		}
		seen := map[int64]bool{}
		cursor := ""
		for range 10 {
			var p page
			e.must(200, e.do("GET", "/api/community/channels?limit=40&before="+cursor, nil, adminTok)).json(&p)
			for _, ch := range p.Items {
				if seen[ch.ID] {
					t.Fatalf("channel %d on two pages", ch.ID)
				}
				seen[ch.ID] = true
			}
			if cursor = p.NextCursor; cursor == "" {
				break
			}
		}
		if len(seen) != 105 {
			t.Fatalf("walked %d channels, want 105", len(seen))
		}
		// A new channel drops the cached first page.
		var ch channel
		e.must(201, e.do("POST", "/api/community/channels", map[string]any{"name": "Newest"}, adminTok)).json(&ch)
		e.must(200, e.do("GET", "/api/community/channels", nil, "")).json(&p)
		if p.Items[0].ID != ch.ID {
			t.Fatalf("first page starts with %+v, want the new channel", p.Items[0])
		}
	})
}

func TestChannelsAndMessages(t *testing.T) {
	sqldbtest.ForEach(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		adminTok, _ := e.admin("boss")
		tok, u := e.signup("una")
		otherTok, _ := e.signup("vic")

		e.must(403, e.do("POST", "/api/community/channels", map[string]any{"name": "General"}, tok))
		var pub, priv channel
		e.must(201, e.do("POST", "/api/community/channels", map[string]any{"name": "General Chat!"}, adminTok)).json(&pub)
		e.must(201, e.do("POST", "/api/community/channels", map[string]any{"name": "Crew", "private": true}, adminTok)).json(&priv)
		if pub.Slug != "general-chat" {
			t.Fatalf("slug %q", pub.Slug)
		}
		e.must(409, e.do("POST", "/api/community/channels", map[string]any{"name": "Other", "slug": "general-chat"}, adminTok))
		e.must(422, e.do("POST", "/api/community/channels", map[string]any{"name": ""}, adminTok))

		var list struct{ Items []channel }
		e.must(200, e.do("GET", "/api/community/channels", nil, tok)).json(&list)
		if len(list.Items) != 1 || list.Items[0].ID != pub.ID {
			t.Fatalf("user sees %+v", list.Items)
		}
		e.must(200, e.do("GET", "/api/community/channels", nil, "")).json(&list)
		if len(list.Items) != 1 {
			t.Fatalf("anonymous sees %+v", list.Items)
		}
		e.must(401, e.do("GET", "/api/community/channels", nil, "plz_bogus"))

		// Private channel: invisible (404) until added.
		e.must(404, e.do("GET", fmt.Sprintf("/api/community/channels/%d/messages", priv.ID), nil, tok))
		e.must(404, e.do("POST", fmt.Sprintf("/api/community/channels/%d/messages", priv.ID), map[string]string{"body": "hi"}, tok))
		e.must(403, e.do("POST", fmt.Sprintf("/api/community/channels/%d/members", priv.ID), map[string]int64{"userId": u.ID}, tok))
		e.must(204, e.do("POST", fmt.Sprintf("/api/community/channels/%d/members", priv.ID), map[string]int64{"userId": u.ID}, adminTok))
		e.must(200, e.do("GET", "/api/community/channels", nil, tok)).json(&list)
		if len(list.Items) != 2 {
			t.Fatalf("member sees %+v", list.Items)
		}
		e.must(201, e.do("POST", fmt.Sprintf("/api/community/channels/%d/messages", priv.ID), map[string]string{"body": "crew only"}, tok))

		// Paging, newest first, authors embedded.
		path := fmt.Sprintf("/api/community/channels/%d/messages", pub.ID)
		var first community.MessageView
		for i := range 7 {
			var m community.MessageView
			e.must(201, e.do("POST", path, map[string]string{"body": fmt.Sprintf("  msg %d  ", i)}, tok)).json(&m)
			if i == 0 {
				first = m
			}
		}
		if first.Body != "msg 0" || first.Author.Username != "una" || first.ChannelID != pub.ID {
			t.Fatalf("posted %+v", first)
		}
		var page community.List[community.MessageView]
		e.must(200, e.do("GET", path+"?limit=3", nil, "")).json(&page)
		if len(page.Items) != 3 || page.Items[0].Body != "msg 6" || page.NextCursor == "" || page.Items[0].Author.ID != u.ID {
			t.Fatalf("page 1: %+v", page)
		}
		e.must(200, e.do("GET", path+"?limit=3&before="+page.NextCursor, nil, "")).json(&page)
		if len(page.Items) != 3 || page.Items[0].Body != "msg 3" {
			t.Fatalf("page 2: %+v", page)
		}
		e.must(422, e.do("GET", path+"?limit=abc", nil, ""))
		e.must(422, e.do("GET", path+"?before=-4", nil, ""))
		e.must(200, e.do("GET", path+"?limit=500", nil, "")).json(&page) // capped at 100
		if len(page.Items) != 7 {
			t.Fatalf("all: %d", len(page.Items))
		}

		// Edit and delete: the author or a moderator, nobody else.
		mpath := fmt.Sprintf("/api/community/messages/%d", first.ID)
		e.must(403, e.do("PATCH", mpath, map[string]string{"body": "hijacked"}, otherTok))
		e.must(403, e.do("DELETE", mpath, nil, otherTok))
		var edited community.MessageView
		e.must(200, e.do("PATCH", mpath, map[string]string{"body": "fixed"}, tok)).json(&edited)
		if edited.Body != "fixed" || edited.EditedAt == nil {
			t.Fatalf("edited %+v", edited)
		}
		e.must(200, e.do("GET", path+"?limit=100", nil, "")).json(&page)
		if page.Items[len(page.Items)-1].Body != "fixed" {
			t.Fatal("the cached first page was not invalidated by the edit")
		}
		e.must(204, e.do("DELETE", mpath, nil, adminTok))
		e.must(404, e.do("PATCH", mpath, map[string]string{"body": "back"}, tok))
		e.must(200, e.do("GET", path+"?limit=100", nil, "")).json(&page)
		if len(page.Items) != 6 {
			t.Fatalf("deleted message still listed: %d", len(page.Items))
		}
		for _, bad := range []string{``, `   `, strings.Repeat("x", 4001)} {
			e.must(422, e.do("POST", path, map[string]string{"body": bad}, tok))
		}
		e.must(401, e.do("POST", path, map[string]string{"body": "anon"}, ""))
		e.must(404, e.do("GET", "/api/community/channels/999999/messages", nil, ""))
	})
}

func TestDirectMessages(t *testing.T) {
	sqldbtest.ForEach(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		aTok, a := e.signup("wes")
		bTok, b := e.signup("xia")
		cTok, _ := e.signup("yan")

		e.must(422, e.do("POST", "/api/messages/threads", map[string]int64{"userId": a.ID}, aTok))
		e.must(404, e.do("POST", "/api/messages/threads", map[string]int64{"userId": 999999}, aTok))
		var th community.ThreadView
		e.must(201, e.do("POST", "/api/messages/threads", map[string]int64{"userId": b.ID}, aTok)).json(&th)
		var again community.ThreadView
		e.must(200, e.do("POST", "/api/messages/threads", map[string]int64{"userId": a.ID}, bTok)).json(&again)
		if again.ID != th.ID || th.With.ID != b.ID || again.With.ID != a.ID {
			t.Fatalf("threads %+v %+v", th, again)
		}
		path := fmt.Sprintf("/api/messages/threads/%d/messages", th.ID)
		for i := range 3 {
			e.must(201, e.do("POST", path, map[string]string{"body": fmt.Sprint("dm ", i)}, aTok))
		}
		// Only participants, and outsiders cannot tell the thread exists.
		e.must(404, e.do("GET", path, nil, cTok))
		e.must(404, e.do("POST", path, map[string]string{"body": "let me in"}, cTok))

		var threads community.List[community.ThreadView]
		e.must(200, e.do("GET", "/api/messages/threads", nil, bTok)).json(&threads)
		if len(threads.Items) != 1 || threads.Items[0].Unread != 3 || threads.Items[0].With.Username != "wes" {
			t.Fatalf("b's threads %+v", threads)
		}
		var msgs community.List[community.ThreadMessageView]
		e.must(200, e.do("GET", path, nil, bTok)).json(&msgs)
		if len(msgs.Items) != 3 || msgs.Items[0].Body != "dm 2" || msgs.Items[0].Author.ID != a.ID {
			t.Fatalf("messages %+v", msgs)
		}
		e.must(200, e.do("GET", "/api/messages/threads", nil, bTok)).json(&threads)
		if threads.Items[0].Unread != 0 {
			t.Fatalf("unread after reading: %d", threads.Items[0].Unread)
		}
		e.must(200, e.do("GET", "/api/messages/threads", nil, aTok)).json(&threads)
		if threads.Items[0].Unread != 0 {
			t.Fatalf("sender's own messages count as unread: %d", threads.Items[0].Unread)
		}
	})
}

func TestShoutsAndContactInbox(t *testing.T) {
	e := newEnv(t, sqldbtest.OpenSQLite(t, sqldb.Config{}))
	adminTok, _ := e.admin("root")
	tok, _ := e.signup("zed")
	e.must(201, e.do("POST", "/api/shouts", map[string]string{"body": "first!"}, tok))
	e.must(422, e.do("POST", "/api/shouts", map[string]string{"body": strings.Repeat("s", 281)}, tok))
	var shouts community.List[community.ShoutView]
	e.must(200, e.do("GET", "/api/shouts", nil, "")).json(&shouts)
	e.must(201, e.do("POST", "/api/shouts", map[string]string{"body": "second"}, tok))
	e.must(200, e.do("GET", "/api/shouts", nil, "")).json(&shouts)
	if len(shouts.Items) != 2 || shouts.Items[0].Body != "second" || shouts.Items[0].Author.Username != "zed" {
		t.Fatalf("shouts %+v (cached feed not invalidated?)", shouts)
	}

	e.must(202, e.do("POST", "/api/contact", map[string]string{"name": "Pat", "email": "Pat@Example.com", "message": "Love the app"}, ""))
	e.must(422, e.do("POST", "/api/contact", map[string]string{"name": "", "email": "nope", "message": ""}, ""))
	e.must(403, e.do("GET", "/api/admin/contact-messages", nil, tok))
	var inbox community.List[community.ContactMessage]
	e.must(200, e.do("GET", "/api/admin/contact-messages?unread=true", nil, adminTok)).json(&inbox)
	if len(inbox.Items) != 1 || inbox.Items[0].Email != "pat@example.com" || inbox.Items[0].IP == "" {
		t.Fatalf("inbox %+v", inbox)
	}
	id := inbox.Items[0].ID
	e.must(422, e.do("PATCH", fmt.Sprintf("/api/admin/contact-messages/%d", id), `{}`, adminTok))
	e.must(200, e.do("PATCH", fmt.Sprintf("/api/admin/contact-messages/%d", id), map[string]bool{"read": true}, adminTok))
	e.must(200, e.do("GET", "/api/admin/contact-messages?unread=true", nil, adminTok)).json(&inbox)
	if len(inbox.Items) != 0 {
		t.Fatalf("read message in the unread inbox: %+v", inbox)
	}
	e.must(404, e.do("PATCH", "/api/admin/contact-messages/999999", map[string]bool{"read": true}, adminTok))
}

// A DM or a mention reaches a user who is away as one digest mail, after
// the batching delay; a user who is connected gets events and no mail.
func TestMentionsAndDigests(t *testing.T) {
	e := newEnv(t, sqldbtest.OpenSQLite(t, sqldb.Config{}))
	adminTok, _ := e.admin("boss")
	var ch channel
	e.must(201, e.do("POST", "/api/community/channels", map[string]any{"name": "Floor"}, adminTok)).json(&ch)
	var secret channel
	e.must(201, e.do("POST", "/api/community/channels", map[string]any{"name": "Backstage", "private": true}, adminTok)).json(&secret)
	tok, _ := e.signup("kai")
	_, away := e.signup("lou")
	onlineTok, online := e.signup("mo_1")
	ws := e.connect(onlineTok)
	before := e.mailCount("lou@example.com")

	e.must(201, e.do("POST", fmt.Sprintf("/api/community/channels/%d/messages", ch.ID), map[string]string{"body": "hey @Lou and @mo_1 and @kai and @nobody"}, tok))
	if f := ws.next(); f.Type != "mention" || f.Room != fmt.Sprintf("user:%d", online.ID) {
		t.Fatalf("mention event %+v", f)
	}
	// Someone in a private channel the user cannot read is not told.
	e.must(201, e.do("POST", fmt.Sprintf("/api/community/channels/%d/messages", secret.ID), map[string]string{"body": "@lou look"}, adminTok))
	var th struct{ ID int64 }
	e.must(201, e.do("POST", "/api/messages/threads", map[string]int64{"userId": away.ID}, tok)).json(&th)
	e.must(201, e.do("POST", fmt.Sprintf("/api/messages/threads/%d/messages", th.ID), map[string]string{"body": "call me"}, tok))

	e.clock.Advance(community.DigestDelay + time.Second)
	e.jobs.Notify(context.Background())
	mail := e.waitMail("lou@example.com", "You have 1 new message(s) and 1 mention(s)")
	if !strings.Contains(mail, "@kai sent you a message") || !strings.Contains(mail, "@kai mentioned you") {
		t.Fatalf("digest:\n%s", mail)
	}
	if n := e.mailCount("lou@example.com"); n != before+1 {
		t.Fatalf("%d digests, want one", n-before)
	}
	// The connected user gets none.
	time.Sleep(300 * time.Millisecond)
	if e.mailCount("mo_1@example.com") != 1 { // the verification mail only
		t.Fatal("a connected user was mailed a digest")
	}
}
