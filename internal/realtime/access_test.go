package realtime_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/plazahq/plaza/internal/account"
	"github.com/plazahq/plaza/internal/apperr"
	"github.com/plazahq/plaza/internal/realtime"
	"github.com/plazahq/plaza/internal/redisx/redistest"
)

// rules is an Authorizer the test changes as it goes.
type rules struct {
	mu      sync.Mutex
	refused map[string]bool // "user room"
}

func (r *rules) CanJoin(_ context.Context, u account.User, room string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.refused[fmt.Sprint(u.ID, " ", room)] {
		return apperr.New(apperr.Forbidden, "you may not join "+room)
	}
	return nil
}

func (r *rules) refuse(user int64, room string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.refused == nil {
		r.refused = map[string]bool{}
	}
	r.refused[fmt.Sprint(user, " ", room)] = true
}

type wsFrame struct {
	Op, Room, Type, Code, Reason string
	Seq                          int64
}

// testConn reads a WebSocket's frames into a channel.
type testConn struct {
	t      *testing.T
	c      *websocket.Conn
	frames chan wsFrame
	code   chan websocket.StatusCode
}

// serve runs hub behind a test server; ?user= names the connection's user
// and identity completes its Identity.
func serve(t *testing.T, hub *realtime.Hub, identity func(r *http.Request, id *realtime.Identity)) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var id realtime.Identity
		fmt.Sscan(r.URL.Query().Get("user"), &id.User.ID)
		if identity != nil {
			identity(r, &id)
		}
		if err := hub.Serve(w, r, id); err != nil {
			http.Error(w, err.Error(), apperr.Status(apperr.From(err).Code))
		}
	}))
	t.Cleanup(srv.Close)
	return "ws" + strings.TrimPrefix(srv.URL, "http")
}

func dialConn(t *testing.T, url string) *testConn {
	t.Helper()
	c, _, err := websocket.Dial(context.Background(), url, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.CloseNow() })
	tc := &testConn{t: t, c: c, frames: make(chan wsFrame, 1000), code: make(chan websocket.StatusCode, 1)}
	go func() {
		for {
			_, b, err := c.Read(context.Background())
			if err != nil {
				tc.code <- websocket.CloseStatus(err)
				close(tc.frames)
				return
			}
			var f wsFrame
			json.Unmarshal(b, &f)
			tc.frames <- f
		}
	}()
	tc.until(func(f wsFrame) bool { return f.Op == "subscribed" && strings.HasPrefix(f.Room, "user:") }, nil)
	return tc
}

func (c *testConn) send(frame string) {
	c.t.Helper()
	if err := c.c.Write(context.Background(), websocket.MessageText, []byte(frame)); err != nil {
		c.t.Fatal(err)
	}
}

// until returns the first frame ok accepts, failing on one bad accepts
// first, on a close, or after 5 s.
func (c *testConn) until(ok, bad func(wsFrame) bool) wsFrame {
	c.t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case f, open := <-c.frames:
			if !open {
				c.t.Fatalf("connection closed (%d) while waiting", <-c.code)
			}
			if bad != nil && bad(f) {
				c.t.Fatalf("unexpected frame %+v", f)
			}
			if ok(f) {
				return f
			}
		case <-timeout:
			c.t.Fatal("no matching frame within 5 s")
		}
	}
}

// closedWith waits for the connection to close and returns the code.
func (c *testConn) closedWith() websocket.StatusCode {
	c.t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case _, open := <-c.frames:
			if !open {
				return <-c.code
			}
		case <-timeout:
			c.t.Fatal("connection still open after 5 s")
		}
	}
}

func op(name, room string) func(wsFrame) bool {
	return func(f wsFrame) bool { return f.Op == name && f.Room == room }
}

// A connection cannot leave its own user room (which carries
// session.revoked), and every subscribe first asks whether its session
// still holds: ended, the connection closes with 4003; not answered, the
// subscribe is refused and the connection stays.
func TestSubscribeChecksTheSession(t *testing.T) {
	hub := realtime.NewHub(realtime.Config{}, realtime.NewMemoryBroker(10, nil), allowAll{}, quiet())
	hub.Start()
	defer hub.Close(context.Background())
	var mu sync.Mutex
	verdict := map[string]error{}
	url := serve(t, hub, func(r *http.Request, id *realtime.Identity) {
		name := r.URL.Query().Get("name")
		id.Valid = func(context.Context) error {
			mu.Lock()
			defer mu.Unlock()
			return verdict[name]
		}
	})
	ended, outage := dialConn(t, url+"?user=7&name=ended"), dialConn(t, url+"?user=7&name=outage")

	ended.send(`{"op":"unsubscribe","room":"user:7"}`)
	if f := ended.until(op("error", "user:7"), nil); f.Code != "forbidden" {
		t.Fatalf("leaving the user room: %+v", f)
	}
	hub.Publish(context.Background(), "user:7", "dm.received", map[string]int{"n": 1})
	ended.until(func(f wsFrame) bool { return f.Type == "dm.received" }, nil) // still subscribed

	mu.Lock()
	verdict["ended"] = apperr.New(apperr.Unauthorized, "revoked")
	verdict["outage"] = fmt.Errorf("database unreachable")
	mu.Unlock()
	ended.send(`{"op":"subscribe","room":"chat"}`)
	if code := ended.closedWith(); code != realtime.CloseEnded {
		t.Fatalf("subscribe on an ended session: closed with %d, want %d", code, realtime.CloseEnded)
	}
	outage.send(`{"op":"subscribe","room":"chat"}`)
	if f := outage.until(op("error", "chat"), op("subscribed", "chat")); f.Code != "unavailable" {
		t.Fatalf("unchecked session: %+v", f)
	}
	mu.Lock()
	verdict["outage"] = nil
	mu.Unlock()
	outage.send(`{"op":"subscribe","room":"chat"}`)
	outage.until(op("subscribed", "chat"), nil)
}

