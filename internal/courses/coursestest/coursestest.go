// Package coursestest is the conformance suite every courses.Store passes.
package coursestest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/plazahq/plaza/internal/apperr"
	"github.com/plazahq/plaza/internal/courses"
)

var seq atomic.Int64

// now is on a whole millisecond, as stores keep milliseconds.
var now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func wantCode(t *testing.T, err error, code apperr.Code) {
	t.Helper()
	if !apperr.Is(err, code) {
		t.Fatalf("got error %v, want code %s", err, code)
	}
}

// Exercise checks s. users holds at least four existing user ids at level
// 1; xpOf reads a user's total XP from the users table.
func Exercise(t *testing.T, s courses.Store, users []int64, xpOf func(ctx context.Context, userID int64) (int64, error)) {
	ctx := context.Background()
	mkCourse := func(t *testing.T, c courses.Course) courses.Course {
		t.Helper()
		n := seq.Add(1)
		if c.Slug == "" {
			c.Slug = fmt.Sprintf("course-%d", n)
		}
		if c.Title == "" {
			c.Title = fmt.Sprintf("Course %d", n)
		}
		if c.Currency == "" {
			c.Currency = "usd"
		}
		if c.Unlock.Kind == "" {
			c.Unlock.Kind = courses.UnlockOpen
		}
		c.CreatedAt, c.UpdatedAt = now, now
		got, err := s.CreateCourse(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	mkModule := func(t *testing.T, courseID int64, position int) courses.Module {
		t.Helper()
		m, err := s.CreateModule(ctx, courses.Module{CourseID: courseID, Title: fmt.Sprint("Module ", seq.Add(1)), Position: position, CreatedAt: now})
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	mkLesson := func(t *testing.T, moduleID int64, l courses.Lesson) courses.Lesson {
		t.Helper()
		l.ModuleID = moduleID
		if l.Title == "" {
			l.Title = fmt.Sprint("Lesson ", seq.Add(1))
		}
		l.Format, l.Source, l.HTML = courses.FormatMarkdown, "**hi**", "<p><strong>hi</strong></p>"
		l.CreatedAt, l.UpdatedAt = now, now
		got, err := s.CreateLesson(ctx, l)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	// courseOf makes a published open course with one module of n lessons.
	courseOf := func(t *testing.T, n int) (courses.Course, []courses.Lesson) {
		t.Helper()
		c := mkCourse(t, courses.Course{Published: true})
		m := mkModule(t, c.ID, 0)
		var ls []courses.Lesson
		for range n {
			ls = append(ls, mkLesson(t, m.ID, courses.Lesson{}))
		}
		return c, ls
	}
	admitAll := func(courses.Admission) error { return nil }
	openAll := func(g courses.Gate) error {
		if !g.Enrolled {
			return apperr.New(apperr.Locked, "not enrolled")
		}
		return nil
	}
	complete := func(user int64, c courses.Course, l courses.Lesson) (courses.CompletionResult, error) {
		return s.Complete(ctx, courses.Completion{UserID: user, CourseID: c.ID, LessonID: l.ID, At: now, LessonXP: 10, CourseXP: 50}, openAll)
	}

	t.Run("Courses", func(t *testing.T) {
		at := now.Add(48 * time.Hour)
		c := mkCourse(t, courses.Course{Summary: "learn", CoverPath: "/uploads/image/ab/x.png", PriceCents: 4900,
			Unlock: courses.Unlock{Kind: courses.UnlockDate, At: &at}})
		got, err := s.Course(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(c, got); diff != "" {
			t.Errorf("Course (-created +read):\n%s", diff)
		}
		if c.Published || c.Unlock.At == nil || !c.Unlock.At.Equal(at) || c.PriceCents != 4900 || c.CoverPath != "/uploads/image/ab/x.png" {
			t.Fatalf("created %+v", c)
		}
		_, err = s.CreateCourse(ctx, courses.Course{Slug: c.Slug, Title: "dup", Currency: "usd", Unlock: courses.Unlock{Kind: courses.UnlockOpen}, CreatedAt: now, UpdatedAt: now})
		if e := apperr.From(err); e.Code != apperr.Conflict || e.Fields["slug"] == "" {
			t.Fatalf("duplicate slug: %v", err)
		}
		other := mkCourse(t, courses.Course{})
		other.Slug = c.Slug
		_, err = s.UpdateCourse(ctx, other)
		wantCode(t, err, apperr.Conflict)

		c.Title, c.Published, c.Unlock = "Renamed", true, courses.Unlock{Kind: courses.UnlockLevel, Level: 3}
		c.UpdatedAt = now.Add(time.Hour)
		up, err := s.UpdateCourse(ctx, c)
		if err != nil || up.Title != "Renamed" || !up.Published || up.Unlock.Kind != courses.UnlockLevel || up.Unlock.Level != 3 ||
			up.Unlock.At != nil || !up.UpdatedAt.Equal(c.UpdatedAt) || !up.CreatedAt.Equal(now) {
			t.Fatalf("UpdateCourse = %+v, %v", up, err)
		}
		_, err = s.Course(ctx, 1<<40)
		wantCode(t, err, apperr.NotFound)
		_, err = s.UpdateCourse(ctx, courses.Course{ID: 1 << 40, Slug: "nope", Title: "x", Currency: "usd", Unlock: courses.Unlock{Kind: courses.UnlockOpen}})
		wantCode(t, err, apperr.NotFound)

		m := mkModule(t, c.ID, 0)
		mkLesson(t, m.ID, courses.Lesson{})
		mkLesson(t, m.ID, courses.Lesson{})
		pub, err := s.Courses(ctx, true)
		if err != nil {
			t.Fatal(err)
		}
		all, _ := s.Courses(ctx, false)
		in := func(list []courses.CatalogEntry, id int64) (courses.CatalogEntry, bool) {
			for _, e := range list {
				if e.Course.ID == id {
					return e, true
				}
			}
			return courses.CatalogEntry{}, false
		}
		if e, ok := in(pub, c.ID); !ok || e.LessonCount != 2 {
			t.Fatalf("published list: %+v", e)
		}
		if _, ok := in(pub, other.ID); ok {
			t.Fatal("an unpublished course is in the published list")
		}
		if _, ok := in(all, other.ID); !ok {
			t.Fatal("the full list misses an unpublished course")
		}
		for i := 1; i < len(all); i++ {
			if all[i].Course.ID >= all[i-1].Course.ID {
				t.Fatal("the list is not newest first")
			}
		}
	})

	t.Run("ModulesAndLessonsInOrder", func(t *testing.T) {
		c := mkCourse(t, courses.Course{})
		m1, m2 := mkModule(t, c.ID, 0), mkModule(t, c.ID, 0)
		if m1.Position != 1 || m2.Position != 2 {
			t.Fatalf("appended positions %d, %d", m1.Position, m2.Position)
		}
		if m3 := mkModule(t, c.ID, 7); m3.Position != 7 {
			t.Fatalf("module asked at 7 is at %d", m3.Position)
		}
		a := mkLesson(t, m1.ID, courses.Lesson{Title: "a", DurationSec: 60, Preview: true, DripDays: 2, VideoURL: "https://v.example/a"})
		b := mkLesson(t, m1.ID, courses.Lesson{Title: "b"})
		first := mkLesson(t, m1.ID, courses.Lesson{Title: "first"})
		if a.Position != 1 || b.Position != 2 || first.Position != 3 || a.CourseID != c.ID {
			t.Fatalf("lesson positions %d %d %d, course %d", a.Position, b.Position, first.Position, a.CourseID)
		}
		first.Position = 0
		first.UpdatedAt = now.Add(time.Minute)
		if _, err := s.UpdateLesson(ctx, first); err != nil {
			t.Fatal(err)
		}
		o, err := s.Outline(ctx, c.ID, false)
		if err != nil {
			t.Fatal(err)
		}
		var titles []string
		for _, l := range o.Modules[0].Lessons {
			titles = append(titles, l.Title)
			if l.Source != "" || l.HTML != "" {
				t.Fatal("Outline without bodies returned bodies")
			}
		}
		if len(o.Modules) != 3 || o.Modules[0].ID != m1.ID || fmt.Sprint(titles) != "[first a b]" || len(o.Modules[1].Lessons) != 0 {
			t.Fatalf("outline: %d modules, lessons %v", len(o.Modules), titles)
		}
		withBodies, _ := s.Outline(ctx, c.ID, true)
		got := withBodies.Modules[0].Lessons[1]
		if diff := cmp.Diff(a, got); diff != "" {
			t.Errorf("lesson in the outline (-created +outline):\n%s", diff)
		}
		if l, err := s.Lesson(ctx, a.ID); err != nil || l.HTML != a.HTML || l.Source != a.Source {
			t.Fatalf("Lesson = %+v, %v", l, err)
		}

		// Moves stay inside the course.
		b.ModuleID = m2.ID
		if moved, err := s.UpdateLesson(ctx, b); err != nil || moved.ModuleID != m2.ID {
			t.Fatalf("move within the course: %+v, %v", moved, err)
		}
		elsewhere := mkModule(t, mkCourse(t, courses.Course{}).ID, 0)
		b.ModuleID = elsewhere.ID
		_, err = s.UpdateLesson(ctx, b)
		wantCode(t, err, apperr.Validation)
		b.ModuleID = 1 << 40
		_, err = s.UpdateLesson(ctx, b)
		wantCode(t, err, apperr.Validation)
		if l, _ := s.Lesson(ctx, b.ID); l.ModuleID != m2.ID {
			t.Fatal("a refused move moved the lesson")
		}

		if d, err := s.DeleteLesson(ctx, a.ID); err != nil || d.ID != a.ID {
			t.Fatalf("DeleteLesson = %+v, %v", d, err)
		}
		_, err = s.DeleteLesson(ctx, a.ID)
		wantCode(t, err, apperr.NotFound)
		_, err = s.Lesson(ctx, a.ID)
		wantCode(t, err, apperr.NotFound)
		_, err = s.UpdateLesson(ctx, courses.Lesson{ID: 1 << 40, Title: "x", Format: courses.FormatHTML})
		wantCode(t, err, apperr.NotFound)
		_, err = s.CreateModule(ctx, courses.Module{CourseID: 1 << 40, Title: "x", CreatedAt: now})
		wantCode(t, err, apperr.NotFound)
		_, err = s.CreateLesson(ctx, courses.Lesson{ModuleID: 1 << 40, Title: "x", Format: courses.FormatHTML, CreatedAt: now, UpdatedAt: now})
		wantCode(t, err, apperr.NotFound)
		if m, err := s.Module(ctx, m2.ID); err != nil || m != m2 {
			t.Fatalf("Module = %+v, %v", m, err)
		}
		_, err = s.Module(ctx, 1<<40)
		wantCode(t, err, apperr.NotFound)
		_, err = s.Outline(ctx, 1<<40, false)
		wantCode(t, err, apperr.NotFound)
	})

	t.Run("EnrollAsksAdmitOnce", func(t *testing.T) {
		u := users[0]
		c := mkCourse(t, courses.Course{Published: true, PriceCents: 100, Unlock: courses.Unlock{Kind: courses.UnlockPurchase}})
		var asked []courses.Admission
		refuse := func(a courses.Admission) error {
			asked = append(asked, a)
			return apperr.New(apperr.PaymentRequired, "buy it")
		}
		_, _, err := s.Enroll(ctx, u, c.ID, now, refuse)
		wantCode(t, err, apperr.PaymentRequired)
		if len(asked) != 1 || asked[0].Course.ID != c.ID || asked[0].Level != 1 || asked[0].Granted || asked[0].Course.Unlock.Kind != courses.UnlockPurchase {
			t.Fatalf("admission %+v", asked)
		}
		if st, _ := s.Standing(ctx, u, c.ID); st.Enrolled {
			t.Fatal("a refused enrollment was stored")
		}

		if ok, err := s.Grant(ctx, u, c.ID, "stripe", "cs_1", now); err != nil || !ok {
			t.Fatalf("Grant = %v, %v", ok, err)
		}
		if ok, err := s.Grant(ctx, u, c.ID, "stripe", "cs_2", now); err != nil || ok {
			t.Fatalf("second Grant = %v, %v", ok, err)
		}
		_, err = s.Grant(ctx, u, 1<<40, "stripe", "x", now)
		wantCode(t, err, apperr.NotFound)
		_, err = s.Grant(ctx, 1<<40, c.ID, "stripe", "x", now)
		wantCode(t, err, apperr.NotFound)

		asked = nil
		later := now.Add(time.Hour)
		e, created, err := s.Enroll(ctx, u, c.ID, later, func(a courses.Admission) error {
			asked = append(asked, a)
			return nil
		})
		if err != nil || !created || !e.EnrolledAt.Equal(later) || e.CourseID != c.ID || len(asked) != 1 || !asked[0].Granted {
			t.Fatalf("Enroll = %+v, %v, %v (asked %+v)", e, created, err, asked)
		}
		again, created, err := s.Enroll(ctx, u, c.ID, later.Add(time.Hour), refuse)
		if err != nil || created || !again.EnrolledAt.Equal(later) {
			t.Fatalf("enrolling again = %+v, %v, %v", again, created, err)
		}
		st, err := s.Standing(ctx, u, c.ID)
		if err != nil || !st.Enrolled || !st.Granted || !st.EnrolledAt.Equal(later) || len(st.Completed) != 0 {
			t.Fatalf("Standing = %+v, %v", st, err)
		}
		if ok, err := s.RevokeGrant(ctx, u, c.ID); err != nil || !ok {
			t.Fatalf("RevokeGrant = %v, %v", ok, err)
		}
		if ok, _ := s.RevokeGrant(ctx, u, c.ID); ok {
			t.Fatal("revoked twice")
		}
		if st, _ := s.Standing(ctx, u, c.ID); st.Granted || !st.Enrolled {
			t.Fatalf("after revoking: %+v", st)
		}
		_, _, err = s.Enroll(ctx, u, 1<<40, now, admitAll)
		wantCode(t, err, apperr.NotFound)
		if st, err := s.Standing(ctx, users[3], c.ID); err != nil || st.Enrolled || st.Granted {
			t.Fatalf("a stranger's standing: %+v, %v", st, err)
		}
	})

	t.Run("CompleteAndProgress", func(t *testing.T) {
		u := users[1]
		c, ls := courseOf(t, 2)
		other, otherLessons := courseOf(t, 1)
		_, err := complete(u, c, ls[0])
		wantCode(t, err, apperr.Locked)
		if p, _ := s.Progress(ctx, u); len(p) != 0 {
			t.Fatalf("progress before enrolling: %v", p)
		}
		for _, cc := range []courses.Course{c, other} {
			if _, _, err := s.Enroll(ctx, u, cc.ID, now, admitAll); err != nil {
				t.Fatal(err)
			}
		}
		var gate courses.Gate
		res, err := s.Complete(ctx, courses.Completion{UserID: u, CourseID: c.ID, LessonID: ls[0].ID, At: now, LessonXP: 10, CourseXP: 50},
			func(g courses.Gate) error { gate = g; return nil })
		if err != nil || res.XPAwarded != 10 || res.Completed != 1 || res.Total != 2 || res.CourseCompleted || res.XP != 10 {
			t.Fatalf("first completion = %+v, %v", res, err)
		}
		if !gate.Enrolled || !gate.EnrolledAt.Equal(now) || gate.Lesson.ID != ls[0].ID || gate.Lesson.CourseID != c.ID {
			t.Fatalf("gate %+v", gate)
		}
		if res, err := complete(u, c, ls[0]); err != nil || res.XPAwarded != 0 || res.Completed != 1 {
			t.Fatalf("completing again = %+v, %v", res, err)
		}
		_, err = complete(u, c, otherLessons[0])
		wantCode(t, err, apperr.NotFound)
		_, err = s.Complete(ctx, courses.Completion{UserID: u, CourseID: c.ID, LessonID: 1 << 40, At: now}, openAll)
		wantCode(t, err, apperr.NotFound)
		_, err = s.Complete(ctx, courses.Completion{UserID: u, CourseID: c.ID, LessonID: ls[1].ID, At: now, LessonXP: 10},
			func(courses.Gate) error { return errors.New("refused") })
		if err == nil {
			t.Fatal("a refused completion succeeded")
		}

		p, err := s.Progress(ctx, u)
		if err != nil || len(p) != 2 || p[c.ID] != 1 || p[other.ID] != 0 {
			t.Fatalf("Progress = %v, %v", p, err)
		}
		res, err = complete(u, c, ls[1])
		if err != nil || res.XPAwarded != 60 || res.Completed != 2 || !res.CourseCompleted || res.XP != 70 {
			t.Fatalf("last lesson = %+v, %v", res, err)
		}
		if res, _ := complete(u, c, ls[1]); res.XPAwarded != 0 || !res.CourseCompleted {
			t.Fatalf("completing the last again = %+v", res)
		}
		if xp, err := xpOf(ctx, u); err != nil || xp != 70 {
			t.Fatalf("user's xp %d, %v; want 70", xp, err)
		}
		st, _ := s.Standing(ctx, u, c.ID)
		if !st.Completed[ls[0].ID] || !st.Completed[ls[1].ID] || len(st.Completed) != 2 {
			t.Fatalf("Standing.Completed = %v", st.Completed)
		}
		// A deleted lesson takes its completions along.
		if _, err := s.DeleteLesson(ctx, ls[1].ID); err != nil {
			t.Fatal(err)
		}
		if p, _ := s.Progress(ctx, u); p[c.ID] != 1 {
			t.Fatalf("progress after deleting a completed lesson: %v", p)
		}
	})

	t.Run("ConcurrentCompletionAwardsOnce", func(t *testing.T) {
		u := users[2]
		c, ls := courseOf(t, 3)
		var wg sync.WaitGroup
		var enrolledNew atomic.Int64
		for range 8 {
			wg.Go(func() {
				_, created, err := s.Enroll(ctx, u, c.ID, now, admitAll)
				if err != nil {
					t.Error(err)
				}
				if created {
					enrolledNew.Add(1)
				}
			})
		}
		wg.Wait()
		if enrolledNew.Load() != 1 {
			t.Fatalf("8 concurrent enrollments created %d", enrolledNew.Load())
		}
		before, _ := xpOf(ctx, u)
		var awarded atomic.Int64
		var completedCourse atomic.Int64
		// 8 racers on each lesson: every lesson's XP once, the course's once.
		for i := range 24 {
			wg.Go(func() {
				res, err := complete(u, c, ls[i%3])
				if err != nil {
					t.Error(err)
					return
				}
				awarded.Add(res.XPAwarded)
				if res.CourseCompleted && res.XPAwarded >= 50 {
					completedCourse.Add(1)
				}
			})
		}
		wg.Wait()
		if got := awarded.Load(); got != 3*10+50 {
			t.Errorf("24 racing completions of 3 lessons awarded %d XP, want 80", got)
		}
		if completedCourse.Load() != 1 {
			t.Errorf("the course XP was awarded %d times", completedCourse.Load())
		}
		after, _ := xpOf(ctx, u)
		if after-before != 80 {
			t.Errorf("the user's xp moved by %d, want 80", after-before)
		}
		if p, _ := s.Progress(ctx, u); p[c.ID] != 3 {
			t.Errorf("progress %v", p)
		}
	})
}
