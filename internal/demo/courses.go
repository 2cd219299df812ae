package demo

import (
	"context"
	"fmt"

	"github.com/plazahq/plaza/internal/courses"
)

var courseList = []struct {
	slug, title, summary string
	unlock               courses.UnlockInput
	modules              []string
}{
	{"dj-foundations", "DJ Foundations", "Beatmatching, phrasing and your first clean mix.", courses.UnlockInput{Kind: "open"},
		[]string{"Getting started", "Beatmatching", "Your first mix"}},
	{"mixing-techniques", "Mixing Techniques", "EQ, filters, harmonic mixing and long blends.", courses.UnlockInput{Kind: "open"},
		[]string{"EQ and filters", "Harmonic mixing"}},
	{"music-production-101", "Music Production 101", "From an empty project to a finished track (level 3 and up).", courses.UnlockInput{Kind: "level", Level: 3},
		[]string{"The DAW", "Drums and groove", "Arrangement"}},
}

func ptr[T any](v T) *T { return &v }

// seedCourses makes three published courses of modules and lessons, then
// enrolls people and completes lessons through the service (lesson and
// course XP come from the ledger).
func seedCourses(ctx context.Context, e *Env) error {
	s := e.App.Courses
	var made []courses.AdminCourse
	lessons := 0
	for _, c := range courseList {
		ac, err := s.CreateCourse(ctx, courses.CourseInput{Slug: ptr(e.slug(c.slug)), Title: ptr(c.title), Summary: ptr(c.summary), Unlock: ptr(c.unlock)})
		if err != nil {
			return err
		}
		for mi, title := range c.modules {
			m, err := s.CreateModule(ctx, ac.ID, courses.ModuleInput{Title: title})
			if err != nil {
				return err
			}
			for li := range 3 {
				body := fmt.Sprintf("## %s, part %d\n\nIn this lesson you will practise **%s**.\n\n- Listen first\n- Then try it on your own\n- Post your result in #course-help", title, li+1, title)
				if _, err := s.CreateLesson(ctx, m.ID, courses.LessonInput{Title: ptr(fmt.Sprintf("%s %d", title, li+1)), Body: ptr(body),
					DurationSec: ptr(300 + 60*li), Preview: ptr(mi == 0 && li == 0)}); err != nil {
					return err
				}
				lessons++
			}
		}
		if ac, err = s.UpdateCourse(ctx, ac.ID, courses.CourseInput{Published: ptr(true)}); err != nil {
			return err
		}
		made = append(made, ac)
	}
	// Enrolment and progress in the open courses: the demo user and about
	// half of everyone, some finishing a course.
	enrolled, completed := 0, 0
	for i, u := range e.Users {
		if i%2 == 1 && u.ID != e.Demo.ID {
			continue
		}
		for ci, c := range made[:2] {
			if _, _, err := s.Enroll(ctx, u, c.ID); err != nil {
				return err
			}
			enrolled++
			detail, err := s.Course(ctx, &u, c.ID)
			if err != nil {
				return err
			}
			done := 0
			want := e.Rnd.IntN(10)
			if u.ID == e.Demo.ID && ci == 0 {
				want = 100 // the demo user has finished DJ Foundations
			}
			for _, m := range detail.Modules {
				for _, l := range m.Lessons {
					if done >= want || l.Locked {
						continue
					}
					if _, err := s.Complete(ctx, u, c.ID, l.ID); err != nil {
						return err
					}
					done++
					completed++
				}
			}
		}
	}
	e.Progress("%d courses, %d lessons, %d enrolments, %d lessons completed", len(made), lessons, enrolled, completed)
	return nil
}
