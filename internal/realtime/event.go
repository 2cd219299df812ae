// Package realtime owns Plaza's WebSocket side: rooms with a monotonically
// increasing seq and a bounded history so reconnecting clients miss
// nothing, a sharded hub that fans events out without a global lock and
// drops slow consumers instead of waiting on them, presence and typing, and
// brokers (in-process, or Redis across instances) behind one interface.
package realtime

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"
)

// Event is one event in a room. Frame is its encoded server->client frame,
// built once and shared by every subscriber.
type Event struct {
	Room  string
	Seq   int64 // 0 for ephemeral events (typing, presence) and control messages
	Type  string
	Frame []byte
	// Control marks a message for the hubs, never sent to a client (a
	// re-authorization of the room's subscribers); Frame is then its
	// encoded form {"op":"control","room":...,"type":...,"data":...}.
	Control bool

	wire []byte // Frame as a WebSocket frame, built once per room by the hub
}

// frameParts returns the encoded frame around its seq, so a broker that
// allocates the seq (Redis, in Lua) can put it in without re-encoding:
// head + seq + tail. The frame carries "ts", the publish time in unix
// milliseconds, so clients can measure end-to-end delivery.
func frameParts(room, typ string, data json.RawMessage, now time.Time) (head, tail string) {
	r, _ := json.Marshal(room)
	t, _ := json.Marshal(typ)
	head = `{"op":"event","room":` + string(r) + `,"seq":`
	tail = `,"type":` + string(t) + `,"ts":` + strconv.FormatInt(now.UnixMilli(), 10) + `,"data":` + string(data) + `}`
	return head, tail
}

func buildFrame(head string, seq int64, tail string) []byte {
	return []byte(head + strconv.FormatInt(seq, 10) + tail)
}

// controlFrame encodes a control message (Event.Control).
func controlFrame(room, typ string, data json.RawMessage) []byte {
	r, _ := json.Marshal(room)
	t, _ := json.Marshal(typ)
	return []byte(`{"op":"control","room":` + string(r) + `,"type":` + string(t) + `,"data":` + string(data) + `}`)
}

// parseFrame reads an encoded event frame, or a control message, back into
// an Event.
func parseFrame(frame []byte) (e Event, ok bool) {
	var f struct {
		Op   string `json:"op"`
		Room string `json:"room"`
		Seq  int64  `json:"seq"`
		Type string `json:"type"`
	}
	if json.Unmarshal(frame, &f) != nil || f.Room == "" {
		return Event{}, false
	}
	if f.Op == "control" {
		return Event{Room: f.Room, Type: f.Type, Frame: frame, Control: true}, true
	}
	return Event{Room: f.Room, Seq: f.Seq, Type: f.Type, Frame: frame}, true
}

// ValidRoom reports whether name is a room Plaza knows the shape of.
func ValidRoom(name string) bool {
	switch name {
	case "live-stream", "chat", "leaderboard":
		return true
	}
	kind, id, ok := strings.Cut(name, ":")
	if !ok || (kind != "user" && kind != "channel" && kind != "thread") {
		return false
	}
	n, err := strconv.ParseInt(id, 10, 64)
	return err == nil && n > 0 && strconv.FormatInt(n, 10) == id
}
