package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plazahq/plaza/internal/account"
	"github.com/plazahq/plaza/internal/courses"
	"github.com/plazahq/plaza/internal/sqldb"
	"github.com/plazahq/plaza/internal/sqldb/sqldbtest"
	"github.com/plazahq/plaza/internal/sqlstore"
)

type courseList struct {
	Items      []courses.CourseView
	NextCursor string
}

type lockedErr struct {
	Error struct {
		Code         string
		LockedReason string
		UnlocksAt    *time.Time
		PriceCents   int64
		Level        int
	}
}

// courseFixture is what an admin builds through the API: a course with
// modules and lessons, published.
type courseFixture struct {
	id      int64
	modules []int64
	lessons []int64
}

// buildCourse creates a course from body, adds one module per entry of
// lessons with those lessons, and publishes it unless body says otherwise.
func (e *env) buildCourse(adminTok string, body map[string]any, lessons ...[]map[string]any) courseFixture {
	e.t.Helper()
	var c courses.AdminCourse
	e.must(201, e.do("POST", "/api/admin/courses", body, adminTok)).json(&c)
	f := courseFixture{id: c.ID}
	for i, ls := range lessons {
		var m courses.AdminModule
		e.must(201, e.do("POST", fmt.Sprintf("/api/admin/courses/%d/modules", c.ID), map[string]any{"title": fmt.Sprint("Part ", i+1)}, adminTok)).json(&m)
		f.modules = append(f.modules, m.ID)
		for _, l := range ls {
			var al courses.AdminLesson
			e.must(201, e.do("POST", fmt.Sprintf("/api/admin/modules/%d/lessons", m.ID), l, adminTok)).json(&al)
			f.lessons = append(f.lessons, al.ID)
		}
	}
	if _, set := body["published"]; !set {
		e.must(200, e.do("PATCH", fmt.Sprintf("/api/admin/courses/%d", c.ID), map[string]any{"published": true}, adminTok))
	}
	return f
}

func (e *env) listCourses(tok string) map[int64]courses.CourseView {
	e.t.Helper()
	var l courseList
	e.must(200, e.do("GET", "/api/courses", nil, tok)).json(&l)
	out := map[int64]courses.CourseView{}
	for _, c := range l.Items {
		out[c.ID] = c
	}
	return out
}

func (e *env) courseDetail(tok string, id int64) courses.CourseDetail {
	e.t.Helper()
	var d courses.CourseDetail
	e.must(200, e.do("GET", fmt.Sprintf("/api/courses/%d", id), nil, tok)).json(&d)
	return d
}

func lessonOf(d courses.CourseDetail, id int64) courses.LessonSummary {
	for _, m := range d.Modules {
		for _, l := range m.Lessons {
			if l.ID == id {
				return l
			}
		}
	}
	return courses.LessonSummary{}
}

func reason(l courses.LessonSummary) string {
	if l.LockedReason == nil {
		return ""
	}
	return *l.LockedReason
}

