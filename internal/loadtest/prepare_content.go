package loadtest

import (
	"context"
	"fmt"
	"time"

	"github.com/plazahq/plaza/internal/courses"
	"github.com/plazahq/plaza/internal/music"
	"github.com/plazahq/plaza/internal/sqldb"
	"github.com/plazahq/plaza/internal/sqlstore"
)

// Content the extended mix reads: published courses (one module of three
// lessons each) and mixes, made by the first prepared user.
const (
	prepCourses = 6
	prepMixes   = 30
)

func prepareContent(ctx context.Context, db *sqldb.DB, p *Prepared, run string, now time.Time) error {
	cs := sqlstore.NewCourses(db, nil)
	for i := range prepCourses {
		c, err := cs.CreateCourse(ctx, courses.Course{Slug: fmt.Sprintf("load-%s-%d", run, i), Title: fmt.Sprintf("Load course %d", i),
			Summary: "A course for the load test.", Currency: "usd", Unlock: courses.Unlock{Kind: courses.UnlockOpen}, Published: true,
			CreatedAt: now, UpdatedAt: now})
		if err != nil {
			return err
		}
		m, err := cs.CreateModule(ctx, courses.Module{CourseID: c.ID, Title: "Module", CreatedAt: now})
		if err != nil {
			return err
		}
		for j := range 3 {
			if _, err := cs.CreateLesson(ctx, courses.Lesson{CourseID: c.ID, ModuleID: m.ID, Title: fmt.Sprintf("Lesson %d", j), Format: courses.FormatMarkdown,
				Source: "Practise.", HTML: "<p>Practise.</p>", DurationSec: 300, Preview: j == 0, CreatedAt: now, UpdatedAt: now}); err != nil {
				return err
			}
		}
		p.Courses = append(p.Courses, c.ID)
	}
	ms := sqlstore.NewMusic(db, nil)
	for i := range prepMixes {
		m, err := ms.CreateMix(ctx, music.Mix{CreatorID: p.Users[0].ID, Title: fmt.Sprintf("Load mix %s %d", run, i), Genres: []string{"house"},
			DurationSec: 3600, AudioPath: "/uploads/audio/00/load.mp3", CreatedAt: now, UpdatedAt: now})
		if err != nil {
			return err
		}
		p.Mixes = append(p.Mixes, m.ID)
	}
	return nil
}
