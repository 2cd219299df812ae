package account

import (
	"encoding/json"
	"testing"
)

// TestSessionMemoFollowsTheBytes: the memo answers only for the bytes it
// decoded; new bytes under the same key (a changed user) are decoded again.
func TestSessionMemoFollowsTheBytes(t *testing.T) {
	t.Parallel()
	var m sessionMemo
	enc := func(name string) []byte {
		b, err := json.Marshal(cachedSession{Session{ID: 7}, User{ID: 3, Username: name}})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	a := enc("ann")
	for range 2 {
		cs, err := m.decode("k", a)
		if err != nil || cs.User.Username != "ann" || cs.Session.ID != 7 {
			t.Fatalf("decode = %+v %v", cs, err)
		}
	}
	a[len(a)-3] = 'X' // the caller's slice changing does not reach the memo
	if cs, err := m.decode("k", enc("bob")); err != nil || cs.User.Username != "bob" {
		t.Fatalf("after a change: %+v %v", cs, err)
	}
	// Bytes of the same length differing in one byte are another version.
	if cs, err := m.decode("k", enc("bod")); err != nil || cs.User.Username != "bod" {
		t.Fatalf("after a one-byte change: %+v %v", cs, err)
	}
	if _, err := m.decode("k", []byte("{")); err == nil {
		t.Fatal("bad JSON accepted")
	}
}