func TestCoursesFlow(t *testing.T) {
	sqldbtest.ForEach(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db, withEnv("CDN_BASE_URL", "https://cdn.example"))
		adminTok, _ := e.admin("dean")
		tok, _ := e.signup("lena")
		otherTok, _ := e.signup("omar")

		f := e.buildCourse(adminTok, map[string]any{"title": "Price Action 101", "summary": "Read the chart", "coverUrl": "/uploads/image/ab/cover.png"},
			[]map[string]any{
				{"title": "Welcome", "body": "# Hello\n\n<script>alert(1)</script>", "preview": true, "durationSec": 90},
				{"title": "Candles", "body": `<p onclick="x()">Wicks</p><img src="x" onerror="alert(1)"><a href="javascript:alert(1)">go</a>`, "format": "html", "videoUrl": "/uploads/audio/cd/v.mp3"},
			},
			[]map[string]any{{"title": "Drip", "body": "later", "dripDays": 3}})
		path := fmt.Sprintf("/api/courses/%d", f.id)

		// Anonymous: listed, not enrolled, zero progress; preview open, the rest locked.
		anon := e.listCourses("")[f.id]
		if anon.Title != "Price Action 101" || anon.Slug != "price-action-101" || anon.Enrolled || anon.Progress != (courses.Progress{}) ||
			anon.LessonCount != 3 || anon.CoverURL != "https://cdn.example/uploads/image/ab/cover.png" || anon.Unlock.Kind != courses.UnlockOpen {
			t.Fatalf("anonymous list item %+v", anon)
		}
		d := e.courseDetail("", f.id)
		if len(d.Modules) != 2 || len(d.Modules[0].Lessons) != 2 || d.Modules[0].Lessons[0].Title != "Welcome" {
			t.Fatalf("outline %+v", d.Modules)
		}
		if l := lessonOf(d, f.lessons[0]); l.Locked || l.LockedReason != nil || !l.Preview || l.DurationSec != 90 {
			t.Fatalf("preview lesson %+v", l)
		}
		if l := lessonOf(d, f.lessons[1]); !l.Locked || reason(l) != courses.ReasonNotEnrolled {
			t.Fatalf("locked lesson %+v", l)
		}
		var body struct {
			ID        int64
			Title     string
			Body      string
			VideoURL  string
			Completed bool
		}
		e.must(200, e.do("GET", fmt.Sprintf("%s/lessons/%d", path, f.lessons[0]), nil, "")).json(&body)
		if !strings.Contains(body.Body, "<h1>Hello</h1>") || strings.Contains(body.Body, "<script") || body.Completed {
			t.Fatalf("preview body %+v", body)
		}
		var le lockedErr
		e.must(403, e.do("GET", fmt.Sprintf("%s/lessons/%d", path, f.lessons[1]), nil, "")).json(&le)
		if le.Error.Code != "locked" || le.Error.LockedReason != courses.ReasonNotEnrolled {
			t.Fatalf("locked lesson answer %+v", le)
		}
		e.must(403, e.do("GET", fmt.Sprintf("%s/lessons/%d", path, f.lessons[1]), nil, tok))
		e.must(403, e.do("POST", fmt.Sprintf("%s/lessons/%d/complete", path, f.lessons[0]), nil, tok)) // not enrolled
		e.must(401, e.do("POST", path+"/enroll", nil, ""))

		// Enroll: 201, then 200 with the same body.
		var en1, en2 courses.EnrollView
		e.must(201, e.do("POST", path+"/enroll", nil, tok)).json(&en1)
		e.must(200, e.do("POST", path+"/enroll", nil, tok)).json(&en2)
		if en1.CourseID != f.id || en1.EnrolledAt.IsZero() || !en1.EnrolledAt.Equal(en2.EnrolledAt) {
			t.Fatalf("enroll answers %+v / %+v", en1, en2)
		}
		mine := e.listCourses(tok)[f.id]
		if !mine.Enrolled || mine.Progress != (courses.Progress{Completed: 0, Total: 3}) {
			t.Fatalf("list after enrolling %+v", mine)
		}
		if other := e.listCourses(otherTok)[f.id]; other.Enrolled {
			t.Fatal("another user sees lena's enrollment: the overlay leaked through the cache")
		}

		// The HTML lesson is sanitized and readable now.
		e.must(200, e.do("GET", fmt.Sprintf("%s/lessons/%d", path, f.lessons[1]), nil, tok)).json(&body)
		low := strings.ToLower(body.Body)
		for _, bad := range []string{"<script", "onerror", "onclick", "javascript:"} {
			if strings.Contains(low, bad) {
				t.Fatalf("lesson body %q contains %q", body.Body, bad)
			}
		}
		if !strings.Contains(body.Body, "Wicks") || body.VideoURL != "https://cdn.example/uploads/audio/cd/v.mp3" {
			t.Fatalf("lesson %+v", body)
		}

		// Completion: XP once, progress, profile follows.
		var cv courses.CompleteView
		e.must(200, e.do("POST", fmt.Sprintf("%s/lessons/%d/complete", path, f.lessons[0]), nil, tok)).json(&cv)
		if cv.XPAwarded != 10 || cv.Progress != (courses.Progress{Completed: 1, Total: 3}) || cv.CourseCompleted {
			t.Fatalf("first completion %+v", cv)
		}
		// The list read just before (kept for the next read) shows the
		// completion at once: the user's own write drops what was kept.
		if c := e.listCourses(tok)[f.id]; c.Progress != (courses.Progress{Completed: 1, Total: 3}) {
			t.Fatalf("list right after completing a lesson %+v", c)
		}
		e.must(200, e.do("POST", fmt.Sprintf("%s/lessons/%d/complete", path, f.lessons[0]), nil, tok)).json(&cv)
		if cv.XPAwarded != 0 || cv.Progress.Completed != 1 {
			t.Fatalf("completing again %+v", cv)
		}
		var me account.User
		e.must(200, e.do("GET", "/api/users/me", nil, tok)).json(&me)
		if me.XP != 10 || me.Level != 2 {
			t.Fatalf("after one lesson: xp %d level %d", me.XP, me.Level)
		}

		// Drip: locked until 3 days after enrolling, with unlocksAt.
		d = e.courseDetail(tok, f.id)
		drip := lessonOf(d, f.lessons[2])
		if !drip.Locked || reason(drip) != courses.ReasonDrip || drip.UnlocksAt == nil || drip.UnlocksAt.Sub(en1.EnrolledAt) != 72*time.Hour {
			t.Fatalf("drip lesson %+v", drip)
		}
		if !lessonOf(d, f.lessons[0]).Completed || d.Progress.Completed != 1 || !d.Enrolled {
			t.Fatalf("detail overlay %+v", d.CourseView)
		}
		e.must(403, e.do("POST", fmt.Sprintf("%s/lessons/%d/complete", path, f.lessons[2]), nil, tok)).json(&le)
		if le.Error.LockedReason != courses.ReasonDrip || le.Error.UnlocksAt == nil {
			t.Fatalf("completing a drip-locked lesson: %+v", le)
		}
		e.must(403, e.do("GET", fmt.Sprintf("%s/lessons/%d", path, f.lessons[2]), nil, tok))
		e.clock.Advance(72*time.Hour + time.Minute)
		e.must(200, e.do("GET", fmt.Sprintf("%s/lessons/%d", path, f.lessons[2]), nil, tok))
		e.must(200, e.do("POST", fmt.Sprintf("%s/lessons/%d/complete", path, f.lessons[1]), nil, tok)).json(&cv)
		e.must(200, e.do("POST", fmt.Sprintf("%s/lessons/%d/complete", path, f.lessons[2]), nil, tok)).json(&cv)
		if cv.XPAwarded != 60 || !cv.CourseCompleted || cv.Progress != (courses.Progress{Completed: 3, Total: 3}) {
			t.Fatalf("last lesson %+v", cv)
		}
		e.must(200, e.do("GET", "/api/users/me", nil, tok)).json(&me)
		if me.XP != 80 {
			t.Fatalf("xp after the course: %d, want 80", me.XP)
		}
		e.must(200, e.do("POST", fmt.Sprintf("%s/lessons/%d/complete", path, f.lessons[2]), nil, tok)).json(&cv)
		if cv.XPAwarded != 0 || !cv.CourseCompleted {
			t.Fatalf("completing the last lesson again %+v", cv)
		}

		// Admin edits reach the cached catalog at once.
		e.must(200, e.do("PATCH", fmt.Sprintf("/api/admin/courses/%d", f.id), map[string]any{"title": "Price Action 102"}, adminTok))
		if c := e.listCourses(tok)[f.id]; c.Title != "Price Action 102" || c.Progress.Completed != 3 {
			t.Fatalf("after a rename %+v", c)
		}
		e.must(204, e.do("DELETE", fmt.Sprintf("/api/admin/lessons/%d", f.lessons[2]), nil, adminTok))
		if c := e.listCourses(tok)[f.id]; c.LessonCount != 2 || c.Progress != (courses.Progress{Completed: 2, Total: 2}) {
			t.Fatalf("after deleting a lesson %+v", c)
		}
		e.must(404, e.do("GET", fmt.Sprintf("%s/lessons/%d", path, f.lessons[2]), nil, tok))
		var al courses.AdminLesson
		e.must(200, e.do("PATCH", fmt.Sprintf("/api/admin/lessons/%d", f.lessons[1]), map[string]any{"body": "**new** <script>x</script>", "format": "markdown"}, adminTok)).json(&al)
		if al.Source != "**new** <script>x</script>" || strings.Contains(al.Body, "<script") || !strings.Contains(al.Body, "<strong>new</strong>") {
			t.Fatalf("patched lesson %+v", al)
		}
		e.must(200, e.do("GET", fmt.Sprintf("%s/lessons/%d", path, f.lessons[1]), nil, tok)).json(&body)
		if !strings.Contains(body.Body, "<strong>new</strong>") {
			t.Fatalf("the cached body was not replaced: %q", body.Body)
		}

		// Unpublishing hides it everywhere.
		e.must(200, e.do("PATCH", fmt.Sprintf("/api/admin/courses/%d", f.id), map[string]any{"published": false}, adminTok))
		if _, ok := e.listCourses("")[f.id]; ok {
			t.Fatal("an unpublished course is listed")
		}
		e.must(404, e.do("GET", path, nil, tok))
		e.must(404, e.do("POST", path+"/enroll", nil, otherTok))
		e.must(404, e.do("GET", fmt.Sprintf("%s/lessons/%d", path, f.lessons[0]), nil, ""))
	})
}

