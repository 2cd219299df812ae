package loadtest

import (
	"context"
	"fmt"
	"time"

	"github.com/plazahq/plaza/internal/courses"
	"github.com/plazahq/plaza/internal/events"
	"github.com/plazahq/plaza/internal/jobs"
	"github.com/plazahq/plaza/internal/music"
	"github.com/plazahq/plaza/internal/sqldb"
	"github.com/plazahq/plaza/internal/sqlstore"
)

// Content the extended mix reads: published courses (one module of three
// lessons each), mixes and upcoming events, made by the first prepared
// user, and RSVPs of the first prepUsersGoing users (one event each), so
// that the events read lays real RSVPs over the page.
const (
	prepCourses     = 6
	prepMixes       = 30
	prepEvents      = 10
	prepUsersGoing  = 200
	prepEventsEvery = 6 * time.Hour // the first starts this long after prepare, the next as long after it
)

// quietOutbox schedules nothing for prepared events: the load test reads
// them, and they start hours after the run (no reminders, no mail).
type quietOutbox struct{}

func (quietOutbox) Scheduled(events.Event) []jobs.Job               { return nil }
func (quietOutbox) Promoted(events.Event, events.Member) []jobs.Job { return nil }
func (quietOutbox) Reminder(events.Event, events.Member) []jobs.Job { return nil }

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
	es := sqlstore.NewEvents(db, nil)
	for i := range prepEvents {
		start := now.Add(time.Duration(i+1) * prepEventsEvery).Truncate(time.Minute)
		e, err := es.CreateEvent(ctx, events.Event{OwnerID: p.Users[0].ID, Title: fmt.Sprintf("Load event %s %d", run, i),
			Description: "An event for the load test.", Location: "Online", StartsAt: start, EndsAt: start.Add(2 * time.Hour),
			CreatedAt: now, UpdatedAt: now}, quietOutbox{})
		if err != nil {
			return err
		}
		p.Events = append(p.Events, e.ID)
	}
	for i, u := range p.Users[:min(prepUsersGoing, len(p.Users))] {
		if _, err := es.RSVP(ctx, p.Events[i%len(p.Events)], u.ID, events.Going, now, quietOutbox{}); err != nil {
			return err
		}
	}
	return nil
}
