package realtime

import (
	"context"
	"testing"
)

// A fan-out hands ready connections to the writers as soon as a chunk is
// full, so the first subscribers of a big room are written to while the
// fan-out walks the rest.
func TestReadyListHandsOverFullChunks(t *testing.T) {
	h := &Hub{ready: make(chan []*client, 4)}
	l := readyList{h: h}
	for range writeChunk + 1 {
		l.add(&client{})
	}
	if n := len(h.ready); n != 1 {
		t.Fatalf("%d chunks handed over after %d connections, want 1 (the full one)", n, writeChunk+1)
	}
	if got := len(<-h.ready); got != writeChunk {
		t.Fatalf("first chunk has %d connections, want %d", got, writeChunk)
	}
	l.flush()
	if got := len(<-h.ready); got != 1 {
		t.Fatalf("flush handed over %d connections, want the 1 left", got)
	}
	l.flush()
	if n := len(h.ready); n != 0 {
		t.Fatalf("an empty flush handed over %d chunks", n)
	}
}

// Reading a room's history (every connection reads its user room's on
// connect) does not give the room a log of its own in the memory broker.
func TestMemorySinceKeepsNothingForUnknownRooms(t *testing.T) {
	b := NewMemoryBroker(10, nil)
	for _, since := range []int64{0, 5} {
		evs, cur, ok, err := b.Since(context.Background(), "user:1", since)
		if err != nil || len(evs) != 0 || cur != 0 || !ok {
			t.Fatalf("Since(%d) of an unknown room = %v, %d, %v, %v; want nothing, 0, true", since, evs, cur, ok, err)
		}
	}
	if b.existing("user:1") != nil || b.Seq("user:1") != 0 {
		t.Fatal("reading an unknown room created its log")
	}
	if _, err := b.Publish(context.Background(), "user:1", "x", []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	evs, cur, ok, _ := b.Since(context.Background(), "user:1", 0)
	if len(evs) != 1 || cur != 1 || !ok {
		t.Fatalf("after a publish: %d events, seq %d, ok %v; want 1, 1, true", len(evs), cur, ok)
	}
}

// The connection's session storage keeps the one value Plaza stores.
func TestSessionSlot(t *testing.T) {
	s := newSessionSlot()
	if s.Len() != 0 {
		t.Fatal("new slot not empty")
	}
	if _, ok := s.Load("c"); ok {
		t.Fatal("Load from an empty slot")
	}
	s.Store("c", 42)
	if v, ok := s.Load("c"); !ok || v != 42 || s.Len() != 1 {
		t.Fatalf("Load = %v, %v (len %d); want 42, true, 1", v, ok, s.Len())
	}
	if _, ok := s.Load("other"); ok {
		t.Fatal("Load of another key")
	}
	n := 0
	s.Range(func(k string, v any) bool { n++; return k == "c" && v == 42 })
	if n != 1 {
		t.Fatalf("Range saw %d values", n)
	}
	s.Delete("other")
	if s.Len() != 1 {
		t.Fatal("Delete of another key removed the value")
	}
	s.Delete("c")
	if _, ok := s.Load("c"); ok || s.Len() != 0 {
		t.Fatal("value still there after Delete")
	}
}