func TestCourseUnlockRules(t *testing.T) {
	sqldbtest.ForEach(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		adminTok, _ := e.admin("dean")
		tok, u := e.signup("lena")
		lesson := []map[string]any{{"title": "One", "body": "x"}, {"title": "Teaser", "body": "y", "preview": true}}

		// Level: 403 level_required until the caller reaches it.
		lvl := e.buildCourse(adminTok, map[string]any{"title": "Advanced", "unlock": map[string]any{"kind": "level", "level": 2}}, lesson)
		var le lockedErr
		e.must(403, e.do("POST", fmt.Sprintf("/api/courses/%d/enroll", lvl.id), nil, tok)).json(&le)
		if le.Error.Code != "level_required" || le.Error.Level != 2 {
			t.Fatalf("level lock %+v", le)
		}
		if l := lessonOf(e.courseDetail(tok, lvl.id), lvl.lessons[0]); reason(l) != courses.ReasonLevelRequired {
			t.Fatalf("level-locked lesson %+v", l)
		}
		e.must(200, e.do("GET", fmt.Sprintf("/api/courses/%d/lessons/%d", lvl.id, lvl.lessons[1]), nil, tok)) // preview

		// Purchase: 402 with the price until a grant exists; a refund locks again.
		paid := e.buildCourse(adminTok, map[string]any{"title": "Mentorship", "priceCents": 4900, "currency": "EUR", "unlock": map[string]any{"kind": "purchase"}}, lesson)
		r := e.must(402, e.do("POST", fmt.Sprintf("/api/courses/%d/enroll", paid.id), nil, tok))
		r.json(&le)
		if le.Error.Code != "payment_required" || le.Error.PriceCents != 4900 {
			t.Fatalf("purchase lock %s", r.body)
		}
		if c := e.listCourses(tok)[paid.id]; c.PriceCents != 4900 || c.Currency != "eur" || c.Unlock.Kind != courses.UnlockPurchase {
			t.Fatalf("paid course in the list %+v", c)
		}
		store := sqlstore.NewCourses(db, sqlstore.NewXP(db, nil))
		if _, err := store.Grant(context.Background(), u.ID, paid.id, "stripe", "cs_test", time.Now()); err != nil {
			t.Fatal(err)
		}
		e.must(201, e.do("POST", fmt.Sprintf("/api/courses/%d/enroll", paid.id), nil, tok))
		e.must(200, e.do("GET", fmt.Sprintf("/api/courses/%d/lessons/%d", paid.id, paid.lessons[0]), nil, tok))
		if _, err := store.RevokeGrant(context.Background(), u.ID, paid.id); err != nil {
			t.Fatal(err)
		}
		e.must(403, e.do("GET", fmt.Sprintf("/api/courses/%d/lessons/%d", paid.id, paid.lessons[0]), nil, tok)).json(&le)
		if le.Error.LockedReason != courses.ReasonPurchaseRequired {
			t.Fatalf("after a refund %+v", le)
		}

		// Date: 403 locked with unlocksAt until then.
		at := e.clock.Now().Add(48 * time.Hour).UTC().Truncate(time.Second)
		dated := e.buildCourse(adminTok, map[string]any{"title": "Live cohort", "unlock": map[string]any{"kind": "date", "at": at.Format(time.RFC3339)}}, lesson)
		e.must(403, e.do("POST", fmt.Sprintf("/api/courses/%d/enroll", dated.id), nil, tok)).json(&le)
		if le.Error.Code != "locked" || le.Error.UnlocksAt == nil || !le.Error.UnlocksAt.Equal(at) {
			t.Fatalf("date lock %+v", le)
		}
		if l := lessonOf(e.courseDetail(tok, dated.id), dated.lessons[0]); l.UnlocksAt == nil || !l.UnlocksAt.Equal(at) {
			t.Fatalf("date-locked lesson %+v", l)
		}

		// XP from an open course lifts the level (the cached session follows).
		open := e.buildCourse(adminTok, map[string]any{"title": "Basics"}, lesson)
		e.must(201, e.do("POST", fmt.Sprintf("/api/courses/%d/enroll", open.id), nil, tok))
		e.must(200, e.do("POST", fmt.Sprintf("/api/courses/%d/lessons/%d/complete", open.id, open.lessons[0]), nil, tok))
		if l := lessonOf(e.courseDetail(tok, lvl.id), lvl.lessons[0]); reason(l) != courses.ReasonNotEnrolled {
			t.Fatalf("level course after levelling up %+v", l)
		}
		e.must(201, e.do("POST", fmt.Sprintf("/api/courses/%d/enroll", lvl.id), nil, tok))
		e.clock.Advance(49 * time.Hour)
		e.must(201, e.do("POST", fmt.Sprintf("/api/courses/%d/enroll", dated.id), nil, tok))
		// Completing a lesson of another course through this one's path.
		e.must(404, e.do("POST", fmt.Sprintf("/api/courses/%d/lessons/%d/complete", lvl.id, open.lessons[1]), nil, tok))
	})
}

