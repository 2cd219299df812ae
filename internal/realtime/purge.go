package realtime

import (
	"encoding/json"
	"strings"
	"time"
)

// Subject names the item a room's events are about: a message, a shout, a
// mix. An event is about (Kind, ID) when its data has "id": ID and either
// its type is Kind + "." + something (message.created, message.edited) or
// its data has "kind": Kind (reaction.added on a message). Events that
// follow this shape need nothing more for their item's removal to purge
// them from the history. The removal itself, Kind + ".deleted", is never
// purged: replay must still tell a page showing the item to drop it.
type Subject struct {
	Kind string
	ID   int64
}

// PurgedType is the type of the event that takes the place of a purged
// one in a room's history: same seq, null data. Replay and gap filling
// still see every seq in order, so nothing looks lost and no client is
// told to resync; clients ignore it.
const PurgedType = "purged"

// purgeControl is the control message telling every instance which seqs
// of a room were purged, so the copy of the history each keeps for a
// Redis outage drops them too.
const purgeControl = "purge"

// purged is a purge control message's data.
type purged struct {
	Seqs []int64 `json:"seqs"`
}

// matches reports whether the event frame is about s. Only removals call
// it (never publishing), so decoding each frame is affordable.
func (s Subject) matches(frame []byte) bool {
	var f struct {
		Type string `json:"type"`
		Data struct {
			ID   int64  `json:"id"`
			Kind string `json:"kind"`
		} `json:"data"`
	}
	if json.Unmarshal(frame, &f) != nil || f.Type == PurgedType || f.Type == s.Kind+".deleted" || f.Data.ID != s.ID || s.Kind == "" {
		return false
	}
	return f.Data.Kind == s.Kind || strings.HasPrefix(f.Type, s.Kind+".")
}

// tombstone is the frame that stands for a purged event.
func tombstone(room string, seq int64, now time.Time) Event {
	head, tail := frameParts(room, PurgedType, json.RawMessage("null"), now)
	return Event{Room: room, Seq: seq, Type: PurgedType, Frame: buildFrame(head, seq, tail)}
}
