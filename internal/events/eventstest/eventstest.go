// Package eventstest is the conformance suite every events.Store passes,
// including RSVPs made in parallel against one capacity.
package eventstest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/plazahq/plaza/internal/apperr"
	"github.com/plazahq/plaza/internal/events"
	"github.com/plazahq/plaza/internal/jobs"
	"github.com/plazahq/plaza/internal/testenv"
)

// Users is how many existing users Exercise needs.
const Users = 50

// outbox records what a store asked it for. A transaction retried as a
// deadlock victim may ask twice; the sets absorb that.
type outbox struct {
	mu        sync.Mutex
	scheduled map[int64][]time.Time    // event -> starts it was scheduled for
	promoted  map[int64]map[int64]bool // event -> users
	reminded  map[int64]map[int64]bool
}

func newOutbox() *outbox {
	return &outbox{scheduled: map[int64][]time.Time{}, promoted: map[int64]map[int64]bool{}, reminded: map[int64]map[int64]bool{}}
}

func (o *outbox) Scheduled(e events.Event) []jobs.Job {
	o.mu.Lock()
	defer o.mu.Unlock()
	if !slices.ContainsFunc(o.scheduled[e.ID], e.StartsAt.Equal) {
		o.scheduled[e.ID] = append(o.scheduled[e.ID], e.StartsAt)
	}
	return []jobs.Job{jobs.Must("test.scheduled", map[string]int64{"eventId": e.ID})}
}

func add(m map[int64]map[int64]bool, e, u int64) {
	if m[e] == nil {
		m[e] = map[int64]bool{}
	}
	m[e][u] = true
}

func (o *outbox) Promoted(e events.Event, m events.Member) []jobs.Job {
	o.mu.Lock()
	defer o.mu.Unlock()
	if m.Email == "" || m.Username == "" {
		panic(fmt.Sprintf("member without mail data: %+v", m))
	}
	add(o.promoted, e.ID, m.UserID)
	return []jobs.Job{jobs.Must("test.promoted", m)}
}

func (o *outbox) Reminder(e events.Event, m events.Member) []jobs.Job {
	o.mu.Lock()
	defer o.mu.Unlock()
	add(o.reminded, e.ID, m.UserID)
	return []jobs.Job{jobs.Must("test.reminded", m)}
}

func (o *outbox) promotedTo(e int64) []int64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []int64
	for u := range o.promoted[e] {
		out = append(out, u)
	}
	slices.Sort(out)
	return out
}

var now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func ptr[T any](v T) *T { return &v }