func TestCoursesBadInput(t *testing.T) {
	sqldbtest.ForEach(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		adminTok, _ := e.admin("dean")
		tok, _ := e.signup("lena")
		creatorTok, creator := e.signup("carl")
		e.must(200, e.do("PATCH", fmt.Sprintf("/api/admin/users/%d", creator.ID), map[string]string{"role": "creator"}, adminTok))
		f := e.buildCourse(adminTok, map[string]any{"title": "Basics", "slug": "basics"}, []map[string]any{{"title": "One", "body": "x"}})

		// Every admin route refuses plain users and creators, and anonymous callers.
		adminRoutes := []struct{ method, path string }{
			{"GET", "/api/admin/courses"},
			{"POST", "/api/admin/courses"},
			{"GET", fmt.Sprintf("/api/admin/courses/%d", f.id)},
			{"PATCH", fmt.Sprintf("/api/admin/courses/%d", f.id)},
			{"POST", fmt.Sprintf("/api/admin/courses/%d/modules", f.id)},
			{"POST", fmt.Sprintf("/api/admin/modules/%d/lessons", f.modules[0])},
			{"PATCH", fmt.Sprintf("/api/admin/lessons/%d", f.lessons[0])},
			{"DELETE", fmt.Sprintf("/api/admin/lessons/%d", f.lessons[0])},
		}
		for _, rt := range adminRoutes {
			e.must(401, e.do(rt.method, rt.path, map[string]any{"title": "x"}, ""))
			e.must(403, e.do(rt.method, rt.path, map[string]any{"title": "x"}, tok))
			e.must(403, e.do(rt.method, rt.path, map[string]any{"title": "x"}, creatorTok))
		}
		var ac courses.AdminCourse
		e.must(200, e.do("GET", fmt.Sprintf("/api/admin/courses/%d", f.id), nil, adminTok)).json(&ac)
		if ac.Title != "Basics" || len(ac.Modules) != 1 || len(ac.Modules[0].Lessons) != 1 || ac.Modules[0].Lessons[0].Source != "x" {
			t.Fatalf("admin view %+v", ac)
		}

		for _, bad := range []map[string]any{
			{},
			{"title": ""},
			{"title": strings.Repeat("x", 201)},
			{"title": "x", "slug": "Bad Slug"},
			{"title": "x", "currency": "dollars"},
			{"title": "x", "priceCents": -1},
			{"title": "x", "unlock": map[string]any{"kind": "purchase"}},
			{"title": "x", "unlock": map[string]any{"kind": "level", "level": 0}},
			{"title": "x", "unlock": map[string]any{"kind": "date", "at": "tomorrow"}},
			{"title": "x", "unlock": map[string]any{"kind": "vip"}},
			{"title": "x", "coverUrl": "javascript:alert(1)"},
			{"title": "x", "coverUrl": "/uploads/../etc/passwd"},
		} {
			if r := e.do("POST", "/api/admin/courses", bad, adminTok); r.status != 422 {
				t.Errorf("create %v: %d %s", bad, r.status, r.body)
			}
		}
		e.must(409, e.do("POST", "/api/admin/courses", map[string]any{"title": "Again", "slug": "basics"}, adminTok))
		e.must(400, e.do("POST", "/api/admin/courses", map[string]any{"title": "x", "price": 5}, adminTok))
		e.must(422, e.do("POST", "/api/admin/courses", map[string]any{"title": "x", "priceCents": "5"}, adminTok))
		e.must(400, e.do("POST", "/api/admin/courses", `{"title":`, adminTok))
		e.must(404, e.do("PATCH", "/api/admin/courses/999999", map[string]any{"title": "x"}, adminTok))
		e.must(404, e.do("POST", "/api/admin/courses/999999/modules", map[string]any{"title": "x"}, adminTok))
		e.must(422, e.do("POST", fmt.Sprintf("/api/admin/courses/%d/modules", f.id), map[string]any{"title": " "}, adminTok))
		e.must(404, e.do("POST", "/api/admin/modules/999999/lessons", map[string]any{"title": "x"}, adminTok))
		for _, bad := range []map[string]any{
			{"title": ""},
			{"title": "x", "format": "rtf"},
			{"title": "x", "dripDays": -1},
			{"title": "x", "durationSec": -5},
			{"title": "x", "videoUrl": "ftp://x"},
			{"title": "x", "body": strings.Repeat("é", courses.MaxBody+1)},
			{"title": "x", "moduleId": f.modules[0]},
		} {
			if r := e.do("POST", fmt.Sprintf("/api/admin/modules/%d/lessons", f.modules[0]), bad, adminTok); r.status != 422 && r.status != 413 {
				t.Errorf("lesson %v: %d %s", bad["title"], r.status, r.body)
			}
		}
		e.must(404, e.do("PATCH", "/api/admin/lessons/999999", map[string]any{"title": "x"}, adminTok))
		e.must(404, e.do("DELETE", "/api/admin/lessons/999999", nil, adminTok))

		// Unknown and malformed ids, and the wrong course for a lesson.
		for _, p := range []string{"/api/courses/999999", "/api/courses/abc", "/api/courses/-1", "/api/courses/0",
			fmt.Sprintf("/api/courses/%d/lessons/999999", f.id), fmt.Sprintf("/api/courses/%d/lessons/x", f.id),
			fmt.Sprintf("/api/courses/999999/lessons/%d", f.lessons[0])} {
			if r := e.do("GET", p, nil, tok); r.status != 404 {
				t.Errorf("GET %s: %d", p, r.status)
			}
		}
		e.must(404, e.do("POST", "/api/courses/999999/enroll", nil, tok))
		e.must(404, e.do("POST", "/api/courses/abc/enroll", nil, tok))
		e.must(404, e.do("POST", fmt.Sprintf("/api/courses/%d/lessons/99999/complete", f.id), nil, tok))
		e.must(422, e.do("GET", "/api/courses?limit=0", nil, tok))

		// Paging: newest first, capped by limit.
		var ids []int64
		for i := range 3 {
			ids = append(ids, e.buildCourse(adminTok, map[string]any{"title": fmt.Sprint("Extra ", i)}).id)
		}
		var page courseList
		e.must(200, e.do("GET", "/api/courses?limit=2", nil, tok)).json(&page)
		if len(page.Items) != 2 || page.Items[0].ID != ids[2] || page.NextCursor != fmt.Sprint(ids[1]) {
			t.Fatalf("page 1 %+v", page)
		}
		e.must(200, e.do("GET", "/api/courses?limit=2&before="+page.NextCursor, nil, tok)).json(&page)
		if len(page.Items) != 2 || page.Items[0].ID != ids[0] || page.Items[1].ID != f.id || page.NextCursor == "" {
			t.Fatalf("page 2 %+v", page)
		}
		raw := e.must(200, e.do("GET", "/api/courses", nil, "")).body
		if !json.Valid(raw) {
			t.Fatalf("list is not JSON: %s", raw)
		}
	})
}

