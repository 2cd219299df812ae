package community

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestDecodedChannelsFollowTheBytes: a channel's cached JSON decodes once
// while it stays the same, and a change (made private, archived) is seen
// at once; a bad document is an error, not a stale channel.
func TestDecodedChannelsFollowTheBytes(t *testing.T) {
	var d decodedChannels
	ch := Channel{ID: 7, Slug: "lobby", Name: "Lobby", CreatedAt: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}
	enc := func(c Channel) []byte {
		b, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for range 2 {
		got, err := d.decode(ch.ID, enc(ch))
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(ch, got); diff != "" {
			t.Errorf("decoded (-want +got):\n%s", diff)
		}
	}
	changed := ch
	changed.Private, changed.Archived = true, true
	got, err := d.decode(ch.ID, enc(changed))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(changed, got); diff != "" {
		t.Errorf("after the change (-want +got):\n%s", diff)
	}
	if _, err := d.decode(ch.ID, []byte(`{"id":`)); err == nil {
		t.Error("a bad document decoded")
	}
}
