// Package events owns events (a start, an end, a place or a stream, a
// capacity), the RSVPs to them with their waitlist, attendance and its XP,
// and the reminders sent an hour before the start: who may do what, the
// rules an RSVP follows, and which mails and real-time events each write
// causes. Storage is behind Store; sqlstore implements it on both engines
// and eventstest checks it.
package events

import (
	"context"
	"time"

	"github.com/plazahq/plaza/internal/jobs"
)

// Status is a member's answer to an event. Going and Interested and
// NotGoing are what members send; Waitlisted is what Going becomes when the
// event is full.
type Status string

// The RSVP statuses.
const (
	Going      Status = "going"
	Waitlisted Status = "waitlisted"
	Interested Status = "interested"
	NotGoing   Status = "not_going"
)

// Rank orders attendee lists: going, waitlisted, interested, not going.
func (s Status) Rank() int {
	switch s {
	case Going:
		return 1
	case Waitlisted:
		return 2
	case Interested:
		return 3
	}
	return 4
}

// Event is one event as stored. Going and Waitlisted are counted when it
// is read.
type Event struct {
	ID          int64
	OwnerID     int64
	Title       string
	Description string
	Location    string
	StreamURL   string
	StartsAt    time.Time
	EndsAt      time.Time
	Capacity    *int // nil: unlimited
	Going       int
	Waitlisted  int
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Full reports whether no one more may go.
func (e Event) Full() bool { return e.Capacity != nil && e.Going >= *e.Capacity }

// Patch is a change to an event; nil fields stay as they are. Capacity is
// changed when SetCapacity is true (to unlimited when Capacity is nil).
type Patch struct {
	Title       *string
	Description *string
	Location    *string
	StreamURL   *string
	StartsAt    *time.Time
	EndsAt      *time.Time
	SetCapacity bool
	Capacity    *int
}

// Member is a user an event write concerns, with what a mail to them needs.
type Member struct {
	UserID   int64
	Username string
	Email    string
}

// RSVPResult is where an RSVP left its member, and whom it promoted from
// the waitlist (their mails are enqueued in the same transaction).
type RSVPResult struct {
	Status   Status
	Position int // 1-based place in the waitlist when Waitlisted, else 0
	Promoted []int64
}

// MyRSVP is one member's answer to an event.
type MyRSVP struct {
	Status   Status
	Position int // 1-based place in the waitlist when Waitlisted, else 0
}

// Attendee is one RSVP as the event's owner sees it.
type Attendee struct {
	UserID    int64
	Status    Status
	Position  int   // 1-based place in the waitlist when Waitlisted
	WaitSeq   int64 // the waitlist ticket behind Position, for cursors
	Attended  bool
	UpdatedAt time.Time
}

// Attendance is the outcome of marking one user as having attended.
type Attendance struct {
	UserID    int64 `json:"userId"`
	XPAwarded int64 `json:"xpAwarded"` // 0 when marked before
}

// Range selects events that overlap [From, To) (To zero: no end), ordered
// by start then id, after the cursor (AfterStart, AfterID), at most Limit.
type Range struct {
	From       time.Time
	To         time.Time
	AfterStart time.Time
	AfterID    int64
	Limit      int
}

// AttendeePage selects attendees after a cursor: by status (going,
// waitlisted, interested, not going), waitlist place, then user id.
type AttendeePage struct {
	AfterRank int
	AfterSeq  int64
	AfterUser int64
	Limit     int
}

// Outbox builds the jobs a store write enqueues in its own transaction,
// once the rows they concern are known.
type Outbox interface {
	// Scheduled: an event was created or its start moved (its reminder).
	Scheduled(e Event) []jobs.Job
	// Promoted: m moved from the waitlist to going (their mail).
	Promoted(e Event, m Member) []jobs.Job
	// Reminder: m is going to e, which starts within the hour (their mail).
	Reminder(e Event, m Member) []jobs.Job
}

// Store is the storage events need. A missing event is an apperr NotFound
// error. Every write that touches RSVPs locks the event's row first, so
// RSVPs to one event are serialised and its capacity is never exceeded.
type Store interface {
	// CreateEvent inserts e with the jobs ob.Scheduled names.
	CreateEvent(ctx context.Context, e Event, ob Outbox) (Event, error)
	Event(ctx context.Context, id int64) (Event, error)
	// Events lists the events in r.
	Events(ctx context.Context, r Range) ([]Event, error)
	// UpdateEvent applies p; when the start moves it enqueues
	// ob.Scheduled's jobs, and when the capacity grows it promotes from the
	// waitlist (ob.Promoted's jobs), all in one transaction.
	UpdateEvent(ctx context.Context, id int64, p Patch, now time.Time, ob Outbox) (Event, []int64, error)
	// DeleteEvent removes an event with its RSVPs and attendance.
	DeleteEvent(ctx context.Context, id int64) error

	// RSVP records userID's answer. Going on a full event joins the
	// waitlist's end; a going member who leaves is replaced by the first
	// waitlisted one (ob.Promoted's jobs enqueued), in one transaction.
	// Answering what one already answered changes nothing.
	RSVP(ctx context.Context, eventID, userID int64, want Status, now time.Time, ob Outbox) (RSVPResult, error)
	// MyRSVPs returns userID's answers to the given events (absent: none),
	// each with its waitlist place when waitlisted, in one query.
	MyRSVPs(ctx context.Context, userID int64, eventIDs []int64) (map[int64]MyRSVP, error)
	// Attendees pages an event's RSVPs.
	Attendees(ctx context.Context, eventID int64, p AttendeePage) ([]Attendee, error)
	// MarkAttended records that the users attended and awards each xp for
	// it once (a user marked again gets 0). An unknown user is an apperr
	// validation error and nothing is marked.
	MarkAttended(ctx context.Context, eventID int64, userIDs []int64, xp int64, now time.Time) ([]Attendance, error)

	// Remind enqueues ob.Reminder's jobs for the event's going members and
	// returns them, if the event still starts at startsAt, has not started
	// by now, and was not reminded for that start yet; otherwise nothing.
	Remind(ctx context.Context, eventID int64, startsAt, now time.Time, ob Outbox) ([]int64, error)
}