// since beyond the room's seq (a client that saw a history this server no
// longer has) gets resync; a negative since is a bad frame; since equal to
// the room's seq replays nothing and needs no resync.
func TestSinceOutOfRange(t *testing.T) {
	broker := realtime.NewMemoryBroker(10, nil)
	hub := realtime.NewHub(realtime.Config{}, broker, allowAll{}, quiet())
	hub.Start()
	defer hub.Close(context.Background())
	for range 3 {
		hub.Publish(context.Background(), "chat", "shout.created", map[string]int{})
	}
	c := dialConn(t, serve(t, hub, nil)+"?user=1")
	c.send(`{"op":"subscribe","room":"chat","since":10}`)
	if f := c.until(op("subscribed", "chat"), nil); f.Seq != 3 {
		t.Fatalf("subscribed %+v", f)
	}
	c.until(op("resync", "chat"), func(f wsFrame) bool { return f.Op == "event" })
	c.send(`{"op":"unsubscribe","room":"chat"}`)
	c.until(op("unsubscribed", "chat"), nil)

	c.send(`{"op":"subscribe","room":"chat","since":-1}`)
	if f := c.until(op("error", "chat"), op("subscribed", "chat")); f.Code != "bad_frame" {
		t.Fatalf("negative since: %+v", f)
	}
	c.send(`{"op":"subscribe","room":"chat","since":3}`)
	c.until(op("subscribed", "chat"), nil)
	c.send(`{"op":"ping"}`)
	c.until(func(f wsFrame) bool { return f.Op == "pong" }, func(f wsFrame) bool { return f.Op == "resync" || f.Type == "shout.created" })
}

// A connection is in its user room from the start, so a client that
// reconnects asks for what it missed there as for any room: subscribe with
// since. The events after since that the connection has not had are
// replayed, in order and once; a since older than the history gets resync.
func TestUserRoomReplaysSince(t *testing.T) {
	ctx := context.Background()
	broker := realtime.NewMemoryBroker(10, nil)
	hub := realtime.NewHub(realtime.Config{}, broker, allowAll{}, quiet())
	hub.Start()
	defer hub.Close(ctx)
	for range 3 {
		hub.Publish(ctx, "user:1", "dm.received", map[string]int{})
	}
	url := serve(t, hub, nil) + "?user=1"
	event := func(f wsFrame) bool { return f.Op == "event" && f.Room == "user:1" }

	c := dialConn(t, url)
	c.send(`{"op":"subscribe","room":"user:1","since":1}`)
	if f := c.until(op("subscribed", "user:1"), event); f.Seq != 3 {
		t.Fatalf("subscribed %+v", f)
	}
	for _, want := range []int64{2, 3} {
		if f := c.until(event, nil); f.Seq != want {
			t.Fatalf("replayed seq %d, want %d", f.Seq, want)
		}
	}
	// Asking again replays nothing twice; live events follow.
	c.send(`{"op":"subscribe","room":"user:1","since":1}`)
	c.until(op("subscribed", "user:1"), event)
	hub.Publish(ctx, "user:1", "dm.received", map[string]int{})
	if f := c.until(event, nil); f.Seq != 4 {
		t.Fatalf("after a second subscribe, seq %d, want 4", f.Seq)
	}

	// History gone (10 kept): resync, as for any room.
	for range 12 {
		hub.Publish(ctx, "user:1", "dm.received", map[string]int{})
	}
	late := dialConn(t, url)
	late.send(`{"op":"subscribe","room":"user:1","since":1}`)
	late.until(op("subscribed", "user:1"), event)
	late.until(op("resync", "user:1"), event)
}