// TestParallelCompletionAwardsOnce fires many completions of one lesson at
// once through the API: 10 XP in all.
func TestParallelCompletionAwardsOnce(t *testing.T) {
	sqldbtest.ForEach(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		adminTok, _ := e.admin("dean")
		tok, _ := e.signup("lena")
		f := e.buildCourse(adminTok, map[string]any{"title": "Race"}, []map[string]any{{"title": "One", "body": "x"}, {"title": "Two", "body": "y"}})
		e.must(201, e.do("POST", fmt.Sprintf("/api/courses/%d/enroll", f.id), nil, tok))
		var mu sync.Mutex
		var wg sync.WaitGroup
		var total int64
		completed := 0
		for i := range 20 {
			wg.Go(func() {
				var cv courses.CompleteView
				r := e.do("POST", fmt.Sprintf("/api/courses/%d/lessons/%d/complete", f.id, f.lessons[i%2]), nil, tok)
				if r.status != 200 {
					t.Errorf("completion %d: %d %s", i, r.status, r.body)
					return
				}
				r.json(&cv)
				mu.Lock()
				total += cv.XPAwarded
				if cv.XPAwarded >= 50 {
					completed++
				}
				mu.Unlock()
			})
		}
		wg.Wait()
		if total != 70 || completed != 1 {
			t.Fatalf("20 racing completions of 2 lessons awarded %d XP (course bonus %d times); want 70, once", total, completed)
		}
		var me account.User
		e.must(200, e.do("GET", "/api/users/me", nil, tok)).json(&me)
		if me.XP != 70 {
			t.Fatalf("profile xp %d, want 70", me.XP)
		}
	})
}

