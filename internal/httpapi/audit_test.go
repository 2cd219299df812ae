package httpapi_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/plazahq/plaza/internal/account"
	"github.com/plazahq/plaza/internal/jobs"
	"github.com/plazahq/plaza/internal/sqldb"
	"github.com/plazahq/plaza/internal/sqldb/sqldbtest"
)

type auditRow struct {
	ID    int64
	At    time.Time
	Actor struct {
		ID int64
		IP string
	}
	Action string
	Target struct {
		Kind string
		ID   int64
	}
	Before map[string]any
	After  map[string]any
	Reason string
}

type auditPage struct {
	Items      []auditRow
	NextCursor string
}

// auditLog reads the newest rows of the audit log (at most 100).
func (e *env) auditLog(adminTok, query string) auditPage {
	e.t.Helper()
	var p auditPage
	e.must(200, e.do("GET", "/api/admin/audit?limit=100"+query, nil, adminTok)).json(&p)
	return p
}

// TestAuditRecordsAdminActions takes every admin and moderator action there
// is and checks that each appends exactly one record, in its transaction,
// with the state before and after; that a refused or failed action appends
// nothing; and that content owners acting on their own content are not
// recorded. The actor's address is the client's behind a trusted proxy.
func TestAuditRecordsAdminActions(t *testing.T) {
	sqldbtest.ForEach(t, func(t *testing.T, db *sqldb.DB) {
		// Every action is followed by a read of the log: well over the api
		// tier's 100 a minute for the admin on a fast run, which is not
		// what this test is about.
		e := newEnv(t, db, withEnv("PLAZA_TRUSTED_PROXIES", "127.0.0.1", "PLAZA_RATE_API", "off", "PLAZA_RATE_STRICT", "off"))
		ctx := context.Background()
		adminTok, admin := e.admin("chief")
		modTok, mod := e.withRole("mod_mo", account.RoleModerator)
		djTok, dj := e.withRole("dj_di", account.RoleCreator)
		userTok, user := e.signup("una")
		const clientIP = "203.0.113.77"

		rows := len(e.auditLog(adminTok, "").Items)
		if rows != 0 {
			t.Fatalf("%d audit rows before any admin action", rows)
		}
		// expect checks that act appended one row (none when action is
		// ""), and returns it.
		expect := func(action, kind string, actor int64, act func()) auditRow {
			t.Helper()
			act()
			list := e.auditLog(adminTok, "").Items
			if action == "" {
				if len(list) != rows {
					t.Fatalf("%d rows appended, want none: newest %+v", len(list)-rows, list[0])
				}
				return auditRow{}
			}
			if len(list) != rows+1 {
				t.Fatalf("%s: %d rows appended, want 1", action, len(list)-rows)
			}
			rows++
			got := list[0]
			if got.Action != action || got.Target.Kind != kind || got.Actor.ID != actor || got.Actor.IP != clientIP {
				t.Fatalf("appended %+v, want %s on a %s by %d from %s", got, action, kind, actor, clientIP)
			}
			return got
		}
		do := func(want int, method, path string, body any, tok string) resp {
			t.Helper()
			return e.must(want, e.do(method, path, body, tok, "X-Forwarded-For", clientIP))
		}
		same := func(what string, got, want any) {
			t.Helper()
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("%s = %v, want %v", what, got, want)
			}
		}

		// Roles.
		r := expect("user.role", "user", admin.ID, func() {
			do(200, "PATCH", fmt.Sprintf("/api/admin/users/%d", user.ID), map[string]string{"role": "creator", "reason": "  runs the Friday show\n"}, adminTok)
		})
		same("role reason", r.Reason, "runs the Friday show")
		same("role target", r.Target.ID, user.ID)
		same("role before", r.Before["role"], "user")
		same("role after", r.After["role"], "creator")
		same("username", r.After["username"], "una")
		if _, leaked := r.After["passwordHash"]; leaked {
			t.Error("the record carries the password hash")
		}
		expect("", "", 0, func() {
			do(404, "PATCH", "/api/admin/users/99999999", map[string]string{"role": "creator"}, adminTok)
			do(422, "PATCH", fmt.Sprintf("/api/admin/users/%d", user.ID), map[string]string{"role": "overlord"}, adminTok)
			do(409, "PATCH", fmt.Sprintf("/api/admin/users/%d", admin.ID), map[string]string{"role": "user"}, adminTok) // last admin: fails in the transaction
			do(403, "PATCH", fmt.Sprintf("/api/admin/users/%d", user.ID), map[string]string{"role": "admin"}, modTok)
			// A reason is optional, but bounded and plain text.
			do(422, "PATCH", fmt.Sprintf("/api/admin/users/%d", user.ID), map[string]string{"role": "user", "reason": strings.Repeat("é", 501)}, adminTok)
			do(422, "PATCH", fmt.Sprintf("/api/admin/users/%d", user.ID), map[string]string{"role": "user", "reason": "bell\a"}, adminTok)
			do(422, "PATCH", fmt.Sprintf("/api/admin/users/%d", user.ID), map[string]any{"role": "user", "reason": 7}, adminTok)
		})

		// Contact inbox.
		do(202, "POST", "/api/contact", map[string]string{"name": "Pat", "email": "pat@example.com", "message": "Hello"}, "")
		var inbox struct{ Items []struct{ ID int64 } }
		do(200, "GET", "/api/admin/contact-messages", nil, adminTok).json(&inbox)
		r = expect("contact.mark", "contact_message", admin.ID, func() {
			do(200, "PATCH", fmt.Sprintf("/api/admin/contact-messages/%d", inbox.Items[0].ID), map[string]any{"read": true, "reason": "answered by mail"}, adminTok)
		})
		same("contact reason", r.Reason, "answered by mail")
		same("read before", r.Before["read"], 0)
		same("read after", r.After["read"], 1)
		expect("", "", 0, func() {
			do(404, "PATCH", "/api/admin/contact-messages/99999", map[string]bool{"read": true}, adminTok)
			do(422, "PATCH", fmt.Sprintf("/api/admin/contact-messages/%d", inbox.Items[0].ID), map[string]any{"read": false, "reason": strings.Repeat("x", 501)}, adminTok)
		})

		// Jobs.
		if err := e.jobs.Enqueue(ctx, jobs.Must("no.such.kind", map[string]int{"x": 1})); err != nil {
			t.Fatal(err)
		}
		deadJob := func() jobs.Job { // awaited on the queue: polling the API would spend its rate limit
			for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
				if js, err := e.jobs.List(ctx, jobs.Dead, "no.such.kind", 0, 1); err == nil && len(js) > 0 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("the unknown job never died")
				}
			}
			var dead struct{ Items []jobs.Job }
			do(200, "GET", "/api/admin/jobs?state=dead&kind=no.such.kind", nil, adminTok).json(&dead)
			return dead.Items[0]
		}
		j := deadJob()
		expect("", "", 0, func() {
			do(422, "POST", fmt.Sprintf("/api/admin/jobs/%d/retry", j.ID), map[string]string{"reason": strings.Repeat("x", 501)}, adminTok)
			do(400, "POST", fmt.Sprintf("/api/admin/jobs/%d/retry", j.ID), map[string]string{"why": "x"}, adminTok)
		})
		r = expect("job.retry", "job", admin.ID, func() {
			do(200, "POST", fmt.Sprintf("/api/admin/jobs/%d/retry", j.ID), map[string]string{"reason": "kind deployed"}, adminTok)
		})
		same("job reason", r.Reason, "kind deployed")
		same("job", r.Target.ID, j.ID)
		same("state before", r.Before["state"], "dead")
		same("state after", r.After["state"], "available")
		same("attempts after", r.After["attempts"], 0)
		j = deadJob()
		r = expect("job.discard", "job", admin.ID, func() { do(200, "POST", fmt.Sprintf("/api/admin/jobs/%d/discard", j.ID), nil, adminTok) })
		same("state after", r.After["state"], "discarded")
		same("no reason given", r.Reason, "")
		expect("", "", 0, func() {
			do(409, "POST", fmt.Sprintf("/api/admin/jobs/%d/discard", j.ID), nil, adminTok)
			do(404, "POST", fmt.Sprintf("/api/admin/jobs/%d/retry", j.ID+1000), nil, adminTok)
		})

		// Courses, modules, lessons.
		var course struct{ ID int64 }
		r = expect("course.create", "course", admin.ID, func() {
			do(201, "POST", "/api/admin/courses", map[string]any{"title": "Mixing 101", "slug": "mixing-101"}, adminTok).json(&course)
		})
		same("course id", r.Target.ID, course.ID)
		if r.Before != nil || r.After["title"] != "Mixing 101" {
			t.Errorf("course.create before %v after %v", r.Before, r.After)
		}
		r = expect("course.update", "course", admin.ID, func() {
			do(200, "PATCH", fmt.Sprintf("/api/admin/courses/%d", course.ID), map[string]any{"published": true, "summary": "EQ", "reason": "launch"}, adminTok)
		})
		same("course reason", r.Reason, "launch")
		same("published before", r.Before["published"], 0)
		same("published after", r.After["published"], 1)
		same("summary after", r.After["summary"], "EQ")
		var module, lesson struct{ ID int64 }
		r = expect("module.create", "module", admin.ID, func() {
			do(201, "POST", fmt.Sprintf("/api/admin/courses/%d/modules", course.ID), map[string]any{"title": "Part 1"}, adminTok).json(&module)
		})
		same("module id", r.Target.ID, module.ID)
		r = expect("lesson.create", "lesson", admin.ID, func() {
			do(201, "POST", fmt.Sprintf("/api/admin/modules/%d/lessons", module.ID), map[string]any{"title": "Gain", "body": "Turn it *down*."}, adminTok).json(&lesson)
		})
		same("lesson id", r.Target.ID, lesson.ID)
		same("lesson module", r.After["moduleId"], module.ID)
		r = expect("lesson.update", "lesson", admin.ID, func() {
			do(200, "PATCH", fmt.Sprintf("/api/admin/lessons/%d", lesson.ID), map[string]any{"title": "Gain staging"}, adminTok)
		})
		same("title before", r.Before["title"], "Gain")
		same("title after", r.After["title"], "Gain staging")
		r = expect("lesson.delete", "lesson", admin.ID, func() { do(204, "DELETE", fmt.Sprintf("/api/admin/lessons/%d", lesson.ID), nil, adminTok) })
		if r.Before["title"] != "Gain staging" || r.After != nil {
			t.Errorf("lesson.delete before %v after %v", r.Before, r.After)
		}
		expect("", "", 0, func() {
			do(404, "DELETE", fmt.Sprintf("/api/admin/lessons/%d", lesson.ID), nil, adminTok)
			do(404, "PATCH", "/api/admin/courses/99999", map[string]any{"title": "x"}, adminTok)
			do(409, "POST", "/api/admin/courses", map[string]any{"title": "Again", "slug": "mixing-101"}, adminTok)
			do(404, "POST", "/api/admin/courses/99999/modules", map[string]any{"title": "x"}, adminTok)
		})

		// Channels and members.
		var ch struct{ ID int64 }
		r = expect("channel.create", "channel", admin.ID, func() {
			do(201, "POST", "/api/community/channels", map[string]any{"name": "Lounge"}, adminTok).json(&ch)
		})
		same("channel", r.Target.ID, ch.ID)
		same("channel name", r.After["name"], "Lounge")
		r = expect("channel.member.add", "channel_member", mod.ID, func() {
			do(204, "POST", fmt.Sprintf("/api/community/channels/%d/members", ch.ID), map[string]any{"userId": dj.ID}, modTok)
		})
		same("member before", r.Before["member"], false)
		same("member after", r.After["member"], true)
		r = expect("channel.member.remove", "channel_member", mod.ID, func() {
			do(204, "DELETE", fmt.Sprintf("/api/community/channels/%d/members/%d", ch.ID, dj.ID), nil, modTok)
		})
		same("member after", r.After["member"], false)
		same("member user", r.After["userId"], dj.ID)

		// Messages: the author's own edits are not moderation.
		post := func(tok string) int64 {
			var m struct{ ID int64 }
			do(201, "POST", fmt.Sprintf("/api/community/channels/%d/messages", ch.ID), map[string]string{"body": "hi all"}, tok).json(&m)
			return m.ID
		}
		own, other := post(userTok), post(userTok)
		expect("", "", 0, func() {
			do(200, "PATCH", fmt.Sprintf("/api/community/messages/%d", own), map[string]string{"body": "hi everyone"}, userTok)
			do(204, "DELETE", fmt.Sprintf("/api/community/messages/%d", own), nil, userTok)
			do(403, "DELETE", fmt.Sprintf("/api/community/messages/%d", other), nil, djTok)
		})
		r = expect("message.edit", "message", mod.ID, func() {
			do(200, "PATCH", fmt.Sprintf("/api/community/messages/%d", other), map[string]string{"body": "[edited]"}, modTok)
		})
		same("body before", r.Before["body"], "hi all")
		same("body after", r.After["body"], "[edited]")
		r = expect("message.delete", "message", mod.ID, func() {
			do(204, "DELETE", fmt.Sprintf("/api/community/messages/%d", other), nil, modTok)
		})
		same("sender", r.Before["senderId"], user.ID)
		if r.Before["deletedAt"] != nil || r.After["deletedAt"] == nil {
			t.Errorf("message.delete before %v after %v", r.Before, r.After)
		}

		// Mixes and events.
		audio := e.uploadURL(djTok, "set.mp3", mp3Bytes)
		var mix, mix2, ev struct{ ID int64 }
		do(201, "POST", "/api/mixes", map[string]any{"title": "Sunrise", "genres": []string{"house"}, "durationSec": 600, "audioUrl": audio}, djTok).json(&mix)
		do(201, "POST", "/api/mixes", map[string]any{"title": "Sunset", "genres": []string{"house"}, "durationSec": 600, "audioUrl": audio}, djTok).json(&mix2)
		do(201, "POST", "/api/events", e.newEvent(24*time.Hour, 10), djTok).json(&ev)
		expect("", "", 0, func() {
			do(200, "PATCH", fmt.Sprintf("/api/mixes/%d", mix.ID), map[string]any{"title": "Sunrise (edit)"}, djTok)
			do(204, "DELETE", fmt.Sprintf("/api/mixes/%d", mix2.ID), nil, djTok)
			do(200, "PATCH", fmt.Sprintf("/api/events/%d", ev.ID), map[string]any{"title": "Warm-up"}, djTok)
		})
		r = expect("mix.update", "mix", mod.ID, func() {
			do(200, "PATCH", fmt.Sprintf("/api/mixes/%d", mix.ID), map[string]any{"title": "Sunrise"}, modTok)
		})
		same("mix title", []any{r.Before["title"], r.After["title"]}, []any{"Sunrise (edit)", "Sunrise"})
		r = expect("mix.delete", "mix", mod.ID, func() { do(204, "DELETE", fmt.Sprintf("/api/mixes/%d", mix.ID), nil, modTok) })
		if r.Before["creatorId"] == nil || r.After != nil {
			t.Errorf("mix.delete before %v after %v", r.Before, r.After)
		}
		r = expect("event.update", "event", mod.ID, func() {
			do(200, "PATCH", fmt.Sprintf("/api/events/%d", ev.ID), map[string]any{"title": "Opening"}, modTok)
		})
		same("event title", []any{r.Before["title"], r.After["title"]}, []any{"Warm-up", "Opening"})
		r = expect("event.delete", "event", mod.ID, func() { do(204, "DELETE", fmt.Sprintf("/api/events/%d", ev.ID), nil, modTok) })
		same("event owner", r.Before["ownerId"], dj.ID)
		expect("", "", 0, func() {
			do(404, "DELETE", fmt.Sprintf("/api/events/%d", ev.ID), nil, modTok)
			do(404, "DELETE", fmt.Sprintf("/api/mixes/%d", mix.ID), nil, modTok)
		})

		// Filters and paging over what was recorded, then the chain.
		p := e.auditLog(adminTok, fmt.Sprintf("&actor=%d&action=message.delete", mod.ID))
		if len(p.Items) != 1 || p.Items[0].Target.ID != other {
			t.Errorf("filtered by actor and action: %+v", p.Items)
		}
		p = e.auditLog(adminTok, fmt.Sprintf("&target=user:%d", user.ID))
		if len(p.Items) != 1 || p.Items[0].Action != "user.role" {
			t.Errorf("filtered by target: %+v", p.Items)
		}
		var page auditPage
		do(200, "GET", "/api/admin/audit?limit=2", nil, adminTok).json(&page)
		if len(page.Items) != 2 || page.NextCursor == "" {
			t.Fatalf("first page %+v", page)
		}
		var next auditPage
		do(200, "GET", "/api/admin/audit?limit=2&before="+page.NextCursor, nil, adminTok).json(&next)
		if len(next.Items) != 2 || next.Items[0].ID != page.Items[1].ID-1 {
			t.Errorf("second page %+v after %+v", next.Items, page.Items)
		}
		for _, bad := range []string{"actor=x", "target=user", "target=user:x", "target=:5", "limit=0", "before=x"} {
			do(422, "GET", "/api/admin/audit?"+bad, nil, adminTok)
		}
		var v struct {
			OK       bool
			Rows     int
			FirstBad *struct {
				ID      int64
				Problem string
			}
		}
		do(200, "GET", "/api/admin/audit/verify", nil, adminTok).json(&v)
		if !v.OK || v.Rows != rows || v.FirstBad != nil {
			t.Errorf("verify = %+v, want ok over %d rows", v, rows)
		}
		if _, err := db.Write().Exec(ctx, `UPDATE audit_log SET reason = 'edited' WHERE id = 3`); err != nil {
			t.Fatal(err)
		}
		do(200, "GET", "/api/admin/audit/verify", nil, adminTok).json(&v)
		if v.OK || v.FirstBad == nil || v.FirstBad.ID != 3 || v.FirstBad.Problem != "hash" {
			t.Errorf("verify after an edit = %+v", v)
		}
		do(403, "GET", "/api/admin/audit", nil, modTok)
		do(403, "GET", "/api/admin/audit/verify", nil, modTok)
	})
}
