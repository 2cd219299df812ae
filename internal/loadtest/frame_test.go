package loadtest

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/plazahq/plaza/internal/community"
	"github.com/plazahq/plaza/internal/realtime"
)

// serverFrame is the frame the server's own broker writes for an event.
func serverFrame(t testing.TB, room, typ string, data any) []byte {
	t.Helper()
	b, err := json.Marshal(data)
	if err != nil {
		t.Fatal(err)
	}
	var frame []byte
	br := realtime.NewMemoryBroker(10, nil)
	br.Start(func(e realtime.Event) { frame = e.Frame })
	if _, err := br.Publish(context.Background(), room, typ, b); err != nil {
		t.Fatal(err)
	}
	return frame
}

// decoded is what the generator read from a frame before the fast path:
// the whole frame decoded as JSON.
func decoded(t testing.TB, b []byte) event {
	t.Helper()
	var f frame
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	return eventOf(f)
}

// TestParseEvent: the fast path reads the frames the server writes (so it
// is the path taken) and reads them as JSON does.
func TestParseEvent(t *testing.T) {
	t.Parallel()
	now := time.Now()
	sent := now.UnixNano()
	author := community.Author{ID: 7, Username: "lt1_7", DisplayName: `say "hi" \ o/`}
	post := community.MessageView{ID: 41, ChannelID: 3, Body: "lt:" + itoa(sent) + " hello from the load test", CreatedAt: now, Author: author}
	tests := []struct {
		name       string
		room, typ  string
		data       any
		wantSent   int64
		wantReader bool // the fast path reads it (false: JSON does)
	}{
		{"a load-test post", "channel:3", "message.created", post, sent, true},
		{"someone else's post", "channel:3", "message.created", community.MessageView{ID: 42, ChannelID: 3, Body: "lt:not a time", Author: author}, 0, false},
		{"a post that is not the load test's", "channel:3", "message.created", community.MessageView{ID: 43, ChannelID: 3, Body: "hello", Author: author}, 0, true},
		{"a direct message", "thread:9", "message.created", community.ThreadMessageView{ID: 5, ThreadID: 9, Body: "hi neighbour", Author: author}, 0, true},
		{"another event", "user:7", "xp.awarded", map[string]int{"xp": 5}, 0, true},
		{"an edit", "channel:3", "message.updated", post, 0, true},
		{"a room with an escape", `channel:"3"`, "message.created", post, sent, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := serverFrame(t, tc.room, tc.typ, tc.data)
			want := decoded(t, b)
			if want.sent != tc.wantSent {
				t.Fatalf("JSON reads sent %d, want %d: %s", want.sent, tc.wantSent, b)
			}
			got, ok := parseEvent(b)
			if ok != tc.wantReader {
				t.Fatalf("parseEvent ok = %v, want %v: %s", ok, tc.wantReader, b)
			}
			if ok && got != want {
				t.Errorf("parseEvent = %+v, JSON reads %+v: %s", got, want, b)
			}
		})
	}
}

// TestParseEventDeclines: frames laid out otherwise than the server's are
// left to JSON.
func TestParseEventDeclines(t *testing.T) {
	t.Parallel()
	for _, b := range []string{
		`{"op":"subscribed","room":"chat","seq":4}`,
		`{"room":"chat","op":"event","seq":4,"type":"x","ts":1,"data":{}}`,
		`{"op":"event","room":"chat","seq":04,"type":"x","ts":1,"data":{}}`,
		`{"op":"event","room":"chat","seq":-4,"type":"x","ts":1,"data":{}}`,
		`{"op":"event","room":"chat","seq":92233720368547758070,"type":"x","ts":1,"data":{}}`,
		`{"op":"event","room":"chat","seq":4,"type":"message.created","ts":1,"data":{"channelId":3,"id":1,"body":"lt:5 x"}}`,
		`{"op":"event","room":"chat","seq":4,"type":"message.created","ts":1,"data":{"id":1,"channelId":3,"author":{},"body":"lt:5 x"}}`,
		`{"op":"event","room":"chat","seq":4,"type":"message.created","ts":1,"data":{"id":1,"channelId":3,"body":"lt:5"}}`,
		`{"op":"event","room":"chat","seq":4,"type":"message.created","ts":1,"data":{"id":1,"channelId":3,"body":"lt:5\tx"}}`,
		`{"op":"event","room":"chat`,
	} {
		if e, ok := parseEvent([]byte(b)); ok {
			t.Errorf("parseEvent(%s) = %+v, want it left to JSON", b, e)
		}
	}
}

// FuzzParseEvent: whatever the server writes, the fast path either reads
// it as JSON does or leaves it to JSON.
func FuzzParseEvent(f *testing.F) {
	f.Add("channel:3", "message.created", int64(41), int64(3), "lt:1733140000000000000 hello from the load test", false)
	f.Add("thread:9", "message.created", int64(5), int64(9), "hi neighbour", true)
	f.Add("user:1", "mention", int64(0), int64(0), "lt:", false)
	f.Fuzz(func(t *testing.T, room, typ string, id, container int64, body string, thread bool) {
		var data any = community.MessageView{ID: id, ChannelID: container, Body: body}
		if thread {
			data = community.ThreadMessageView{ID: id, ThreadID: container, Body: body}
		}
		b := serverFrame(t, room, typ, data)
		var fr frame
		if json.Unmarshal(b, &fr) != nil {
			return // not JSON (a room or type that is not UTF-8): neither path reads it
		}
		want := eventOf(fr)
		if got, ok := parseEvent(b); ok && got != want {
			t.Errorf("parseEvent = %+v, JSON reads %+v: %s", got, want, b)
		}
	})
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }
