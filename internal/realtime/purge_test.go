package realtime_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/plazahq/plaza/internal/realtime"
	"github.com/plazahq/plaza/internal/redisx/redistest"
)

// removalScript publishes, in room, two messages, reactions and an edit,
// then removes message 7. It returns the types the history must replay
// from seq 1, in order.
func removalScript(t *testing.T, ctx context.Context, pub func(typ, data string), remove func()) []string {
	t.Helper()
	pub("message.created", `{"id":7,"body":"SECRET body"}`)
	pub("message.created", `{"id":8,"body":"kept"}`)
	pub("reaction.added", `{"kind":"message","id":7,"emoji":"👍","count":1}`)
	pub("message.edited", `{"id":7,"body":"SECRET edited"}`)
	pub("reaction.added", `{"kind":"shout","id":7,"emoji":"👍","count":1}`) // another item with the same id
	pub("channel.updated", `{"id":7,"name":"general"}`)                    // the channel, not the message
	remove()
	return []string{"purged", "message.created", "purged", "purged", "reaction.added", "channel.updated", "message.deleted"}
}

func checkReplay(t *testing.T, where string, evs []realtime.Event, want []string) {
	t.Helper()
	var got []string
	for i, e := range evs {
		if e.Seq != int64(i+1) {
			t.Fatalf("%s: event %d has seq %d: the history has a hole", where, i, e.Seq)
		}
		if strings.Contains(string(e.Frame), "SECRET") {
			t.Fatalf("%s: the removed message is replayed: %s", where, e.Frame)
		}
		got = append(got, e.Type)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("%s: replay %v, want %v", where, got, want)
	}
}

// A purge leaves a tombstone at each of the subject's seqs, in the
// history of every instance (Redis's and each instance's own copy).
func TestPurgeMemoryBroker(t *testing.T) {
	b := realtime.NewMemoryBroker(50, nil)
	b.Start(func(realtime.Event) {})
	ctx := context.Background()
	room := "channel:3"
	want := removalScript(t, ctx, func(typ, data string) {
		if _, err := b.Publish(ctx, room, typ, []byte(data)); err != nil {
			t.Fatal(err)
		}
	}, func() {
		if n, err := b.Purge(ctx, room, realtime.Subject{Kind: "message", ID: 7}); n != 3 || err != nil {
			t.Fatalf("purged %d, %v; want 3", n, err)
		}
		b.Publish(ctx, room, "message.deleted", []byte(`{"id":7}`))
	})
	evs, cur, ok, err := b.Since(ctx, room, 0)
	if err != nil || !ok || cur != 7 {
		t.Fatalf("Since: cur %d ok %v %v", cur, ok, err)
	}
	checkReplay(t, "memory", evs, want)
	if n, _ := b.Purge(ctx, room, realtime.Subject{Kind: "message", ID: 7}); n != 0 {
		t.Fatalf("a second purge replaced %d tombstones", n)
	}
}

func TestPurgeRedisAcrossInstances(t *testing.T) {
	rc, prefix := redistest.Open(t)
	a := realtime.NewRedisBroker(rc, prefix, 50, time.Hour, quiet())
	b := realtime.NewRedisBroker(rc, prefix, 50, time.Hour, quiet())
	var ca, cb collector
	a.Start(ca.deliver)
	b.Start(cb.deliver)
	defer a.Stop()
	defer b.Stop()
	ctx := context.Background()
	room := "channel:3"
	want := removalScript(t, ctx, func(typ, data string) {
		if _, err := b.Publish(ctx, room, typ, []byte(data)); err != nil {
			t.Fatal(err)
		}
	}, func() {
		ca.wait(t, 6) // a's own copy holds the events before it purges
		if n, err := a.Purge(ctx, room, realtime.Subject{Kind: "message", ID: 7}); n != 3 || err != nil {
			t.Fatalf("purged %d, %v; want 3", n, err)
		}
		a.Publish(ctx, room, "message.deleted", []byte(`{"id":7}`))
	})
	for name, br := range map[string]*realtime.RedisBroker{"a": a, "b": b} {
		evs, cur, ok, err := br.Since(ctx, room, 0)
		if err != nil || !ok || cur != 7 {
			t.Fatalf("Since on %s: cur %d ok %v %v", name, cur, ok, err)
		}
		checkReplay(t, "Redis via "+name, evs, want)
		deadline := time.Now().Add(5 * time.Second)
		for {
			evs, _, _ = br.LocalSinceForTest(room, 0)
			if len(evs) == 7 && evs[0].Type == realtime.PurgedType && evs[3].Type == realtime.PurgedType {
				break
			}
			if time.Now().After(deadline) {
				checkReplay(t, "local copy on "+name, evs, want)
			}
			time.Sleep(10 * time.Millisecond)
		}
		checkReplay(t, "local copy on "+name, evs, want)
	}
}

