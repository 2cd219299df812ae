package realtime_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/plazahq/plaza/internal/account"
	"github.com/plazahq/plaza/internal/realtime"
)

// countingAuth allows everything and counts the questions (a database
// touch, in the real authorizer).
type countingAuth struct{ n atomic.Int64 }

func (a *countingAuth) CanJoin(context.Context, account.User, string) error {
	a.n.Add(1)
	return nil
}

type wsEnv struct {
	t   *testing.T
	hub *realtime.Hub
	srv *httptest.Server
}

func newWSEnv(t *testing.T, cfg realtime.Config, broker realtime.Broker, auth realtime.Authorizer) *wsEnv {
	hub := realtime.NewHub(cfg, broker, auth, quiet())
	if err := hub.Start(); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var id int64
		fmt.Sscan(r.URL.Query().Get("user"), &id)
		hub.Serve(w, r, realtime.Identity{User: account.User{ID: id}})
	}))
	t.Cleanup(func() { srv.Close(); hub.Close(context.Background()) })
	return &wsEnv{t: t, hub: hub, srv: srv}
}

// join connects user and subscribes to room, waiting for the answer.
// settledWrites is the hub's write count once it stops moving: a
// writer counts a write after the syscall, so a frame the client has
// already read (the join's reply) may not be counted yet.
func (e *wsEnv) settledWrites() int64 {
	last := e.hub.Stats().Writes
	for range 100 {
		time.Sleep(20 * time.Millisecond)
		now := e.hub.Stats().Writes
		if now == last {
			return now
		}
		last = now
	}
	e.t.Fatalf("the hub kept writing: %d writes", last)
	return 0
}

func (e *wsEnv) join(user int, room string) *websocket.Conn {
	c, _, err := websocket.Dial(context.Background(), fmt.Sprintf("ws%s/?user=%d", strings.TrimPrefix(e.srv.URL, "http"), user), nil)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { c.CloseNow() })
	c.SetReadLimit(1 << 20)
	c.Write(context.Background(), websocket.MessageText, []byte(`{"op":"subscribe","room":"`+room+`"}`))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for {
		_, b, err := c.Read(ctx)
		if err != nil {
			e.t.Fatalf("no subscribed answer: %v", err)
		}
		if strings.Contains(string(b), `"subscribed"`) && strings.Contains(string(b), `"`+room+`"`) {
			return c
		}
	}
}

type evFrame struct {
	Op, Room, Type string
	Seq            int64
	Data           json.RawMessage
}

// readEvents reads frames until n events of type typ arrived, or d passed.
func readEvents(c *websocket.Conn, typ string, n int, d time.Duration) []evFrame {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var out []evFrame
	for len(out) < n {
		_, b, err := c.Read(ctx)
		if err != nil {
			return out
		}
		var f evFrame
		if json.Unmarshal(b, &f) == nil && f.Op == "event" && f.Type == typ {
			out = append(out, f)
		}
	}
	return out
}

// TestWritesAreBatched: the frames queued for a connection while its
// writer cannot run go out together in one Write, complete and in order.
func TestWritesAreBatched(t *testing.T) {
	broker := realtime.NewMemoryBroker(1000, nil)
	e := newWSEnv(t, realtime.Config{SendQueue: 1000}, broker, allowAll{})
	c := e.join(1, "chat")
	before := e.hub.Stats()
	release := e.hub.HoldWritesForTest(1)
	const n = 200
	for i := range n {
		broker.Publish(context.Background(), "chat", "message.created", []byte(fmt.Sprintf(`{"n":%d,"pad":"%s"}`, i, strings.Repeat("é", i))))
	}
	// Released once every frame is in the outbox (fan-out counts them as
	// it queues), so the writer finds them all there.
	for deadline := time.Now().Add(5 * time.Second); e.hub.Stats().Delivered-before.Delivered < n && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	release()
	got := readEvents(c, "message.created", n, 10*time.Second)
	if len(got) != n {
		t.Fatalf("got %d of %d events", len(got), n)
	}
	for i, f := range got {
		var d struct {
			N   int
			Pad string
		}
		json.Unmarshal(f.Data, &d)
		if f.Seq != int64(i+1) || d.N != i || d.Pad != strings.Repeat("é", i) {
			t.Fatalf("event %d: seq %d, data %s", i, f.Seq, f.Data)
		}
	}
	after := e.hub.Stats()
	if delivered, writes := after.Delivered-before.Delivered, after.Writes-before.Writes; delivered != n || writes > 3 {
		t.Fatalf("%d frames delivered in %d writes: not batched", delivered, writes)
	}
}

// TestOrderUnderConcurrentFanout: several publishers, several rooms, many
// subscribers reading as they go: each subscriber gets every event of
// each room once, in seq order, and the writes carry more than one frame
// each when the writers fall behind.
func TestOrderUnderConcurrentFanout(t *testing.T) {
	broker := realtime.NewMemoryBroker(5000, nil)
	e := newWSEnv(t, realtime.Config{SendQueue: 5000}, broker, allowAll{})
	rooms := []string{"chat", "live-stream", "channel:1"}
	const subs, perRoom = 20, 300
	type reader struct {
		c    *websocket.Conn
		done chan map[string][]int64
	}
	var readers []reader
	for i := range subs {
		c := e.join(i+1, rooms[0])
		for _, r := range rooms[1:] {
			c.Write(context.Background(), websocket.MessageText, []byte(`{"op":"subscribe","room":"`+r+`"}`))
		}
		readers = append(readers, reader{c, make(chan map[string][]int64, 1)})
	}
	time.Sleep(300 * time.Millisecond) // the subscribes are answered
	for _, rd := range readers {
		go func() {
			seqs := map[string][]int64{}
			got := readEvents(rd.c, "message.created", perRoom*len(rooms), 20*time.Second)
			for _, f := range got {
				seqs[f.Room] = append(seqs[f.Room], f.Seq)
			}
			rd.done <- seqs
		}()
	}
	before := e.hub.Stats()
	var wg sync.WaitGroup
	for _, r := range rooms {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perRoom {
				broker.Publish(context.Background(), r, "message.created", []byte(fmt.Sprintf(`{"i":%d}`, i)))
			}
		}()
	}
	wg.Wait()
	for i, rd := range readers {
		seqs := <-rd.done
		for _, r := range rooms {
			s := seqs[r]
			if len(s) != perRoom {
				t.Fatalf("reader %d: %d of %d events in %s", i, len(s), perRoom, r)
			}
			for j, q := range s {
				if q != int64(j+1) {
					t.Fatalf("reader %d, %s: seq %d at %d", i, r, q, j)
				}
			}
		}
	}
	after := e.hub.Stats()
	delivered, writes := after.Delivered-before.Delivered, after.Writes-before.Writes
	if delivered < subs*perRoom*int64(len(rooms)) || writes > delivered { // presence events count too
		t.Fatalf("%d delivered in %d writes", delivered, writes)
	}
	t.Logf("%d frames in %d writes (%.1f a write)", delivered, writes, float64(delivered)/float64(writes))
}

