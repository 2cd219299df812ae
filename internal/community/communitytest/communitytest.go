// Package communitytest is the conformance suite every community.Store passes.
package communitytest

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plazahq/plaza/internal/apperr"
	"github.com/plazahq/plaza/internal/community"
)

var seq atomic.Int64

var now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// Exercise checks s. users holds at least four existing user ids.
func Exercise(t *testing.T, s community.Store, users []int64) {
	ctx := context.Background()
	a, b, c := users[0], users[1], users[2]
	mkChannel := func(private bool) community.Channel {
		t.Helper()
		n := seq.Add(1)
		ch, err := s.CreateChannel(ctx, community.Channel{Slug: fmt.Sprintf("ch-%d", n), Name: fmt.Sprintf("Channel %d", n), Private: private, CreatedAt: now}, a)
		if err != nil {
			t.Fatal(err)
		}
		return ch
	}

	t.Run("ChannelsAndMembership", func(t *testing.T) {
		pub, priv := mkChannel(false), mkChannel(true)
		if _, err := s.CreateChannel(ctx, community.Channel{Slug: pub.Slug, Name: "dup", CreatedAt: now}, a); !apperr.Is(err, apperr.Conflict) {
			t.Fatalf("duplicate slug: %v", err)
		}
		got, err := s.Channel(ctx, priv.ID)
		if err != nil || got != priv {
			t.Fatalf("Channel = %+v %v, want %+v", got, err, priv)
		}
		if _, err := s.Channel(ctx, 1<<40); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("missing channel: %v", err)
		}
		visible := func(viewer int64, all bool) map[int64]bool {
			list, err := s.Channels(ctx, viewer, all, community.Page{Limit: 1000})
			if err != nil {
				t.Fatal(err)
			}
			m := map[int64]bool{}
			for _, c := range list {
				m[c.ID] = true
			}
			return m
		}
		if v := visible(b, false); !v[pub.ID] || v[priv.ID] {
			t.Fatalf("non-member sees %v", v)
		}
		if err := s.AddMember(ctx, priv.ID, b, now); err != nil {
			t.Fatal(err)
		}
		if err := s.AddMember(ctx, priv.ID, b, now); err != nil {
			t.Fatalf("adding twice: %v", err)
		}
		if v := visible(b, false); !v[priv.ID] {
			t.Fatal("member does not see the private channel")
		}
		if v := visible(c, true); !v[priv.ID] {
			t.Fatal("allPrivate does not list it")
		}
		if ok, _ := s.IsMember(ctx, priv.ID, b); !ok {
			t.Fatal("IsMember false")
		}
		if err := s.RemoveMember(ctx, priv.ID, b); err != nil {
			t.Fatal(err)
		}
		if err := s.RemoveMember(ctx, priv.ID, b); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("removing twice: %v", err)
		}
	})

	t.Run("ChannelsPaging", func(t *testing.T) {
		// Newest first, Limit at a time, Before the last id of the page:
		// every channel the viewer may read once, none it may not.
		var mine []int64
		for i := range 5 {
			mine = append(mine, mkChannel(i == 2).ID)
		}
		if err := s.AddMember(ctx, mine[2], b, now); err != nil {
			t.Fatal(err)
		}
		hidden := mkChannel(true)
		seen := map[int64]int{}
		var p community.Page
		for pages := 0; ; pages++ {
			p.Limit = 2
			list, err := s.Channels(ctx, b, false, p)
			if err != nil || len(list) > 2 || pages > 1000 {
				t.Fatalf("page %d: %d items, %v", pages, len(list), err)
			}
			for i, ch := range list {
				if (i > 0 && ch.ID >= list[i-1].ID) || (p.Before != 0 && ch.ID >= p.Before) {
					t.Fatalf("page %d is not newest first below %d: %+v", pages, p.Before, list)
				}
				seen[ch.ID]++
			}
			if len(list) < 2 {
				break
			}
			p.Before = list[len(list)-1].ID
		}
		for _, id := range mine {
			if seen[id] != 1 {
				t.Fatalf("channel %d listed %d times", id, seen[id])
			}
		}
		if seen[hidden.ID] != 0 {
			t.Fatal("a private channel of others was listed")
		}
		first, err := s.Channels(ctx, c, true, community.Page{Limit: 3})
		if err != nil || len(first) != 3 || first[0].ID != hidden.ID || first[1].ID != mine[4] {
			t.Fatalf("allPrivate first page %+v %v", first, err)
		}
	})

	t.Run("MessagesPagingEditDelete", func(t *testing.T) {
		ch := mkChannel(false)
		var ids []int64
		for i := range 7 {
			m, _, err := s.PostMessage(ctx, community.Message{ChannelID: ch.ID, SenderID: a, Body: fmt.Sprint("m", i), CreatedAt: now.Add(time.Duration(i) * time.Second)}, nil)
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, m.ID)
		}
		p1, err := s.ChannelMessages(ctx, ch.ID, community.Page{Limit: 3})
		if err != nil || len(p1) != 3 || p1[0].Body != "m6" || p1[2].Body != "m4" {
			t.Fatalf("page 1: %+v %v", p1, err)
		}
		p2, _ := s.ChannelMessages(ctx, ch.ID, community.Page{Before: p1[2].ID, Limit: 3})
		if len(p2) != 3 || p2[0].Body != "m3" {
			t.Fatalf("page 2: %+v", p2)
		}
		later := now.Add(time.Hour)
		e, err := s.EditMessage(ctx, ids[3], "edited", later)
		if err != nil || e.Body != "edited" || e.EditedAt == nil || !e.EditedAt.Equal(later) {
			t.Fatalf("edit: %+v %v", e, err)
		}
		d, err := s.DeleteMessage(ctx, ids[3], later)
		if err != nil || !d.Deleted || d.Body != "" {
			t.Fatalf("delete: %+v %v", d, err)
		}
		if _, err := s.EditMessage(ctx, ids[3], "again", later); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("editing a deleted message: %v", err)
		}
		all, _ := s.ChannelMessages(ctx, ch.ID, community.Page{Limit: 100})
		if len(all) != 6 {
			t.Fatalf("deleted message listed: %d items", len(all))
		}
		got, err := s.Message(ctx, ids[3])
		if err != nil || !got.Deleted {
			t.Fatalf("Message of a deleted one: %+v %v", got, err)
		}
		if _, err := s.Message(ctx, 1<<40); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("missing message: %v", err)
		}
	})

	t.Run("ThreadsAndUnread", func(t *testing.T) {
		t1, created, err := s.ThreadBetween(ctx, b, a, now)
		if err != nil || !created || t1.UserA > t1.UserB {
			t.Fatalf("open: %+v %v %v", t1, created, err)
		}
		t2, created, _ := s.ThreadBetween(ctx, a, b, now)
		if created || t2.ID != t1.ID {
			t.Fatal("second open made another thread")
		}
		for i := range 3 {
			if _, err := s.PostThreadMessage(ctx, community.ThreadMessage{ThreadID: t1.ID, SenderID: a, Body: fmt.Sprint("dm", i), CreatedAt: now}, b); err != nil {
				t.Fatal(err)
			}
		}
		unread := func(u int64) int {
			list, err := s.ThreadsOf(ctx, u, community.Page{Limit: 50})
			if err != nil {
				t.Fatal(err)
			}
			for _, th := range list {
				if th.ID == t1.ID {
					return th.Unread
				}
			}
			t.Fatalf("thread not listed for %d", u)
			return -1
		}
		if unread(b) != 3 || unread(a) != 0 {
			t.Fatalf("unread b=%d a=%d", unread(b), unread(a))
		}
		notes, err := s.Unmailed(ctx, b, 10)
		if err != nil || len(notes) != 3 || notes[0].Kind != "dm" || notes[0].ActorID != a || notes[0].ContextID != t1.ID {
			t.Fatalf("notifications %+v %v", notes, err)
		}
		if err := s.MarkMailed(ctx, []int64{notes[0].ID, notes[1].ID}, now); err != nil {
			t.Fatal(err)
		}
		if rest, _ := s.Unmailed(ctx, b, 10); len(rest) != 1 || rest[0].ID != notes[2].ID {
			t.Fatalf("after mailing two: %+v", rest)
		}
		msgs, _ := s.ThreadMessages(ctx, t1.ID, community.Page{Limit: 2})
		if len(msgs) != 2 || msgs[0].Body != "dm2" {
			t.Fatalf("messages %+v", msgs)
		}
		if err := s.MarkRead(ctx, t1.ID, b, msgs[0].ID); err != nil {
			t.Fatal(err)
		}
		s.MarkRead(ctx, t1.ID, b, msgs[1].ID) // never moves back
		if unread(b) != 0 {
			t.Fatalf("unread after read: %d", unread(b))
		}
		// A thread without messages is not listed.
		t3, _, _ := s.ThreadBetween(ctx, a, c, now)
		list, _ := s.ThreadsOf(ctx, c, community.Page{Limit: 50})
		for _, th := range list {
			if th.ID == t3.ID {
				t.Fatal("empty thread listed")
			}
		}
	})

	t.Run("ConcurrentThreadOpenMakesOne", func(t *testing.T) {
		var wg sync.WaitGroup
		ids := make([]int64, 8)
		for i := range ids {
			wg.Add(1)
			go func() {
				defer wg.Done()
				x, y := users[2], users[3]
				if i%2 == 0 {
					x, y = y, x
				}
				th, _, err := s.ThreadBetween(ctx, x, y, now)
				if err != nil {
					t.Error(err)
				}
				ids[i] = th.ID
			}()
		}
		wg.Wait()
		for _, id := range ids {
			if id != ids[0] || id == 0 {
				t.Fatalf("threads %v", ids)
			}
		}
	})

	t.Run("ShoutsAndContact", func(t *testing.T) {
		for i := range 3 {
			if _, err := s.PostShout(ctx, community.Shout{UserID: a, Body: fmt.Sprint("s", i), CreatedAt: now}); err != nil {
				t.Fatal(err)
			}
		}
		sh, _ := s.Shouts(ctx, community.Page{Limit: 2})
		if len(sh) != 2 || sh[0].Body != "s2" {
			t.Fatalf("shouts %+v", sh)
		}
		m, err := s.AddContact(ctx, community.ContactMessage{Name: "Ann", Email: "ann@example.com", Message: "hi", IP: "1.2.3.4", CreatedAt: now})
		if err != nil {
			t.Fatal(err)
		}
		unread, _ := s.ContactMessages(ctx, true, community.Page{Limit: 50})
		if len(unread) == 0 || unread[0].ID != m.ID || unread[0].Read {
			t.Fatalf("inbox %+v", unread)
		}
		r, err := s.SetContactRead(ctx, m.ID, true)
		if err != nil || !r.Read {
			t.Fatalf("mark read: %+v %v", r, err)
		}
		unread, _ = s.ContactMessages(ctx, true, community.Page{Limit: 50})
		for _, u := range unread {
			if u.ID == m.ID {
				t.Fatal("read message in the unread list")
			}
		}
		if _, err := s.SetContactRead(ctx, 1<<40, true); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("missing contact: %v", err)
		}
	})
}