// readRoom subscribes with since on a new connection to url and returns
// the room's event frames as sent, until the one of seq upto.
func readRoom(t *testing.T, url, room string, since, upto int64) []string {
	t.Helper()
	c, _, err := websocket.Dial(context.Background(), url+"?user=2", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	c.Write(context.Background(), websocket.MessageText, []byte(fmt.Sprintf(`{"op":"subscribe","room":%q,"since":%d}`, room, since)))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var out []string
	for {
		_, b, err := c.Read(ctx)
		if err != nil {
			t.Fatalf("after %v: %v", out, err)
		}
		var f struct {
			Op, Room string
			Seq      int64
		}
		json.Unmarshal(b, &f)
		if f.Room != room || f.Op == "subscribed" || (f.Op == "event" && f.Seq == 0) {
			continue
		}
		if f.Op != "event" {
			t.Fatalf("replay got %s", b)
		}
		out = append(out, string(b))
		if f.Seq >= upto {
			return out
		}
	}
}

// exerciseRemovalReplay: a removal published on the first hub is replayed
// by every hub as tombstones and the removal, and a client subscribed at
// the time gets the removal live.
func exerciseRemovalReplay(t *testing.T, hubs []*realtime.Hub) {
	ctx := context.Background()
	room := "channel:5"
	var urls []string
	for _, h := range hubs {
		urls = append(urls, serve(t, h, nil))
	}
	live := dialConn(t, urls[len(urls)-1]+"?user=3")
	live.send(`{"op":"subscribe","room":"channel:5"}`)
	live.until(op("subscribed", room), nil)
	want := removalScript(t, ctx, func(typ, data string) {
		if err := hubs[0].Publish(ctx, room, typ, json.RawMessage(data)); err != nil {
			t.Fatal(err)
		}
	}, func() {
		if err := hubs[0].PublishRemoval(ctx, room, "message.deleted", map[string]any{"id": 7}, "message", 7); err != nil {
			t.Fatal(err)
		}
	})
	live.until(func(f wsFrame) bool { return f.Type == "message.deleted" }, nil)
	for i, url := range urls {
		for _, since := range []int64{0, 2, 5} {
			frames := readRoom(t, url, room, since, 7)
			var evs []realtime.Event
			for _, f := range frames {
				_, seq, typ, _ := realtime.ParseFrameForTest([]byte(f))
				evs = append(evs, realtime.Event{Seq: seq - since, Type: typ, Frame: []byte(f)})
			}
			checkReplay(t, fmt.Sprintf("hub %d since %d", i, since), evs, want[since:])
		}
	}
}

func TestRemovalReplay(t *testing.T) {
	hub := realtime.NewHub(realtime.Config{}, realtime.NewMemoryBroker(50, nil), allowAll{}, quiet())
	hub.Start()
	defer hub.Close(context.Background())
	exerciseRemovalReplay(t, []*realtime.Hub{hub})
}

func TestRemovalReplayAcrossInstances(t *testing.T) {
	rc, prefix := redistest.Open(t)
	var hubs []*realtime.Hub
	for range 2 {
		h := realtime.NewHub(realtime.Config{}, realtime.NewRedisBroker(rc, prefix, 50, time.Hour, quiet()), allowAll{}, quiet())
		if err := h.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { h.Close(context.Background()) })
		hubs = append(hubs, h)
	}
	exerciseRemovalReplay(t, hubs)
}
