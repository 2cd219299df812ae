package realtime

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/plazahq/plaza/internal/account"
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

// An idle connection's goroutine keeps a small stack, however deep the
// work of its setup went (the join, the session check: a cache lookup, a
// query on a miss): the reading goroutine is not the one that did it. A
// goroutine's stack keeps the size it grew to until a collection finds it
// mostly unused, and at 10,000 connections each KB is 10 MB.
func TestIdleConnectionKeepsASmallStack(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(-1)) // no collection shrinks stacks meanwhile
	const conns = 100
	h := NewHub(Config{MaxConnsPerUser: conns}, NewMemoryBroker(10, nil), AuthorizerFunc(func(context.Context, account.User, string) error { return nil }), slog.New(slog.NewTextHandler(io.Discard, nil)))
	h.Start()
	defer h.Close(context.Background())
	var checked atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.Serve(w, r, Identity{User: account.User{ID: 1}, Valid: func(context.Context) error {
			deepStack(32) // ~32 KB of frames
			checked.Add(1)
			return nil
		}})
	}))
	defer srv.Close()

	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range conns {
		c, _, err := websocket.Dial(context.Background(), "ws"+strings.TrimPrefix(srv.URL, "http"), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer c.CloseNow()
	}
	for deadline := time.Now().Add(10 * time.Second); checked.Load() < conns; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d sessions checked", checked.Load(), conns)
		}
	}
	time.Sleep(50 * time.Millisecond) // the last checks' goroutines hand over to their readers
	runtime.ReadMemStats(&after)
	perConn := (int64(after.StackInuse) - int64(before.StackInuse)) / conns
	t.Logf("%d bytes of stack per connection (server and client)", perConn)
	if perConn > 16<<10 {
		t.Fatalf("%d KB of stack per idle connection, want the reader's few KB, not the check's 32+", perConn>>10)
	}
}

// deepStack uses about n KB of stack.
//
//go:noinline
func deepStack(n int) byte {
	var b [1024]byte
	b[n%len(b)] = byte(n)
	if n > 0 {
		return deepStack(n-1) + b[(n*7)%len(b)]
	}
	return b[0]
}