// exerciseReauthorize: after a change takes read access away, Reauthorize
// on any hub drops, on every hub, exactly the subscribers the room's
// authorization now refuses, who are told so and get none of the room's
// later events; the others keep receiving.
func exerciseReauthorize(t *testing.T, hubs []*realtime.Hub, auth *rules) {
	ctx := context.Background()
	first, last := serve(t, hubs[0], nil), serve(t, hubs[len(hubs)-1], nil)
	const room, other = "channel:5", "channel:6"
	subscribe := func(c *testConn, room string) {
		c.send(`{"op":"subscribe","room":"` + room + `"}`)
		c.until(op("subscribed", room), nil)
	}
	amyHere, amyThere := dialConn(t, first+"?user=1"), dialConn(t, last+"?user=1")
	bob, cat := dialConn(t, first+"?user=2"), dialConn(t, last+"?user=3")
	for _, c := range []*testConn{amyHere, amyThere, bob, cat} {
		subscribe(c, room)
		subscribe(c, other)
	}
	isEvent := func(room string) func(wsFrame) bool {
		return func(f wsFrame) bool { return f.Op == "event" && f.Room == room && f.Type == "message.created" }
	}

	// Amy is removed: only her connections leave the room, on both hubs.
	auth.refuse(1, room)
	if err := hubs[0].Reauthorize(ctx, room, 1); err != nil {
		t.Fatal(err)
	}
	hubs[0].Publish(ctx, room, "message.created", map[string]int{"n": 1}) // at once: she must not get it
	hubs[0].Publish(ctx, other, "message.created", map[string]int{"n": 1})
	// Told she is out (in any order with her other room's event, which
	// goes on), and never given this room's.
	dropped := func(c *testConn) {
		t.Helper()
		var told, goesOn bool
		for !told || !goesOn {
			f := c.until(func(f wsFrame) bool { return op("unsubscribed", room)(f) || isEvent(other)(f) }, isEvent(room))
			if f.Op == "unsubscribed" {
				if f.Reason != "forbidden" {
					t.Fatalf("told %+v", f)
				}
				told = true
			} else {
				goesOn = true
			}
		}
	}
	dropped(amyHere)
	dropped(amyThere)
	for _, c := range []*testConn{bob, cat} {
		c.until(isEvent(room), op("unsubscribed", room))
	}
	amyHere.send(`{"op":"subscribe","room":"` + room + `"}`)
	if f := amyHere.until(op("error", room), op("subscribed", room)); f.Code != "forbidden" {
		t.Fatalf("amy subscribing again: %+v", f)
	}

	// The room closes to everyone: a re-authorization without users
	// checks every subscriber, from either hub.
	auth.refuse(2, room)
	auth.refuse(3, room)
	if err := hubs[len(hubs)-1].Reauthorize(ctx, room); err != nil {
		t.Fatal(err)
	}
	hubs[0].Publish(ctx, room, "message.created", map[string]int{"n": 2})
	hubs[0].Publish(ctx, other, "message.created", map[string]int{"n": 2})
	dropped(bob)
	dropped(cat)
}

func TestReauthorize(t *testing.T) {
	auth := &rules{}
	hub := realtime.NewHub(realtime.Config{}, realtime.NewMemoryBroker(10, nil), auth, quiet())
	hub.Start()
	defer hub.Close(context.Background())
	exerciseReauthorize(t, []*realtime.Hub{hub}, auth)
}

func TestReauthorizeAcrossInstances(t *testing.T) {
	rc, prefix := redistest.Open(t)
	auth := &rules{}
	var hubs []*realtime.Hub
	for range 2 {
		h := realtime.NewHub(realtime.Config{}, realtime.NewRedisBroker(rc, prefix, 50, time.Hour, quiet()), auth, quiet())
		if err := h.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { h.Close(context.Background()) })
		hubs = append(hubs, h)
	}
	exerciseReauthorize(t, hubs, auth)
}

// A control message sent while Redis is away reaches this instance at
// once and the others when Redis answers again.
func TestRedisControlAfterOutage(t *testing.T) {
	rc, proxy, prefix := redistest.Proxied(t)
	direct, _ := redistest.Open(t)
	cut := realtime.NewRedisBroker(rc, prefix, 50, time.Hour, quiet())
	other := realtime.NewRedisBroker(direct, prefix, 50, time.Hour, quiet())
	var onCut, onOther collector
	cut.Start(onCut.deliver)
	other.Start(onOther.deliver)
	defer cut.Stop()
	defer other.Stop()
	ctx := context.Background()
	if err := cut.Control(ctx, "channel:1", "reauthorize", []byte(`{"users":[1]}`)); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*collector{&onCut, &onOther} {
		if e := c.wait(t, 1)[0]; !e.Control || e.Room != "channel:1" || e.Type != "reauthorize" || e.Seq != 0 {
			t.Fatalf("control message delivered as %+v", e)
		}
	}
	proxy.Cut()
	if err := cut.Control(ctx, "channel:2", "reauthorize", []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	if e := onCut.wait(t, 2)[1]; !e.Control || e.Room != "channel:2" {
		t.Fatalf("local delivery while Redis is away: %+v", e)
	}
	proxy.Restore()
	if e := onOther.wait(t, 2)[1]; !e.Control || e.Room != "channel:2" {
		t.Fatalf("after the outage the other instance got %+v", e)
	}
}