// TestCourseCompletedByDeletedLessons: a course whose remaining lessons
// are all completed once the others were deleted is completed by the next
// completion of one of them, repeated or not: the course bonus is paid
// then, once, and not again.
func TestCourseCompletedByDeletedLessons(t *testing.T) {
	sqldbtest.ForEach(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		adminTok, _ := e.admin("dean")
		tok, _ := e.signup("lena")
		f := e.buildCourse(adminTok, map[string]any{"title": "Shrinking"},
			[]map[string]any{{"title": "One", "body": "x"}, {"title": "Two", "body": "y"}, {"title": "Three", "body": "z"}})
		e.must(201, e.do("POST", fmt.Sprintf("/api/courses/%d/enroll", f.id), nil, tok))
		complete := func(lesson int64) courses.CompleteView {
			t.Helper()
			var cv courses.CompleteView
			e.must(200, e.do("POST", fmt.Sprintf("/api/courses/%d/lessons/%d/complete", f.id, lesson), nil, tok)).json(&cv)
			return cv
		}
		complete(f.lessons[0])
		complete(f.lessons[1])
		e.must(204, e.do("DELETE", fmt.Sprintf("/api/admin/lessons/%d", f.lessons[0]), nil, adminTok))
		e.must(204, e.do("DELETE", fmt.Sprintf("/api/admin/lessons/%d", f.lessons[2]), nil, adminTok))
		cv := complete(f.lessons[1]) // done before: the course is complete only now
		if !cv.CourseCompleted || cv.XPAwarded != 50 {
			t.Fatalf("the completion that completes the course: %+v, want the course bonus (50 XP)", cv)
		}
		if cv := complete(f.lessons[1]); !cv.CourseCompleted || cv.XPAwarded != 0 {
			t.Fatalf("completed again: %+v, want no XP", cv)
		}
		var me account.User
		e.must(200, e.do("GET", "/api/users/me", nil, tok)).json(&me)
		if me.XP != 2*10+50 {
			t.Fatalf("xp %d, want 70 (two lessons and the course once)", me.XP)
		}
	})
}
