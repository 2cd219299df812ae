package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/plazahq/plaza/internal/account"
	"github.com/plazahq/plaza/internal/events"
	"github.com/plazahq/plaza/internal/jobs"
	"github.com/plazahq/plaza/internal/sqldb"
	"github.com/plazahq/plaza/internal/sqldb/sqldbtest"
)

// setRole changes a user's role the way an admin would, and drops what the
// server cached about them.
func (e *env) setRole(id int64, role account.Role) {
	e.t.Helper()
	if _, err := e.db.Write().Exec(context.Background(), `UPDATE users SET role = ? WHERE id = ?`, string(role), id); err != nil {
		e.t.Fatal(err)
	}
	e.cache.InvalidateTag(context.Background(), account.UserTag(id))
}

type eventView struct {
	ID          int64
	OwnerID     int64
	Title       string
	Description string
	StartsAt    time.Time
	EndsAt      time.Time
	Location    string
	StreamURL   string
	Capacity    *int
	Going       int
	Waitlisted  int
	MyRSVP      *string
	MyPosition  *int `json:"myWaitlistPosition"`
}

type rsvpView struct {
	Status   string
	Position *int
}

func rfc(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// newEvent is a valid POST /api/events body starting in `in`.
func (e *env) newEvent(in time.Duration, capacity any) map[string]any {
	start := e.clock.Now().Add(in).Truncate(time.Second)
	return map[string]any{"title": "Deep house night", "description": "Three sets.\nBring friends.", "location": "Room 2",
		"streamUrl": "https://live.example.com/room2", "startsAt": rfc(start), "endsAt": rfc(start.Add(3 * time.Hour)), "capacity": capacity}
}

func (e *env) rsvp(id int64, status, token string) rsvpView {
	e.t.Helper()
	var v rsvpView
	e.must(200, e.do("POST", fmt.Sprintf("/api/events/%d/rsvp", id), map[string]string{"status": status}, token)).json(&v)
	return v
}

func TestEventsRulesAndBadInput(t *testing.T) {
	sqldbtest.ForEach(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		creatorTok, creator := e.signup("cara")
		e.setRole(creator.ID, account.RoleCreator)
		otherTok, other := e.signup("otto")
		e.setRole(other.ID, account.RoleCreator)
		modTok, mod := e.signup("mona")
		e.setRole(mod.ID, account.RoleModerator)
		patTok, pat := e.signup("pat")
		quinnTok, quinn := e.signup("quinn")
		rayTok, ray := e.signup("ray")

		// Who may create.
		e.must(401, e.do("POST", "/api/events", e.newEvent(24*time.Hour, 2), ""))
		if r := e.do("POST", "/api/events", e.newEvent(24*time.Hour, 2), patTok); r.status != 403 || r.code() != "forbidden" {
			t.Fatalf("a plain user creating an event: %d %s", r.status, r.body)
		}

		// Bad input: a clear 4xx naming the field, nothing stored.
		bad := []struct {
			field string
			value any
			want  int
		}{
			{"title", "", 422},
			{"title", strings.Repeat("t", 121), 422},
			{"title", "tab\there", 422},
			{"title", 42, 422},
			{"startsAt", "tomorrow at 8", 422},
			{"startsAt", "2026-05-01 20:00:00", 422},
			{"endsAt", "not a time", 422},
			{"startsAt", rfc(e.clock.Now().Add(-time.Hour)), 422},   // in the past
			{"endsAt", rfc(e.clock.Now().Add(23 * time.Hour)), 422}, // before the start
			{"endsAt", rfc(e.clock.Now().Add(24*time.Hour + 32*24*time.Hour)), 422},
			{"capacity", 0, 422},
			{"capacity", -3, 422},
			{"capacity", 2.5, 422},
			{"capacity", "ten", 422},
			{"capacity", 2_000_000, 422},
			{"streamUrl", "http://live.example.com/x", 422},
			{"streamUrl", "javascript:alert(1)", 422},
			{"streamUrl", "https://", 422},
			{"description", strings.Repeat("d", 5001), 422},
			{"location", strings.Repeat("l", 201), 422},
			{"colour", "red", 400},
		}
		for _, b := range bad {
			body := e.newEvent(24*time.Hour, 2)
			body[b.field] = b.value
			r := e.do("POST", "/api/events", body, creatorTok)
			if r.status != b.want {
				t.Fatalf("%s = %v: %d %s, want %d", b.field, b.value, r.status, r.body, b.want)
			}
			if b.want == 422 && !strings.Contains(string(r.body), `"`+b.field+`"`) {
				t.Fatalf("%s = %v: error does not name the field: %s", b.field, b.value, r.body)
			}
		}
		missing := e.newEvent(24*time.Hour, 2)
		delete(missing, "startsAt")
		e.must(422, e.do("POST", "/api/events", missing, creatorTok))
		e.must(400, e.do("POST", "/api/events", `{"title":`, creatorTok))
		e.must(415, e.do("POST", "/api/events", nil, creatorTok, "Content-Type", "text/plain"))
		var list struct {
			Items      []eventView
			NextCursor string
		}
		e.must(200, e.do("GET", "/api/events", nil, "")).json(&list)
		if len(list.Items) != 0 {
			t.Fatalf("refused events were stored: %+v", list.Items)
		}

		// A capacity-2 event.
		var ev eventView
		e.must(201, e.do("POST", "/api/events", e.newEvent(24*time.Hour, 2), creatorTok)).json(&ev)
		if ev.Title != "Deep house night" || ev.OwnerID != creator.ID || ev.Capacity == nil || *ev.Capacity != 2 || ev.MyRSVP != nil ||
			ev.StreamURL != "https://live.example.com/room2" || ev.EndsAt.Sub(ev.StartsAt) != 3*time.Hour {
			t.Fatalf("created %+v", ev)
		}
		var unlimited eventView
		e.must(201, e.do("POST", "/api/events", e.newEvent(48*time.Hour, nil), otherTok)).json(&unlimited)
		if unlimited.Capacity != nil {
			t.Fatalf("null capacity came back %v", *unlimited.Capacity)
		}
		path := fmt.Sprintf("/api/events/%d", ev.ID)

		// The list is cached; RSVPs drop it, and each caller sees their own.
		e.must(200, e.do("GET", "/api/events", nil, "")).json(&list)
		if len(list.Items) != 2 || list.Items[0].ID != ev.ID || list.Items[0].Going != 0 {
			t.Fatalf("anonymous list %+v", list.Items)
		}
		if v := e.rsvp(ev.ID, "going", patTok); v.Status != "going" || v.Position != nil {
			t.Fatalf("pat: %+v", v)
		}
		if v := e.rsvp(ev.ID, "going", quinnTok); v.Status != "going" {
			t.Fatalf("quinn: %+v", v)
		}
		if v := e.rsvp(ev.ID, "going", rayTok); v.Status != "waitlisted" || v.Position == nil || *v.Position != 1 {
			t.Fatalf("ray on a full event: %+v", v)
		}
		if v := e.rsvp(ev.ID, "going", rayTok); v.Status != "waitlisted" || *v.Position != 1 {
			t.Fatalf("ray again: %+v", v)
		}
		e.must(200, e.do("GET", "/api/events", nil, rayTok)).json(&list)
		if it := list.Items[0]; it.Going != 2 || it.Waitlisted != 1 || it.MyRSVP == nil || *it.MyRSVP != "waitlisted" ||
			it.MyPosition == nil || *it.MyPosition != 1 {
			t.Fatalf("ray's list %+v", it)
		}
		if list.Items[1].MyRSVP != nil {
			t.Fatalf("ray has no answer to the second event: %+v", list.Items[1])
		}
		e.must(200, e.do("GET", "/api/events", nil, "")).json(&list)
		if list.Items[0].MyRSVP != nil || list.Items[0].Going != 2 {
			t.Fatalf("anonymous list after RSVPs %+v", list.Items[0])
		}
		var one eventView
		e.must(200, e.do("GET", path, nil, patTok)).json(&one)
		if one.MyRSVP == nil || *one.MyRSVP != "going" || one.Going != 2 || one.MyPosition != nil {
			t.Fatalf("pat's view %+v", one)
		}
		// A reload of the event tells ray where he stands in line.
		e.must(200, e.do("GET", path, nil, rayTok)).json(&one)
		if one.MyRSVP == nil || *one.MyRSVP != "waitlisted" || one.MyPosition == nil || *one.MyPosition != 1 {
			t.Fatalf("ray's view %+v", one)
		}
		e.must(200, e.do("GET", path, nil, "")).json(&one)
		if one.MyRSVP != nil || one.MyPosition != nil {
			t.Fatalf("anonymous view %+v", one)
		}

		// Pages and ranges.
		e.must(200, e.do("GET", "/api/events?limit=1", nil, "")).json(&list)
		if len(list.Items) != 1 || list.NextCursor == "" {
			t.Fatalf("page 1 %+v", list)
		}
		e.must(200, e.do("GET", "/api/events?limit=1&cursor="+list.NextCursor, nil, "")).json(&list)
		if len(list.Items) != 1 || list.Items[0].ID != unlimited.ID {
			t.Fatalf("page 2 %+v", list)
		}
		to := rfc(e.clock.Now().Add(36 * time.Hour))
		e.must(200, e.do("GET", "/api/events?to="+to, nil, "")).json(&list)
		if len(list.Items) != 1 || list.Items[0].ID != ev.ID {
			t.Fatalf("until %s: %+v", to, list.Items)
		}
		for _, q := range []string{"from=yesterday", "to=2026-13-01T00:00:00Z", "cursor=abc", "cursor=1.x", "limit=0", "limit=x",
			"from=2026-05-02T00:00:00Z&to=2026-05-01T00:00:00Z"} {
			if r := e.do("GET", "/api/events?"+q, nil, ""); r.status != 422 {
				t.Fatalf("?%s: %d %s", q, r.status, r.body)
			}
		}

		// Bad RSVPs.
		for _, b := range []string{`{"status":"maybe"}`, `{"status":"waitlisted"}`, `{}`} {
			e.must(422, e.do("POST", path+"/rsvp", b, patTok))
		}
		e.must(400, e.do("POST", path+"/rsvp", `{"status":"going","extra":1}`, patTok))
		e.must(401, e.do("POST", path+"/rsvp", map[string]string{"status": "going"}, ""))
		for _, p := range []string{"/api/events/999999/rsvp", "/api/events/abc/rsvp", "/api/events/0/rsvp", "/api/events/-4/rsvp"} {
			if r := e.do("POST", p, map[string]string{"status": "going"}, patTok); r.status != 404 {
				t.Fatalf("%s: %d %s", p, r.status, r.body)
			}
		}
		for _, p := range []string{"/api/events/999999", "/api/events/abc", "/api/events/99999999999999999999"} {
			e.must(404, e.do("GET", p, nil, ""))
		}
		// An unverified account reads but does not RSVP.
		e.must(201, e.do("POST", "/api/auth/register", map[string]string{"email": "uma@example.com", "username": "uma", "password": pw}, ""))
		umaTok, _ := e.login("uma", pw, "")
		if r := e.do("POST", path+"/rsvp", map[string]string{"status": "going"}, umaTok); r.status != 403 || r.code() != "verification_required" {
			t.Fatalf("unverified RSVP: %d %s", r.status, r.body)
		}
		e.must(200, e.do("GET", path, nil, umaTok))

		// Leaving hands the place to the first in line, who hears of it.
		ws := e.connect(rayTok)
		if v := e.rsvp(ev.ID, "not_going", patTok); v.Status != "not_going" {
			t.Fatalf("pat leaves: %+v", v)
		}
		f := ws.next("presence")
		var promoted events.PromotedEvent
		json.Unmarshal(f.Data, &promoted)
		if f.Type != "event.promoted" || f.Room != fmt.Sprintf("user:%d", ray.ID) || promoted.EventID != ev.ID || promoted.Status != "going" {
			t.Fatalf("frame %+v %s", f, f.Data)
		}
		if m := e.waitMail("ray@example.com", "You're in: Deep house night"); !strings.Contains(m, fmt.Sprintf("/events/%d", ev.ID)) {
			t.Fatalf("promotion mail:\n%s", m)
		}
		e.must(200, e.do("GET", path, nil, rayTok)).json(&one)
		if *one.MyRSVP != "going" || one.Going != 2 || one.Waitlisted != 0 || one.MyPosition != nil {
			t.Fatalf("after the promotion %+v", one)
		}

		// Editing: owner or moderator only.
		if r := e.do("PATCH", path, map[string]any{"title": "Mine now"}, otherTok); r.status != 403 {
			t.Fatalf("another creator edits: %d %s", r.status, r.body)
		}
		e.must(403, e.do("PATCH", path, map[string]any{"title": "x"}, patTok))
		e.must(401, e.do("PATCH", path, map[string]any{"title": "x"}, ""))
		e.must(404, e.do("PATCH", "/api/events/999999", map[string]any{"title": "x"}, creatorTok))
		e.must(422, e.do("PATCH", path, map[string]any{"capacity": 0}, creatorTok))
		e.must(422, e.do("PATCH", path, map[string]any{"title": "  "}, creatorTok))
		e.must(422, e.do("PATCH", path, map[string]any{"endsAt": rfc(ev.StartsAt.Add(-time.Minute))}, creatorTok))
		e.must(422, e.do("PATCH", path, map[string]any{"startsAt": rfc(e.clock.Now().Add(-time.Minute))}, creatorTok))
		e.must(200, e.do("PATCH", path, map[string]any{"title": "Deep house night (moved rooms)", "location": "Room 3"}, creatorTok)).json(&one)
		if one.Title != "Deep house night (moved rooms)" || one.Location != "Room 3" || one.StreamURL != ev.StreamURL || *one.Capacity != 2 {
			t.Fatalf("patched %+v", one)
		}
		e.must(200, e.do("PATCH", path, map[string]any{"description": "Moderated."}, modTok)).json(&one)
		e.must(200, e.do("GET", "/api/events", nil, "")).json(&list)
		if list.Items[0].Title != "Deep house night (moved rooms)" || list.Items[0].Description != "Moderated." {
			t.Fatalf("the cached list missed the edit: %+v", list.Items[0])
		}

		// Attendees: owner or moderator.
		e.must(403, e.do("GET", path+"/attendees", nil, patTok))
		e.must(403, e.do("GET", path+"/attendees", nil, otherTok))
		e.must(422, e.do("GET", path+"/attendees?cursor=x", nil, creatorTok))
		var att struct {
			Items []struct {
				User     struct{ ID int64 }
				Status   string
				Position *int
				Attended bool
			}
			NextCursor string
		}
		e.must(200, e.do("GET", path+"/attendees", nil, modTok)).json(&att)
		if len(att.Items) != 3 || att.Items[0].Status != "going" || att.Items[2].User.ID != pat.ID || att.Items[2].Status != "not_going" {
			t.Fatalf("attendees %+v", att.Items)
		}
		e.must(200, e.do("GET", path+"/attendees?limit=2", nil, creatorTok)).json(&att)
		if len(att.Items) != 2 || att.NextCursor == "" {
			t.Fatalf("attendees page 1 %+v", att)
		}
		e.must(200, e.do("GET", path+"/attendees?limit=2&cursor="+att.NextCursor, nil, creatorTok)).json(&att)
		if len(att.Items) != 1 || att.Items[0].User.ID != pat.ID {
			t.Fatalf("attendees page 2 %+v", att)
		}

		// Attendance: the owner, once it has started; XP once per user.
		attended := path + "/attended"
		if r := e.do("POST", attended, map[string]any{"userIds": []int64{quinn.ID}}, creatorTok); r.status != 409 || r.code() != "event_not_started" {
			t.Fatalf("attendance before the start: %d %s", r.status, r.body)
		}
		e.clock.Advance(25 * time.Hour) // the event is on
		if r := e.do("POST", path+"/rsvp", map[string]string{"status": "going"}, patTok); r.status != 409 || r.code() != "event_started" {
			t.Fatalf("RSVP to a started event: %d %s", r.status, r.body)
		}
		e.must(403, e.do("POST", attended, map[string]any{"userIds": []int64{quinn.ID}}, modTok))
		e.must(403, e.do("POST", attended, map[string]any{"userIds": []int64{quinn.ID}}, patTok))
		for _, b := range []any{map[string]any{"userIds": []int64{}}, map[string]any{}, map[string]any{"userIds": []int64{0}},
			map[string]any{"userIds": []int64{quinn.ID, 1 << 40}}, map[string]any{"userIds": "all"}} {
			e.must(422, e.do("POST", attended, b, creatorTok))
		}
		xpOf := func(id int64) int64 {
			var p struct{ XP int64 }
			e.must(200, e.do("GET", fmt.Sprintf("/api/users/%d", id), nil, "")).json(&p)
			return p.XP
		}
		// The owner earns nothing from their own event: naming themselves
		// refuses the whole call.
		if r := e.do("POST", attended, map[string]any{"userIds": []int64{quinn.ID, creator.ID}}, creatorTok); r.status != 422 || !strings.Contains(string(r.body), "own id") {
			t.Fatalf("the owner marking themselves: %d %s", r.status, r.body)
		}
		if xpOf(quinn.ID) != 0 || xpOf(creator.ID) != 0 {
			t.Fatal("the refused marking awarded XP")
		}
		var out struct{ Attended []events.Attendance }
		e.must(200, e.do("POST", attended, map[string]any{"userIds": []int64{quinn.ID, ray.ID, quinn.ID}}, creatorTok)).json(&out)
		if len(out.Attended) != 2 || out.Attended[0].XPAwarded != events.DefaultAttendanceXP || out.Attended[1].XPAwarded != events.DefaultAttendanceXP {
			t.Fatalf("marked %+v", out)
		}
		e.must(200, e.do("POST", attended, map[string]any{"userIds": []int64{quinn.ID}}, creatorTok)).json(&out)
		if out.Attended[0].XPAwarded != 0 {
			t.Fatalf("marked again: %+v", out)
		}
		if got := xpOf(quinn.ID); got != events.DefaultAttendanceXP {
			t.Fatalf("quinn has %d XP, want %d", got, events.DefaultAttendanceXP)
		}
		e.must(200, e.do("GET", path+"/attendees", nil, creatorTok)).json(&att)
		if !att.Items[0].Attended || att.Items[2].Attended {
			t.Fatalf("attended flags %+v", att.Items)
		}

		// Deleting: owner or moderator; gone after.
		e.must(403, e.do("DELETE", path, nil, otherTok))
		e.must(204, e.do("DELETE", path, nil, creatorTok))
		e.must(404, e.do("GET", path, nil, ""))
		e.must(404, e.do("DELETE", path, nil, creatorTok))
		e.must(204, e.do("DELETE", fmt.Sprintf("/api/events/%d", unlimited.ID), nil, modTok))
		e.must(200, e.do("GET", "/api/events", nil, "")).json(&list)
		if len(list.Items) != 0 {
			t.Fatalf("deleted events listed: %+v", list.Items)
		}
		if xpOf(quinn.ID) != events.DefaultAttendanceXP {
			t.Fatal("deleting the event took the XP back")
		}
	})
}

