package demo

import (
	"context"
	"fmt"

	"github.com/plazahq/plaza/internal/community"
)

var channels = []struct{ slug, name, about string }{
	{"general", "General", "Say hello, share what you are working on."},
	{"mixing", "Mixing & production", "Techniques, gear, feedback on your mixes."},
	{"events", "Events", "Meetups, live sets and who is going."},
	{"courses", "Course help", "Stuck on a lesson? Ask here."},
}

var lines = []string{
	"Anyone going to the Friday live set?", "Just finished the EQ lesson, it finally clicked.",
	"What controller are you all using these days?", "That last mix was unreal, the transition at 34:00!",
	"Welcome to all the new folks this week 👋", "Tip: gain staging first, effects last.",
	"Does anyone have a good reference track for mastering?", "Posted a new mix, feedback welcome.",
	"The meetup venue has changed, check the events page.", "How long did it take you to beatmatch by ear?",
	"Listening to the rooftop set again, perfect for work.", "Finally got my first gig booked!",
	"Any recommendations for ambient mixes?", "Reminder: be kind in feedback threads.",
	"Which course should I start with?", "Loving the new now-playing feature.",
	"Who's up for a B2B stream next week?", "Shoutout to everyone who came to the last event.",
	"Harmonic mixing changed everything for me.", "Coffee and deep house, the only way to start the day.",
}

var emoji = []string{"👍", "❤️", "🔥", "😂", "🎉", "👀"}

// seedCommunity makes channels with a few hundred messages (each earns its
// author message XP), reactions (XP to the author per distinct reactor),
// DM threads and shouts.
func seedCommunity(ctx context.Context, e *Env) error {
	c := e.App.Community
	for _, ch := range channels {
		made, err := c.CreateChannel(ctx, e.Admin, community.ChannelInput{Name: ch.name, Slug: e.slug(ch.slug), Description: ch.about})
		if err != nil {
			return err
		}
		e.Channels = append(e.Channels, made.ID)
	}
	var messages, reactions int
	for i := range 320 {
		by := e.pick(0)
		if i%7 == 0 {
			by = e.Demo
		}
		m, err := c.Post(ctx, by, e.Channels[i%len(e.Channels)], lines[e.Rnd.IntN(len(lines))])
		if err != nil {
			return err
		}
		messages++
		for range e.Rnd.IntN(4) {
			if _, err := c.ReactMessage(ctx, e.pick(by.ID), m.ID, emoji[e.Rnd.IntN(len(emoji))], true); err != nil {
				return err
			}
			reactions++
		}
	}
	e.Progress("%d channels, %d messages, %d reactions", len(e.Channels), messages, reactions)

	threads := 0
	for _, other := range e.Users[2:8] {
		t, _, err := c.OpenThread(ctx, e.Demo, other.ID)
		if err != nil {
			return err
		}
		for j, body := range []string{"Hey! Loved your last post.", "Thanks! Are you coming on Friday?", "Wouldn't miss it."} {
			from := e.Demo
			if j%2 == 1 {
				from = other
			}
			if _, err := c.PostThreadMessage(ctx, from, t.ID, body); err != nil {
				return err
			}
		}
		threads++
	}
	var shouts int
	for i := range 40 {
		by := e.pick(0)
		sh, err := c.Shout(ctx, by, fmt.Sprintf("%s #%d", lines[e.Rnd.IntN(len(lines))], i+1))
		if err != nil {
			return err
		}
		shouts++
		if i%3 == 0 {
			if _, err := c.ReactShout(ctx, e.pick(by.ID), sh.ID, "🔥", true); err != nil {
				return err
			}
		}
	}
	e.Progress("%d DM threads, %d shouts", threads, shouts)
	return nil
}