// TestTypingIsThrottled: a user's typing in a room goes out at most once
// per TypingInterval, whatever connection of theirs sends it, and asks
// nothing of the authorizer (nor any database).
func TestTypingIsThrottled(t *testing.T) {
	const window = 400 * time.Millisecond
	auth := &countingAuth{}
	e := newWSEnv(t, realtime.Config{TypingInterval: window}, realtime.NewMemoryBroker(10, nil), auth)
	watcher := e.join(1, "chat")
	typer, typer2 := e.join(2, "chat"), e.join(2, "chat")
	other := e.join(3, "chat")
	asked := auth.n.Load()
	typing := []byte(`{"op":"typing","room":"chat"}`)
	for range 4 {
		typer.Write(context.Background(), websocket.MessageText, typing)
		typer2.Write(context.Background(), websocket.MessageText, typing)
	}
	other.Write(context.Background(), websocket.MessageText, typing)
	// The watcher reads in the background (a read whose context ends
	// closes the connection).
	var mu sync.Mutex
	var seen []evFrame
	go func() {
		for {
			_, b, err := watcher.Read(context.Background())
			if err != nil {
				return
			}
			var f evFrame
			if json.Unmarshal(b, &f) == nil && f.Type == "typing" {
				mu.Lock()
				seen = append(seen, f)
				mu.Unlock()
			}
		}
	}()
	snapshot := func() []evFrame {
		mu.Lock()
		defer mu.Unlock()
		return append([]evFrame(nil), seen...)
	}
	time.Sleep(window * 3 / 4)
	got := snapshot()
	by := map[string]int{}
	for _, f := range got {
		by[string(f.Data)]++
	}
	if len(got) != 2 || by[`{"userId":2}`] != 1 || by[`{"userId":3}`] != 1 {
		t.Fatalf("typing within one window: %d events %v, want one per user", len(got), by)
	}
	time.Sleep(window / 2)
	typer2.Write(context.Background(), websocket.MessageText, typing)
	deadline := time.Now().Add(2 * time.Second)
	for len(snapshot()) < 3 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if got := snapshot(); len(got) != 3 || string(got[2].Data) != `{"userId":2}` {
		t.Fatalf("typing after the window: %+v", got)
	}
	if n := auth.n.Load(); n != asked {
		t.Fatalf("typing asked the authorizer %d times", n-asked)
	}
}

// TestEphemeralFramesShareTheNextWrite: a typing frame waits for the
// connection's next write (an event published within EphemeralDelay) and
// goes out in it, before it; alone, it goes out once the delay is over.
func TestEphemeralFramesShareTheNextWrite(t *testing.T) {
	broker := realtime.NewMemoryBroker(1000, nil)
	e := newWSEnv(t, realtime.Config{EphemeralDelay: 2 * time.Second}, broker, allowAll{})
	c := e.join(1, "chat")
	ctx := context.Background()

	before := e.settledWrites()
	broker.Ephemeral(ctx, "chat", "typing", []byte(`{"userId":2}`))
	time.Sleep(100 * time.Millisecond) // well inside the delay: nothing written yet
	if w := e.hub.Stats().Writes; w != before {
		t.Fatalf("the typing frame was written at once (%d writes), not held for the next", w-before)
	}
	broker.Publish(ctx, "chat", "message.created", []byte(`{"n":1}`))
	rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	var types []string
	for len(types) < 2 {
		_, b, err := c.Read(rctx)
		if err != nil {
			t.Fatalf("read %v after %v", err, types)
		}
		var f evFrame
		if json.Unmarshal(b, &f) == nil && f.Op == "event" {
			types = append(types, f.Type)
		}
	}
	if types[0] != "typing" || types[1] != "message.created" {
		t.Fatalf("frames in order %v, want typing then message.created", types)
	}
	time.Sleep(50 * time.Millisecond) // the writer counts its write after it
	if w := e.hub.Stats().Writes - before; w != 1 {
		t.Fatalf("%d writes for the two frames, want 1", w)
	}

	// Alone, the frame still goes out, after the delay and not long after.
	start := time.Now()
	broker.Ephemeral(ctx, "chat", "typing", []byte(`{"userId":3}`))
	got := readEvents(c, "typing", 1, 10*time.Second)
	if len(got) != 1 {
		t.Fatal("a lone typing frame was never written")
	}
	if d := time.Since(start); d < 1500*time.Millisecond || d > 6*time.Second {
		t.Fatalf("a lone typing frame arrived after %v, want about the 2s delay", d)
	}
}

// TestEphemeralDelayOff: a negative EphemeralDelay writes typing at once.
func TestEphemeralDelayOff(t *testing.T) {
	broker := realtime.NewMemoryBroker(1000, nil)
	e := newWSEnv(t, realtime.Config{EphemeralDelay: -1}, broker, allowAll{})
	c := e.join(1, "chat")
	start := time.Now()
	broker.Ephemeral(context.Background(), "chat", "typing", []byte(`{"userId":2}`))
	if got := readEvents(c, "typing", 1, 5*time.Second); len(got) != 1 {
		t.Fatal("typing frame not delivered")
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("typing took %v with the delay off", d)
	}
}