// reminderJobs returns the event's reminder jobs, by id.
func (e *env) reminderJobs(eventID int64) []jobs.Job {
	e.t.Helper()
	list, err := e.jobs.List(context.Background(), "", events.ReminderKind, 0, 100)
	if err != nil {
		e.t.Fatal(err)
	}
	var out []jobs.Job
	for _, j := range list {
		var p struct{ EventID int64 }
		json.Unmarshal(j.Payload, &p)
		if p.EventID == eventID || (p.EventID == 0 && strings.Contains(j.UniqueKey, fmt.Sprintf(":%d:", eventID))) {
			out = append(out, j)
		}
	}
	return out
}

func (e *env) waitJob(id int64, state string) {
	e.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if j, err := e.jobs.Get(context.Background(), id); err == nil && j.State == state {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	j, err := e.jobs.Get(context.Background(), id)
	e.t.Fatalf("job %d: %+v %v, want %s", id, j, err, state)
}

func TestEventReminders(t *testing.T) {
	sqldbtest.ForEach(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		creatorTok, creator := e.signup("deejay")
		e.setRole(creator.ID, account.RoleCreator)
		patTok, _ := e.signup("pat")
		ivyTok, _ := e.signup("ivy")

		var ev, gone eventView
		e.must(201, e.do("POST", "/api/events", e.newEvent(3*time.Hour, 10), creatorTok)).json(&ev)
		e.must(201, e.do("POST", "/api/events", e.newEvent(3*time.Hour, 10), creatorTok)).json(&gone)
		e.rsvp(ev.ID, "going", patTok)
		e.rsvp(ev.ID, "interested", ivyTok)
		e.rsvp(gone.ID, "going", ivyTok)
		if js := e.reminderJobs(ev.ID); len(js) != 1 || !js[0].RunAt.Equal(ev.StartsAt.Add(-time.Hour)) || js[0].State != jobs.Available {
			t.Fatalf("reminder jobs %+v", js)
		}
		first := e.reminderJobs(ev.ID)[0]
		goneJobs := e.reminderJobs(gone.ID)
		if len(goneJobs) != 1 {
			t.Fatalf("reminder jobs of the other event %+v", goneJobs)
		}

		// Editing without moving queues nothing; moving queues the new
		// start's reminder beside the old one.
		e.must(200, e.do("PATCH", fmt.Sprintf("/api/events/%d", ev.ID), map[string]any{"title": "Retitled"}, creatorTok))
		if js := e.reminderJobs(ev.ID); len(js) != 1 {
			t.Fatalf("an edit queued %d reminders", len(js))
		}
		moved := ev.StartsAt.Add(2 * time.Hour)
		e.must(200, e.do("PATCH", fmt.Sprintf("/api/events/%d", ev.ID), map[string]any{"startsAt": rfc(moved), "endsAt": rfc(moved.Add(time.Hour))}, creatorTok))
		js := e.reminderJobs(ev.ID)
		if len(js) != 2 {
			t.Fatalf("after the move %+v", js)
		}
		second := js[0]
		if second.ID == first.ID {
			second = js[1]
		}
		if !second.RunAt.Equal(moved.Add(-time.Hour)) {
			t.Fatalf("new reminder runs at %v, want %v", second.RunAt, moved.Add(-time.Hour))
		}
		e.must(204, e.do("DELETE", fmt.Sprintf("/api/events/%d", gone.ID), nil, creatorTok))

		// The old time comes: the old reminder finds the event moved, the
		// deleted event's finds nothing; no mail.
		ws := e.connect(patTok)
		e.clock.Advance(2*time.Hour + time.Minute)
		e.waitJob(first.ID, jobs.Completed)
		e.waitJob(goneJobs[0].ID, jobs.Completed)
		if n := e.mailCount("pat@example.com") + e.mailCount("ivy@example.com"); n != 2 { // the verification mails
			t.Fatalf("%d mails after the old time, want only the 2 verification mails", n)
		}
		// The new time: going members are reminded, by mail and live.
		e.clock.Advance(2 * time.Hour)
		e.waitJob(second.ID, jobs.Completed)
		m := e.waitMail("pat@example.com", "Starting soon: Retitled")
		if !strings.Contains(m, "https://live.example.com/room2") {
			t.Fatalf("reminder mail:\n%s", m)
		}
		f := ws.next("presence")
		var rem events.ReminderEvent
		json.Unmarshal(f.Data, &rem)
		if f.Type != "event.reminder" || rem.EventID != ev.ID || !rem.StartsAt.Equal(moved) {
			t.Fatalf("frame %+v %s", f, f.Data)
		}
		if e.mailCount("ivy@example.com") != 1 {
			t.Fatal("an interested member was reminded")
		}
		// Run again (at-least-once delivery): nothing more is sent.
		again := jobs.Must(events.ReminderKind, map[string]int64{"eventId": ev.ID, "startsAt": moved.UnixMilli()})
		if err := e.jobs.Enqueue(context.Background(), again); err != nil {
			t.Fatal(err)
		}
		for _, j := range e.reminderJobs(ev.ID) {
			e.waitJob(j.ID, jobs.Completed)
		}
		time.Sleep(100 * time.Millisecond) // a mail job would have run by now
		if n := e.mailCount("pat@example.com"); n != 2 {
			t.Fatalf("pat got %d mails, want verification + one reminder", n)
		}
	})
}

