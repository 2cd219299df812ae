package demo

import (
	"context"
	"encoding/json"
	"time"

	"github.com/plazahq/plaza/internal/events"
)

// seedEvents makes upcoming events with RSVPs, one of them full with a
// waitlist.
func seedEvents(ctx context.Context, e *Env) error {
	day := e.Now.UTC().Truncate(24 * time.Hour)
	list := []struct {
		title, about, where string
		in                  time.Duration
		capacity            string
		going               int
	}{
		{"Friday Live: DJ Nova", "Two hours of deep house, streamed from the studio.", "Online", 2*24*time.Hour + 20*time.Hour, "null", 14},
		{"Beatmatching clinic", "Bring your controller; we fix your first transitions together.", "Studio 2, Main Street 12", 5*24*time.Hour + 18*time.Hour, "5", 8},
		{"Monthly meetup", "Drinks, vinyl swap and a B2B open deck.", "The Loft", 12*24*time.Hour + 19*time.Hour, "40", 11},
		{"Ambient Sunday", "A slow set for a slow day.", "Online", 9*24*time.Hour + 16*time.Hour, "null", 6},
	}
	going, waitlisted := 0, 0
	for i, ev := range list {
		by := e.Creators[i%len(e.Creators)]
		starts, ends := day.Add(ev.in).Format(time.RFC3339), day.Add(ev.in+2*time.Hour).Format(time.RFC3339)
		v, err := e.App.Events.Create(ctx, by, events.Input{Title: &ev.title, Description: &ev.about, Location: &ev.where,
			StartsAt: &starts, EndsAt: &ends, Capacity: json.RawMessage(ev.capacity)})
		if err != nil {
			return err
		}
		n := 0
		for _, u := range e.Users {
			if u.ID == by.ID || n >= ev.going {
				continue
			}
			if u.ID != e.Demo.ID && e.Rnd.IntN(3) == 0 {
				continue
			}
			r, err := e.App.Events.RSVP(ctx, u, v.ID, "going")
			if err != nil {
				return err
			}
			if r.Status == "waitlisted" {
				waitlisted++
			} else {
				going++
			}
			n++
		}
	}
	e.Progress("%d upcoming events, %d going, %d on a waitlist", len(list), going, waitlisted)
	return nil
}
