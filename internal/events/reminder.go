package events

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/plazahq/plaza/internal/account"
	"github.com/plazahq/plaza/internal/jobs"
	"github.com/plazahq/plaza/internal/mail"
)

// ReminderKind notifies an event's going members before it starts.
const ReminderKind = "event.reminder"

// ReminderLead is how long before the start the reminder goes out.
const ReminderLead = time.Hour

// reminderPayload names the event and the start the reminder is for: a
// reminder for a start the event no longer has does nothing.
type reminderPayload struct {
	EventID  int64 `json:"eventId"`
	StartsAt int64 `json:"startsAt"` // Unix ms
}

// Scheduled is the event's reminder job, due ReminderLead before its
// start. Its unique key holds the start, so moving the event queues a new
// one and a retried insert for the same start queues none.
func (s *Service) Scheduled(e Event) []jobs.Job {
	if !e.StartsAt.After(s.Now()) {
		return nil
	}
	j := jobs.Must(ReminderKind, reminderPayload{EventID: e.ID, StartsAt: e.StartsAt.UnixMilli()})
	j.UniqueKey = ReminderKind + ":" + strconv.FormatInt(e.ID, 10) + ":" + strconv.FormatInt(e.StartsAt.UnixMilli(), 10)
	j.RunAt = e.StartsAt.Add(-ReminderLead)
	j.MaxAttempts = 5
	return []jobs.Job{j}
}

func (s *Service) link(e Event) string {
	return s.BaseURL + "/events/" + strconv.FormatInt(e.ID, 10)
}

func mailJob(m mail.Message) jobs.Job {
	j := jobs.Must(account.MailKind, m)
	j.Priority = 10 // time-sensitive, like account mails
	return j
}

// Promoted is the mail telling m they have a place now.
func (s *Service) Promoted(e Event, m Member) []jobs.Job {
	return []jobs.Job{mailJob(mail.Message{To: m.Email, Subject: "You're in: " + e.Title,
		Text: fmt.Sprintf("Hello %s,\n\na place opened up and you moved off the waitlist: you are going to %q, %s.\n\n%s\n\nIf you can no longer come, answer \"not going\" so the next person gets your place.\n",
			m.Username, e.Title, e.StartsAt.Format("Mon 2 Jan 2006 15:04 MST"), s.link(e))})}
}

// Reminder is the mail reminding m that e starts soon.
func (s *Service) Reminder(e Event, m Member) []jobs.Job {
	where := e.Location
	if e.StreamURL != "" {
		where = e.StreamURL
	}
	if where != "" {
		where = "\nWhere: " + where
	}
	return []jobs.Job{mailJob(mail.Message{To: m.Email, Subject: "Starting soon: " + e.Title,
		Text: fmt.Sprintf("Hello %s,\n\n%q starts at %s.%s\n\n%s\n", m.Username, e.Title, e.StartsAt.Format("Mon 2 Jan 2006 15:04 MST"), where, s.link(e))})}
}

// ReminderEvent is event.reminder's data in user:{id}.
type ReminderEvent struct {
	EventID   int64     `json:"eventId"`
	Title     string    `json:"title"`
	StartsAt  time.Time `json:"startsAt"`
	Location  string    `json:"location"`
	StreamURL string    `json:"streamUrl"`
}

// ReminderJobKind runs reminders. The handler re-reads the event under
// its lock: deleted, moved (a reminder for the new start is queued) or
// already reminded for this start, it does nothing; otherwise it enqueues
// every going member's mail and marks the start reminded in one
// transaction, so a retry or a restart never mails twice.
func (s *Service) ReminderJobKind() jobs.Kind {
	return jobs.Kind{Name: ReminderKind, MaxAttempts: 5, Timeout: time.Minute, Handle: s.handleReminder}
}

func (s *Service) handleReminder(ctx context.Context, j jobs.Job) error {
	var p reminderPayload
	if err := json.Unmarshal(j.Payload, &p); err != nil || p.EventID <= 0 {
		return fmt.Errorf("%s payload %s: %w", ReminderKind, j.Payload, jobs.ErrPermanent)
	}
	starts := time.UnixMilli(p.StartsAt).UTC()
	users, err := s.Store.Remind(ctx, p.EventID, starts, s.Now(), s)
	if err != nil || len(users) == 0 {
		return err
	}
	s.Jobs.Notify(ctx)
	e, err := s.Store.Event(ctx, p.EventID)
	if err != nil {
		return nil // deleted since: the mails are queued, the live notice has no event to show
	}
	for _, u := range users {
		s.publish(ctx, account.UserRoom(u), "event.reminder", ReminderEvent{EventID: e.ID, Title: e.Title, StartsAt: e.StartsAt,
			Location: e.Location, StreamURL: e.StreamURL})
	}
	return nil
}