// TestEventReminderSurvivesRestart: the instance that scheduled the
// reminder goes away before it is due; another instance on the same
// database, later, sends it, once.
func TestEventReminderSurvivesRestart(t *testing.T) {
	sqldbtest.ForEach(t, func(t *testing.T, db *sqldb.DB) {
		before := newEnv(t, db)
		creatorTok, creator := before.signup("host")
		before.setRole(creator.ID, account.RoleCreator)
		patTok, _ := before.signup("pat")
		var ev eventView
		before.must(201, before.do("POST", "/api/events", before.newEvent(2*time.Hour, nil), creatorTok)).json(&ev)
		before.rsvp(ev.ID, "going", patTok)

		after := newEnv(t, db) // its own clock, workers and mailbox
		after.clock.Advance(time.Hour + time.Minute)
		js := after.reminderJobs(ev.ID)
		if len(js) != 1 {
			t.Fatalf("reminder jobs %+v", js)
		}
		after.waitJob(js[0].ID, jobs.Completed)
		after.waitMail("pat@example.com", "Starting soon: Deep house night")
		time.Sleep(100 * time.Millisecond)
		if n := after.mailCount("pat@example.com") + before.mailCount("pat@example.com"); n != 2 { // verification + reminder
			t.Fatalf("%d mails to pat, want 2", n)
		}
	})
}