// Exercise checks s. users holds at least Users existing user ids, each
// with a username and an email.
func Exercise(t *testing.T, s events.Store, users []int64) {
	if len(users) < Users {
		t.Fatalf("eventstest needs %d users, got %d", Users, len(users))
	}
	ctx := context.Background()
	owner := users[0]
	ob := newOutbox()
	mk := func(t *testing.T, startIn time.Duration, capacity *int) events.Event {
		t.Helper()
		e, err := s.CreateEvent(ctx, events.Event{OwnerID: owner, Title: "Set " + startIn.String(), Description: "desc", Location: "Club",
			StreamURL: "https://stream.example/x", StartsAt: now.Add(startIn), EndsAt: now.Add(startIn + 2*time.Hour), Capacity: capacity, CreatedAt: now}, ob)
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	rsvp := func(t *testing.T, e, u int64, st events.Status) events.RSVPResult {
		t.Helper()
		r, err := s.RSVP(ctx, e, u, st, now, ob)
		if err != nil {
			t.Fatalf("RSVP(%d, %d, %s): %v", e, u, st, err)
		}
		return r
	}
	get := func(t *testing.T, id int64) events.Event {
		t.Helper()
		e, err := s.Event(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return e
	}

	t.Run("CreateReadDelete", func(t *testing.T) {
		e := mk(t, 48*time.Hour, ptr(5))
		got := get(t, e.ID)
		if got.Title != e.Title || !got.StartsAt.Equal(now.Add(48*time.Hour)) || got.Capacity == nil || *got.Capacity != 5 ||
			got.OwnerID != owner || got.StreamURL != "https://stream.example/x" || got.Going != 0 {
			t.Fatalf("Event = %+v", got)
		}
		if len(ob.scheduled[e.ID]) != 1 {
			t.Fatalf("scheduled %v, want once", ob.scheduled[e.ID])
		}
		unlimited := mk(t, 49*time.Hour, nil)
		if get(t, unlimited.ID).Capacity != nil {
			t.Fatal("unlimited capacity read back as a number")
		}
		if _, err := s.Event(ctx, 1<<40); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("missing event: %v", err)
		}
		rsvp(t, e.ID, users[1], events.Going)
		if _, err := s.MarkAttended(ctx, e.ID, []int64{users[1]}, 0, now); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteEvent(ctx, e.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Event(ctx, e.ID); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("deleted event: %v", err)
		}
		if err := s.DeleteEvent(ctx, e.ID); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("deleting twice: %v", err)
		}
		if _, err := s.RSVP(ctx, e.ID, users[2], events.Going, now, ob); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("RSVP to a deleted event: %v", err)
		}
	})

	t.Run("ListByTimeWithCursor", func(t *testing.T) {
		base := now.Add(1000 * time.Hour) // clear of the other subtests
		var ids []int64
		for i := range 5 {
			e, err := s.CreateEvent(ctx, events.Event{OwnerID: owner, Title: fmt.Sprintf("L%d", i), StartsAt: base.Add(time.Duration(i) * time.Hour),
				EndsAt: base.Add(time.Duration(i)*time.Hour + 90*time.Minute), CreatedAt: now}, ob)
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, e.ID)
		}
		list := func(r events.Range) []int64 {
			t.Helper()
			es, err := s.Events(ctx, r)
			if err != nil {
				t.Fatal(err)
			}
			var out []int64
			for _, e := range es {
				out = append(out, e.ID)
			}
			return out
		}
		// From inside event 1 (started at +1h, ends +2h30): it is still on.
		from, to := base.Add(time.Hour+30*time.Minute), base.Add(4*time.Hour)
		if got := list(events.Range{From: from, To: to, Limit: 10}); !slices.Equal(got, ids[1:4]) {
			t.Fatalf("overlapping [%v, %v) = %v, want %v", from, to, got, ids[1:4])
		}
		page1 := list(events.Range{From: base, To: base.Add(10 * time.Hour), Limit: 2})
		if !slices.Equal(page1, ids[:2]) {
			t.Fatalf("page 1 = %v", page1)
		}
		e1 := get(t, ids[1])
		page2 := list(events.Range{From: base, To: base.Add(10 * time.Hour), AfterStart: e1.StartsAt, AfterID: e1.ID, Limit: 2})
		if !slices.Equal(page2, ids[2:4]) {
			t.Fatalf("page 2 = %v", page2)
		}
		if got := list(events.Range{From: base.Add(100 * time.Hour), Limit: 10}); len(got) != 0 {
			t.Fatalf("after the last one ended: %v", got)
		}
	})

	t.Run("WaitlistAndPromotion", func(t *testing.T) {
		e := mk(t, 72*time.Hour, ptr(2))
		a, b, c, d := users[1], users[2], users[3], users[4]
		if r := rsvp(t, e.ID, a, events.Going); r.Status != events.Going || r.Position != 0 {
			t.Fatalf("a: %+v", r)
		}
		rsvp(t, e.ID, b, events.Going)
		if r := rsvp(t, e.ID, c, events.Going); r.Status != events.Waitlisted || r.Position != 1 {
			t.Fatalf("c on a full event: %+v", r)
		}
		if r := rsvp(t, e.ID, d, events.Going); r.Status != events.Waitlisted || r.Position != 2 {
			t.Fatalf("d: %+v", r)
		}
		if r := rsvp(t, e.ID, d, events.Going); r.Status != events.Waitlisted || r.Position != 2 {
			t.Fatalf("d again keeps the place: %+v", r)
		}
		if r := rsvp(t, e.ID, a, events.Going); r.Status != events.Going {
			t.Fatalf("a again: %+v", r)
		}
		if got := get(t, e.ID); got.Going != 2 || got.Waitlisted != 2 {
			t.Fatalf("counts %d going, %d waitlisted", got.Going, got.Waitlisted)
		}
		// Each member reads back their own answer, with the waitlist place.
		for u, want := range map[int64]events.MyRSVP{a: {Status: events.Going}, c: {Status: events.Waitlisted, Position: 1},
			d: {Status: events.Waitlisted, Position: 2}} {
			mine, err := s.MyRSVPs(ctx, u, []int64{e.ID})
			if err != nil || mine[e.ID] != want {
				t.Fatalf("user %d's RSVP %+v %v, want %+v", u, mine, err, want)
			}
		}
		// a leaves: c (first in line) takes the place, d moves up.
		r := rsvp(t, e.ID, a, events.Interested)
		if r.Status != events.Interested || !slices.Equal(r.Promoted, []int64{c}) {
			t.Fatalf("a leaves: %+v", r)
		}
		if got := ob.promotedTo(e.ID); !slices.Equal(got, []int64{c}) {
			t.Fatalf("promotion mails for %v", got)
		}
		if r := rsvp(t, e.ID, d, events.Going); r.Position != 1 {
			t.Fatalf("d after the promotion: %+v", r)
		}
		if mine, err := s.MyRSVPs(ctx, d, []int64{e.ID}); err != nil || mine[e.ID] != (events.MyRSVP{Status: events.Waitlisted, Position: 1}) {
			t.Fatalf("d's RSVP after the promotion %+v %v", mine, err)
		}
		mine, err := s.MyRSVPs(ctx, c, []int64{e.ID, 1 << 40})
		if err != nil || mine[e.ID] != (events.MyRSVP{Status: events.Going}) || len(mine) != 1 {
			t.Fatalf("c's RSVPs %v %v", mine, err)
		}
		// A waitlisted member leaving promotes no one.
		if r := rsvp(t, e.ID, d, events.NotGoing); r.Status != events.NotGoing || len(r.Promoted) != 0 {
			t.Fatalf("d leaves the waitlist: %+v", r)
		}
		// a comes back: full, so waitlisted at the end.
		if r := rsvp(t, e.ID, a, events.Going); r.Status != events.Waitlisted || r.Position != 1 {
			t.Fatalf("a back: %+v", r)
		}
		// Raising the capacity promotes; going members are never demoted.
		got, promoted, err := s.UpdateEvent(ctx, e.ID, events.Patch{SetCapacity: true, Capacity: ptr(3), Title: ptr("Bigger")}, now, ob)
		if err != nil || !slices.Equal(promoted, []int64{a}) || got.Going != 3 || got.Waitlisted != 0 || got.Title != "Bigger" {
			t.Fatalf("capacity 3: %+v %v %v", got, promoted, err)
		}
		if got, _, err = s.UpdateEvent(ctx, e.ID, events.Patch{SetCapacity: true, Capacity: ptr(1)}, now, ob); err != nil || got.Going != 3 {
			t.Fatalf("capacity 1: %+v %v", got, err)
		}
		if r := rsvp(t, e.ID, d, events.Going); r.Status != events.Waitlisted || r.Position != 1 {
			t.Fatalf("over capacity: %+v", r)
		}
		if r := rsvp(t, e.ID, b, events.NotGoing); len(r.Promoted) != 0 {
			t.Fatalf("3 going over capacity 1, one leaves: promoted %v", r.Promoted)
		}
		if got, promoted, err = s.UpdateEvent(ctx, e.ID, events.Patch{SetCapacity: true}, now, ob); err != nil || !slices.Equal(promoted, []int64{d}) || got.Capacity != nil {
			t.Fatalf("unlimited: %+v %v %v", got, promoted, err)
		}
		if _, _, err := s.UpdateEvent(ctx, 1<<40, events.Patch{Title: ptr("x")}, now, ob); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("updating a missing event: %v", err)
		}

		// The owner's list: going, then waitlist, interested, not going.
		e2 := mk(t, 73*time.Hour, ptr(1))
		rsvp(t, e2.ID, users[5], events.NotGoing)
		rsvp(t, e2.ID, users[6], events.Interested)
		rsvp(t, e2.ID, users[7], events.Going)
		rsvp(t, e2.ID, users[9], events.Going)
		rsvp(t, e2.ID, users[8], events.Going)
		var order []int64
		var positions []int
		p := events.AttendeePage{Limit: 2}
		for {
			page, err := s.Attendees(ctx, e2.ID, p)
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range page {
				order = append(order, a.UserID)
				positions = append(positions, a.Position)
			}
			if len(page) < p.Limit {
				break
			}
			last := page[len(page)-1]
			p = events.AttendeePage{AfterRank: last.Status.Rank(), AfterSeq: last.WaitSeq, AfterUser: last.UserID, Limit: 2}
		}
		if want := []int64{users[7], users[9], users[8], users[6], users[5]}; !slices.Equal(order, want) {
			t.Fatalf("attendees %v, want %v", order, want)
		}
		if !slices.Equal(positions, []int{0, 1, 2, 0, 0}) {
			t.Fatalf("positions %v", positions)
		}
	})

	t.Run("MoveSchedulesAgain", func(t *testing.T) {
		e := mk(t, 80*time.Hour, nil)
		if _, _, err := s.UpdateEvent(ctx, e.ID, events.Patch{Description: ptr("new")}, now, ob); err != nil {
			t.Fatal(err)
		}
		if len(ob.scheduled[e.ID]) != 1 {
			t.Fatalf("unmoved event scheduled %v", ob.scheduled[e.ID])
		}
		moved := now.Add(90 * time.Hour)
		got, _, err := s.UpdateEvent(ctx, e.ID, events.Patch{StartsAt: &moved, EndsAt: ptr(moved.Add(time.Hour))}, now, ob)
		if err != nil || !got.StartsAt.Equal(moved) {
			t.Fatalf("move: %+v %v", got, err)
		}
		if len(ob.scheduled[e.ID]) != 2 || !ob.scheduled[e.ID][1].Equal(moved) {
			t.Fatalf("moved event scheduled %v", ob.scheduled[e.ID])
		}
	})

	t.Run("Attendance", func(t *testing.T) {
		e := mk(t, 100*time.Hour, nil)
		a, b := users[10], users[11]
		got, err := s.MarkAttended(ctx, e.ID, []int64{b, a, a}, 20, now)
		want := []events.Attendance{{UserID: min(a, b), XPAwarded: 20}, {UserID: max(a, b), XPAwarded: 20}}
		if err != nil || !slices.Equal(got, want) {
			t.Fatalf("first marking = %v %v, want %v", got, err, want)
		}
		got, err = s.MarkAttended(ctx, e.ID, []int64{a}, 20, now)
		if err != nil || !slices.Equal(got, []events.Attendance{{UserID: a, XPAwarded: 0}}) {
			t.Fatalf("marking again = %v %v", got, err)
		}
		c := users[12]
		if _, err := s.MarkAttended(ctx, e.ID, []int64{c, 1 << 40}, 20, now); !apperr.Is(err, apperr.Validation) {
			t.Fatalf("unknown user: %v", err)
		}
		got, err = s.MarkAttended(ctx, e.ID, []int64{c}, 20, now)
		if err != nil || got[0].XPAwarded != 20 {
			t.Fatalf("c was marked by the refused call: %v %v", got, err)
		}
		rsvp(t, e.ID, c, events.Going)
		list, err := s.Attendees(ctx, e.ID, events.AttendeePage{Limit: 10})
		if err != nil || len(list) != 1 || !list[0].Attended {
			t.Fatalf("attendees %+v %v", list, err)
		}
		if _, err := s.MarkAttended(ctx, 1<<40, []int64{a}, 20, now); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("missing event: %v", err)
		}
	})

	t.Run("Remind", func(t *testing.T) {
		e := mk(t, 120*time.Hour, nil)
		rsvp(t, e.ID, users[13], events.Going)
		rsvp(t, e.ID, users[14], events.Interested)
		at := e.StartsAt.Add(-time.Hour)
		if got, err := s.Remind(ctx, e.ID, now.Add(time.Hour), at, ob); err != nil || len(got) != 0 {
			t.Fatalf("reminder for another start: %v %v", got, err)
		}
		got, err := s.Remind(ctx, e.ID, e.StartsAt, at, ob)
		if err != nil || !slices.Equal(got, []int64{users[13]}) {
			t.Fatalf("Remind = %v %v", got, err)
		}
		if got, err := s.Remind(ctx, e.ID, e.StartsAt, at, ob); err != nil || len(got) != 0 {
			t.Fatalf("second run reminded %v %v", got, err)
		}
		if got, err := s.Remind(ctx, 1<<40, e.StartsAt, at, ob); err != nil || len(got) != 0 {
			t.Fatalf("missing event: %v %v", got, err)
		}
		late := mk(t, 121*time.Hour, nil)
		rsvp(t, late.ID, users[13], events.Going)
		if got, err := s.Remind(ctx, late.ID, late.StartsAt, late.StartsAt, ob); err != nil || len(got) != 0 {
			t.Fatalf("reminded after the start: %v %v", got, err)
		}
	})

	t.Run("ParallelRSVPsNeverExceedCapacity", func(t *testing.T) {
		const capacity = 10
		e := mk(t, 200*time.Hour, ptr(capacity))
		members := users[:Users]
		results := make([]events.RSVPResult, len(members))
		testenv.Parallel(t, len(members), func(i int) error {
			var err error
			results[i], err = s.RSVP(ctx, e.ID, members[i], events.Going, now, ob)
			return err
		})
		var going []int64
		var positions []int
		for i, r := range results {
			switch r.Status {
			case events.Going:
				going = append(going, members[i])
			case events.Waitlisted:
				positions = append(positions, r.Position)
			default:
				t.Fatalf("status %s", r.Status)
			}
		}
		slices.Sort(positions)
		if len(going) != capacity || len(positions) != len(members)-capacity {
			t.Fatalf("%d going, %d waitlisted", len(going), len(positions))
		}
		for i, p := range positions {
			if p != i+1 {
				t.Fatalf("waitlist positions %v, want 1..%d", positions, len(positions))
			}
		}
		if got := get(t, e.ID); got.Going != capacity || got.Waitlisted != len(members)-capacity {
			t.Fatalf("stored %d going, %d waitlisted", got.Going, got.Waitlisted)
		}
		// The waitlist in order, to check who gets promoted.
		var line []int64
		all, err := s.Attendees(ctx, e.ID, events.AttendeePage{Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range all {
			if a.Status == events.Waitlisted {
				line = append(line, a.UserID)
			}
		}
		// Six going members leave at once, and three waitlisted ones: the
		// six first still waiting take their places, no one else.
		leavers := slices.Concat(going[:6], line[:3])
		testenv.Parallel(t, len(leavers), func(i int) error {
			st := events.NotGoing
			if i%2 == 1 {
				st = events.Interested
			}
			_, err := s.RSVP(ctx, e.ID, leavers[i], st, now, ob)
			return err
		})
		// A waitlisted leaver may have been promoted just before leaving,
		// and then handed the place on: whatever the order, 10 are going,
		// the waitlist is the line after its first nine, in order, and
		// everyone promoted came from those nine.
		got := get(t, e.ID)
		if got.Going != capacity || got.Waitlisted != len(line)-9 {
			t.Fatalf("after leaving: %d going, %d waitlisted", got.Going, got.Waitlisted)
		}
		promoted := ob.promotedTo(e.ID)
		if len(promoted) < 6 || len(promoted) > 9 {
			t.Fatalf("promoted %v, want 6 to 9", promoted)
		}
		for _, u := range promoted {
			if !slices.Contains(line[:9], u) {
				t.Fatalf("promoted %d from outside the first nine in line", u)
			}
		}
		for _, u := range line[3:9] {
			if !slices.Contains(promoted, u) {
				t.Fatalf("%d was among the first six still in line but not promoted (%v)", u, promoted)
			}
		}
		again, err := s.Attendees(ctx, e.ID, events.AttendeePage{Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		var waiting []int64
		for _, a := range again {
			if a.Status == events.Waitlisted {
				waiting = append(waiting, a.UserID)
				if a.Position != len(waiting) {
					t.Fatalf("user %d at position %d, want %d", a.UserID, a.Position, len(waiting))
				}
			}
		}
		if !slices.Equal(waiting, line[9:]) {
			t.Fatalf("waitlist %v, want %v", waiting, line[9:])
		}
	})
}