// TestEventParallelRSVPsOverHTTP: members answer "going" at once through
// the API; the capacity holds and the waitlist is numbered without gaps,
// then members leaving at once promote exactly as many.
func TestEventParallelRSVPsOverHTTP(t *testing.T) {
	sqldbtest.ForEach(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db, withEnv("PLAZA_RATE_STRICT", "off"))
		creatorTok, creator := e.signup("host")
		e.setRole(creator.ID, account.RoleCreator)
		const members, capacity = 24, 6
		toks := make([]string, members)
		for i := range toks {
			toks[i], _ = e.signup(fmt.Sprintf("fan_%d", i))
		}
		var ev eventView
		e.must(201, e.do("POST", "/api/events", e.newEvent(24*time.Hour, capacity), creatorTok)).json(&ev)
		path := fmt.Sprintf("/api/events/%d/rsvp", ev.ID)
		answers := make([]rsvpView, members)
		errs := make(chan error, members)
		start := make(chan struct{})
		for i := range toks {
			go func() {
				<-start
				r := e.do("POST", path, map[string]string{"status": "going"}, toks[i])
				if r.status != 200 {
					errs <- fmt.Errorf("fan %d: %d %s", i, r.status, r.body)
					return
				}
				errs <- json.Unmarshal(r.body, &answers[i])
			}()
		}
		close(start)
		for range toks {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
		var going []int
		seen := map[int]bool{}
		for i, a := range answers {
			switch {
			case a.Status == "going":
				going = append(going, i)
			case a.Status == "waitlisted" && a.Position != nil && *a.Position >= 1 && *a.Position <= members-capacity && !seen[*a.Position]:
				seen[*a.Position] = true
			default:
				t.Fatalf("fan %d: %+v", i, a)
			}
		}
		if len(going) != capacity {
			t.Fatalf("%d going, want %d", len(going), capacity)
		}
		// Three going members leave at once: three promoted, still full.
		for _, i := range going[:3] {
			go func() {
				r := e.do("POST", path, map[string]string{"status": "not_going"}, toks[i])
				if r.status != 200 {
					errs <- fmt.Errorf("fan %d leaving: %d %s", i, r.status, r.body)
					return
				}
				errs <- nil
			}()
		}
		for range 3 {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
		var got eventView
		e.must(200, e.do("GET", fmt.Sprintf("/api/events/%d", ev.ID), nil, "")).json(&got)
		if got.Going != capacity || got.Waitlisted != members-capacity-3 {
			t.Fatalf("after leaving: %d going, %d waitlisted", got.Going, got.Waitlisted)
		}
	})
}
