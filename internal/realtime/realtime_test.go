package realtime_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/plazahq/plaza/internal/account"
	"github.com/plazahq/plaza/internal/apperr"
	"github.com/plazahq/plaza/internal/realtime"
	"github.com/plazahq/plaza/internal/redisx/redistest"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// collector records what a broker delivers.
type collector struct {
	mu     sync.Mutex
	events []realtime.Event
}

func (c *collector) deliver(e realtime.Event) {
	c.mu.Lock()
	c.events = append(c.events, e)
	c.mu.Unlock()
}

func (c *collector) wait(t *testing.T, n int) []realtime.Event {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		c.mu.Lock()
		got := append([]realtime.Event(nil), c.events...)
		c.mu.Unlock()
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d events delivered, want %d", len(got), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// exerciseBroker is the contract every Broker keeps.
func exerciseBroker(t *testing.T, b realtime.Broker, history int) {
	ctx := context.Background()
	var c collector
	if err := b.Start(c.deliver); err != nil {
		t.Fatal(err)
	}
	defer b.Stop()
	room := fmt.Sprint("channel:", time.Now().UnixNano()%1_000_000+1)
	for i := 1; i <= history+5; i++ {
		seq, err := b.Publish(ctx, room, "message.created", []byte(fmt.Sprintf(`{"n":%d}`, i)))
		if err != nil || seq != int64(i) {
			t.Fatalf("publish %d: seq %d, %v", i, seq, err)
		}
	}
	got := c.wait(t, history+5)
	for i, e := range got[:history+5] {
		var f struct {
			Op, Room, Type string
			Seq, TS        int64
			Data           struct{ N int }
		}
		if err := json.Unmarshal(e.Frame, &f); err != nil {
			t.Fatalf("frame %s: %v", e.Frame, err)
		}
		if e.Seq != int64(i+1) || f.Seq != e.Seq || f.Op != "event" || f.Room != room || f.Type != "message.created" || f.Data.N != i+1 || f.TS == 0 {
			t.Fatalf("delivery %d out of order or malformed: %+v %s", i, e, e.Frame)
		}
	}
	// History: within reach, the rest; too old, not ok.
	evs, cur, ok, err := b.Since(ctx, room, int64(history))
	if err != nil || !ok || cur != int64(history+5) || len(evs) != 5 || evs[0].Seq != int64(history+1) {
		t.Fatalf("Since(%d) = %d events, cur %d, ok %v, %v", history, len(evs), cur, ok, err)
	}
	if _, _, ok, _ := b.Since(ctx, room, 1); ok {
		t.Fatal("Since(1) reaches back beyond the history")
	}
	if evs, _, ok, _ := b.Since(ctx, room, cur); !ok || len(evs) != 0 {
		t.Fatalf("Since(current) = %v %v", evs, ok)
	}
	if _, cur, ok, _ := b.Since(ctx, "room:never", 0); !ok || cur != 0 {
		t.Fatal("empty room")
	}
	if err := b.Ephemeral(ctx, room, "typing", []byte(`{"userId":1}`)); err != nil {
		t.Fatal(err)
	}
	last := c.wait(t, history+6)[history+5]
	if last.Seq != 0 || !strings.Contains(string(last.Frame), `"typing"`) {
		t.Fatalf("ephemeral %+v", last)
	}
	// A control message reaches the hub marked as one, and takes no seq.
	if err := b.Control(ctx, room, "reauthorize", []byte(`{"users":[3]}`)); err != nil {
		t.Fatal(err)
	}
	ctl := c.wait(t, history+7)[history+6]
	if !ctl.Control || ctl.Seq != 0 || ctl.Room != room || ctl.Type != "reauthorize" || !strings.Contains(string(ctl.Frame), `"users":[3]`) {
		t.Fatalf("control %+v %s", ctl, ctl.Frame)
	}
	if _, cur, _, _ := b.Since(ctx, room, 0); cur != int64(history+5) {
		t.Fatalf("a control message moved the room's seq to %d", cur)
	}
}

func TestMemoryBroker(t *testing.T) {
	exerciseBroker(t, realtime.NewMemoryBroker(20, nil), 20)
}

func TestRedisBroker(t *testing.T) {
	rc, prefix := redistest.Open(t)
	exerciseBroker(t, realtime.NewRedisBroker(rc, prefix, 20, time.Hour, quiet()), 20)
}

// A publication retried after a timeout (same id) is published once: the
// retry gets the first run's seq, the history holds it once, subscribers
// get it once.
func TestRedisPublishRetryIsPublishedOnce(t *testing.T) {
	rc, prefix := redistest.Open(t)
	b := realtime.NewRedisBroker(rc, prefix, 50, time.Hour, quiet())
	var c collector
	b.Start(c.deliver)
	defer b.Stop()
	ctx := context.Background()
	first, err := b.PublishAsForTest(ctx, "chat", "shout.created", []byte(`{"n":1}`), "pub-1")
	if err != nil {
		t.Fatal(err)
	}
	again, err := b.PublishAsForTest(ctx, "chat", "shout.created", []byte(`{"n":1}`), "pub-1")
	if err != nil || again != first {
		t.Fatalf("retry got seq %d (%v), want %d", again, err, first)
	}
	next, _ := b.PublishAsForTest(ctx, "chat", "shout.created", []byte(`{"n":2}`), "pub-2")
	if next != first+1 {
		t.Fatalf("next publication got seq %d, want %d", next, first+1)
	}
	events, cur, ok, err := b.Since(ctx, "chat", 0)
	if err != nil || !ok || cur != next || len(events) != 2 {
		t.Fatalf("history: %d events, cur %d, ok %v, %v", len(events), cur, ok, err)
	}
	c.wait(t, 2)
	time.Sleep(100 * time.Millisecond)
	if got := c.wait(t, 2); len(got) != 2 {
		t.Fatalf("%d deliveries, want 2", len(got))
	}
}

// Two brokers on one Redis share seqs and deliver to both.
func TestRedisBrokerAcrossInstances(t *testing.T) {
	rc, prefix := redistest.Open(t)
	a := realtime.NewRedisBroker(rc, prefix, 50, time.Hour, quiet())
	b := realtime.NewRedisBroker(rc, prefix, 50, time.Hour, quiet())
	var ca, cb collector
	a.Start(ca.deliver)
	b.Start(cb.deliver)
	defer a.Stop()
	defer b.Stop()
	time.Sleep(100 * time.Millisecond) // subscriptions settle
	ctx := context.Background()
	for i := range 10 {
		br := a
		if i%2 == 1 {
			br = b
		}
		if seq, err := br.Publish(ctx, "chat", "shout.created", []byte(`{}`)); err != nil || seq != int64(i+1) {
			t.Fatalf("publish %d on %d: %d %v", i, i%2, seq, err)
		}
	}
	for _, c := range []*collector{&ca, &cb} {
		got := c.wait(t, 10)
		for i, e := range got {
			if e.Seq != int64(i+1) {
				t.Fatalf("order %v", got)
			}
		}
	}
}

// Redis lost: publishing continues locally with monotonic seqs; when Redis
// returns its seq is raised past them.
func TestRedisBrokerFallback(t *testing.T) {
	rc, p, prefix := redistest.Proxied(t)
	b := realtime.NewRedisBroker(rc, prefix, 50, time.Hour, quiet())
	var c collector
	b.Start(c.deliver)
	defer b.Stop()
	time.Sleep(50 * time.Millisecond)
	ctx := context.Background()
	b.Publish(ctx, "chat", "x", []byte(`{}`))
	c.wait(t, 1)
	p.Cut()
	for want := int64(2); want <= 4; want++ {
		seq, err := b.Publish(ctx, "chat", "x", []byte(`{}`))
		if err != nil || seq != want {
			t.Fatalf("while down: seq %d %v, want %d", seq, err, want)
		}
	}
	if down, _ := b.Down(); !down {
		t.Fatal("Down() false")
	}
	got := c.wait(t, 4)
	if got[3].Seq != 4 {
		t.Fatalf("local delivery %+v", got)
	}
	p.Restore()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if down, _ := b.Down(); !down {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("did not recover")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if seq, err := b.Publish(ctx, "chat", "x", []byte(`{}`)); err != nil || seq != 5 {
		t.Fatalf("after recovery: seq %d %v, want 5", seq, err)
	}
}

// allowAll lets anyone join any room.
type allowAll struct{}

func (allowAll) CanJoin(context.Context, account.User, string) error { return nil }

// A client that stops reading is disconnected with 4001, and the room goes
// on delivering to the others.
func TestSlowConsumerIsDropped(t *testing.T) {
	broker := realtime.NewMemoryBroker(10, nil)
	hub := realtime.NewHub(realtime.Config{SendQueue: 8}, broker, allowAll{}, quiet())
	hub.Start()
	defer hub.Close(context.Background())
	var next int64
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		next++
		u := account.User{ID: next}
		mu.Unlock()
		hub.Serve(w, r, realtime.Identity{User: u})
	}))
	defer srv.Close()
	dial := func() *websocket.Conn {
		c, _, err := websocket.Dial(context.Background(), "ws"+strings.TrimPrefix(srv.URL, "http"), nil)
		if err != nil {
			t.Fatal(err)
		}
		c.SetReadLimit(1 << 20)
		c.Write(context.Background(), websocket.MessageText, []byte(`{"op":"subscribe","room":"live-stream"}`))
		return c
	}
	slow, fast := dial(), dial()
	defer slow.CloseNow()
	defer fast.CloseNow()
	time.Sleep(100 * time.Millisecond)
	big := []byte(`{"pad":"` + strings.Repeat("x", 64<<10) + `"}`)
	got := make(chan struct{}, 1)
	done := make(chan int)
	go func() { // the fast client keeps reading
		n := 0
		for {
			_, b, err := fast.Read(context.Background())
			if err != nil {
				done <- n
				return
			}
			if strings.Contains(string(b), "now-playing") {
				n++
				got <- struct{}{}
			}
		}
	}()
	for range 400 { // 25 MB: more than socket buffers hold; paced by the fast reader
		broker.Publish(context.Background(), "live-stream", "now-playing", big)
		select {
		case <-got:
		case <-time.After(5 * time.Second):
			t.Fatal("the fast client stopped receiving")
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for hub.Stats().Dropped == 0 {
		if time.Now().After(deadline) {
			t.Fatal("slow consumer not dropped")
		}
		time.Sleep(10 * time.Millisecond)
	}
	var err error
	for err == nil {
		_, _, err = slow.Read(context.Background())
	}
	if websocket.CloseStatus(err) != realtime.CloseSlow && !strings.Contains(err.Error(), "reset") && !strings.Contains(err.Error(), "EOF") {
		t.Fatalf("slow client ended with %v", err)
	}
	fast.Close(websocket.StatusNormalClosure, "")
	if n := <-done; n < 400 {
		t.Fatalf("fast client got %d of 400 events", n)
	}
}

func FuzzFrames(f *testing.F) {
	for _, s := range []string{`{"op":"subscribe","room":"channel:1","since":3}`, `{"op":"event","room":"chat","seq":4}`, `{`, `user:0`, `thread:99999999999999999999`, `channel:-1`, "live-stream"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if realtime.ValidRoom(s) && !(s == "chat" || s == "live-stream" || s == "leaderboard" || strings.Contains(s, ":")) {
			t.Fatalf("accepted %q", s)
		}
		room, seq, _, ok := realtime.ParseFrameForTest([]byte(s))
		if ok && (room == "" || !json.Valid([]byte(s))) {
			t.Fatalf("accepted %q as a frame of room %q seq %d", s, room, seq)
		}
	})
}

// Presence through Redis spans instances: users subscribed on two hubs are
// both listed, and leaving removes only that instance's record.
func TestSharedPresence(t *testing.T) {
	rc, prefix := redistest.Open(t)
	type inst struct {
		hub *realtime.Hub
		url string
	}
	start := func() inst {
		b := realtime.NewRedisBroker(rc, prefix, 50, time.Hour, quiet())
		h := realtime.NewHub(realtime.Config{}, b, allowAll{}, quiet())
		h.Start()
		t.Cleanup(func() { h.Close(context.Background()) })
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var id int64
			fmt.Sscan(r.URL.Query().Get("user"), &id)
			h.Serve(w, r, realtime.Identity{User: account.User{ID: id}})
		}))
		t.Cleanup(srv.Close)
		return inst{h, "ws" + strings.TrimPrefix(srv.URL, "http")}
	}
	a, b := start(), start()
	join := func(in inst, user int) (*websocket.Conn, map[string]any) {
		c, _, err := websocket.Dial(context.Background(), fmt.Sprintf("%s?user=%d", in.url, user), nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.CloseNow() })
		c.Write(context.Background(), websocket.MessageText, []byte(`{"op":"subscribe","room":"live-stream"}`))
		for {
			_, msg, err := c.Read(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			var f map[string]any
			json.Unmarshal(msg, &f)
			if f["op"] == "subscribed" && f["room"] == "live-stream" {
				return c, f
			}
		}
	}
	ca, _ := join(a, 1)
	_, f := join(b, 2)
	if f["onlineCount"] != float64(2) {
		t.Fatalf("B sees %v online, want users of both instances", f)
	}
	ca.Close(websocket.StatusNormalClosure, "")
	deadline := time.Now().Add(5 * time.Second)
	for i := 0; ; i++ {
		// Users 2 and 3..3+i are online; user 1 has left A. B answers from
		// what it read of shared presence up to a second ago: wait until
		// that read includes the newest user.
		_, f := join(b, 3+i)
		online, _ := f["online"].([]any)
		if f["onlineCount"] == float64(2+i) && slices.Contains(online, any(float64(3+i))) && !slices.Contains(online, any(float64(1))) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("user 1 still counted online after leaving A")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// A client that never reads never answers pings: it is closed as idle,
// while one that reads (and so answers pings) stays.
func TestIdleConnectionIsClosed(t *testing.T) {
	hub := realtime.NewHub(realtime.Config{PingInterval: 200 * time.Millisecond, IdleTimeout: 600 * time.Millisecond},
		realtime.NewMemoryBroker(10, nil), allowAll{}, quiet())
	hub.Start()
	defer hub.Close(context.Background())
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hub.Serve(w, r, realtime.Identity{User: account.User{ID: 1}})
	}))
	defer srv.Close()
	dial := func() *websocket.Conn {
		c, _, err := websocket.Dial(context.Background(), "ws"+strings.TrimPrefix(srv.URL, "http"), nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.CloseNow() })
		return c
	}
	dial() // never reads
	alive := dial()
	go func() {
		for {
			if _, _, err := alive.Read(context.Background()); err != nil {
				return
			}
		}
	}()
	deadline := time.Now().Add(5 * time.Second)
	for hub.Stats().Connections > 1 {
		if time.Now().After(deadline) {
			t.Fatal("idle connection still open")
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(time.Second) // well past the idle timeout
	if n := hub.Stats().Connections; n != 1 {
		t.Fatalf("%d connections; the one answering pings should remain", n)
	}
}

// A connection whose session ends is closed with 4003 once its user's room
// announces a revocation (after delivering that event), or when the
// session expires; a failed check (database away) keeps it open.
func TestSessionEndClosesConnection(t *testing.T) {
	hub := realtime.NewHub(realtime.Config{}, realtime.NewMemoryBroker(10, nil), allowAll{}, quiet())
	hub.Start()
	defer hub.Close(context.Background())
	var mu sync.Mutex
	verdict := map[string]error{} // per connection name: what its check answers
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := r.URL.Query().Get("name")
		var expires time.Time
		if d, err := time.ParseDuration(r.URL.Query().Get("ttl")); err == nil {
			expires = time.Now().Add(d)
		}
		user := int64(7)
		if name == "expiring" {
			user = 8 // not told of user 7's revocation: only its expiry ends it
		}
		hub.Serve(w, r, realtime.Identity{User: account.User{ID: user}, Expires: expires,
			Check: func(context.Context) (time.Time, error) {
				mu.Lock()
				defer mu.Unlock()
				return time.Now().Add(time.Hour), verdict[name]
			}})
	}))
	defer srv.Close()
	type result struct {
		frames []string
		code   websocket.StatusCode
	}
	dial := func(query string) chan result {
		c, _, err := websocket.Dial(context.Background(), "ws"+strings.TrimPrefix(srv.URL, "http")+"/?"+query, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.CloseNow() })
		// The first frame says the connection is in its user's room: only
		// then can a revocation published there reach it (counting the
		// hub's connections raced with that join).
		_, first, err := c.Read(context.Background())
		if err != nil || !strings.Contains(string(first), `"subscribed"`) {
			t.Fatalf("%s: first frame %q, %v; want the user room's subscribed", query, first, err)
		}
		done := make(chan result, 1)
		go func() {
			r := result{frames: []string{string(first)}}
			for {
				_, b, err := c.Read(context.Background())
				if err != nil {
					r.code = websocket.CloseStatus(err)
					done <- r
					return
				}
				r.frames = append(r.frames, string(b))
			}
		}()
		return done
	}
	revoked, kept, outage := dial("name=revoked"), dial("name=kept"), dial("name=outage")
	expiring := dial("name=expiring&ttl=300ms")
	for hub.Stats().Connections < 4 {
		time.Sleep(10 * time.Millisecond)
	}
	mu.Lock()
	verdict["revoked"] = apperr.New(apperr.Unauthorized, "revoked")
	verdict["expiring"] = apperr.New(apperr.Unauthorized, "expired")
	verdict["outage"] = fmt.Errorf("database unreachable")
	mu.Unlock()
	if err := hub.Publish(context.Background(), "user:7", account.SessionRevoked, map[string]any{"sessionId": 1}); err != nil {
		t.Fatal(err)
	}
	for name, ch := range map[string]chan result{"revoked": revoked, "expiring": expiring} {
		select {
		case r := <-ch:
			if r.code != realtime.CloseEnded {
				t.Fatalf("%s: closed with %d, want %d", name, r.code, realtime.CloseEnded)
			}
			if name == "revoked" && (len(r.frames) < 2 || !strings.Contains(r.frames[len(r.frames)-1], account.SessionRevoked)) {
				t.Fatalf("revoked: the announcement should arrive before the close: %q", r.frames)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: connection still open", name)
		}
	}
	time.Sleep(300 * time.Millisecond)
	for name, ch := range map[string]chan result{"kept": kept, "outage": outage} {
		select {
		case r := <-ch:
			t.Fatalf("%s: closed (%d), but its session holds or could not be checked", name, r.code)
		default:
		}
	}
	if n := hub.Stats().Connections; n != 2 {
		t.Fatalf("%d connections open, want 2", n)
	}
}

// TestSessionEndedBeforeTheJoin: a session revoked after the upgrade
// request was authenticated but before the connection joined its user's
// room missed the announcement; the check made once the connection is in
// that room closes it (4003), and a session that holds keeps its socket.
func TestSessionEndedBeforeTheJoin(t *testing.T) {
	hub := realtime.NewHub(realtime.Config{}, realtime.NewMemoryBroker(10, nil), allowAll{}, quiet())
	hub.Start()
	defer hub.Close(context.Background())
	var asked atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		revoked := r.URL.Query().Get("revoked") == "1"
		hub.Serve(w, r, realtime.Identity{User: account.User{ID: 9},
			Valid: func(context.Context) error {
				asked.Add(1)
				if revoked {
					return apperr.New(apperr.Unauthorized, "revoked")
				}
				return nil
			}})
	}))
	defer srv.Close()
	read := func(query string) (websocket.StatusCode, []string) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/?"+query, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer c.CloseNow()
		var frames []string
		for {
			_, b, err := c.Read(ctx)
			if err != nil {
				return websocket.CloseStatus(err), frames
			}
			frames = append(frames, string(b))
		}
	}
	if code, frames := read("revoked=1"); code != realtime.CloseEnded {
		t.Fatalf("revoked before the join: closed with %d after %q, want %d", code, frames, realtime.CloseEnded)
	}
	if code, frames := read("revoked=0"); code != -1 || len(frames) != 1 || !strings.Contains(frames[0], `"subscribed"`) {
		t.Fatalf("a session that holds: closed with %d after %q; want it open (read timed out) after its room's subscribed", code, frames)
	}
	if n := asked.Load(); n != 2 {
		t.Fatalf("session asked %d times, want once per connection", n)
	}
}

// Joins and leaves are announced together, at most once per window: 20
// arrivals reach a watcher in one or two frames, not 20; arriving and
// leaving within one window announces nothing.
func TestPresenceIsAnnouncedInBatches(t *testing.T) {
	const window = time.Second
	hub := realtime.NewHub(realtime.Config{PresenceWindow: window}, realtime.NewMemoryBroker(10, nil), allowAll{}, quiet())
	hub.Start()
	defer hub.Close(context.Background())
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var id int64
		fmt.Sscan(r.URL.Query().Get("user"), &id)
		hub.Serve(w, r, realtime.Identity{User: account.User{ID: id}})
	}))
	defer srv.Close()
	dial := func(id int) (*websocket.Conn, error) {
		c, _, err := websocket.Dial(context.Background(), fmt.Sprintf("ws%s/?user=%d", strings.TrimPrefix(srv.URL, "http"), id), nil)
		if err != nil {
			return nil, err
		}
		t.Cleanup(func() { c.CloseNow() })
		return c, c.Write(context.Background(), websocket.MessageText, []byte(`{"op":"subscribe","room":"chat"}`))
	}
	join := func(id int) *websocket.Conn {
		c, err := dial(id)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	type presence struct {
		Op, Type string
		Data     struct{ Joined, Left []int64 }
	}
	// next returns the watcher's next presence event, or ok=false if none
	// comes within d.
	watcher := join(100)
	next := func(d time.Duration) (p presence, ok bool) {
		ctx, cancel := context.WithTimeout(context.Background(), d)
		defer cancel()
		for {
			_, b, err := watcher.Read(ctx)
			if err != nil {
				return p, false
			}
			if json.Unmarshal(b, &p) == nil && p.Type == "presence" {
				return p, true
			}
		}
	}
	if p, ok := next(2 * time.Second); !ok || !slices.Equal(p.Data.Joined, []int64{100}) {
		t.Fatalf("own arrival: %+v %v", p, ok)
	}
	var wg sync.WaitGroup
	for id := 1; id <= 20; id++ { // at once, so they land in one window even on a busy machine
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := dial(id); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	joined, frames := map[int64]bool{}, 0
	for len(joined) < 20 {
		p, ok := next(2 * time.Second)
		if !ok {
			t.Fatalf("%d of 20 arrivals announced", len(joined))
		}
		frames++
		for _, id := range p.Data.Joined {
			joined[id] = true
		}
	}
	if frames > 2 {
		t.Fatalf("20 arrivals took %d presence frames; want them batched", frames)
	}
	// In and out within one window: nothing to announce.
	c := join(50)
	time.Sleep(50 * time.Millisecond)
	c.Close(websocket.StatusNormalClosure, "")
	if p, ok := next(window + time.Second); ok {
		t.Fatalf("a visit shorter than the window was announced: %+v", p)
	}
}

// gapBroker delivers what the test hands it and has an empty history, like
// Redis after events were published on an instance that had lost it.
type gapBroker struct{ deliver func(realtime.Event) }

func (b *gapBroker) Publish(context.Context, string, string, []byte) (int64, error) {
	return 0, fmt.Errorf("not used")
}
func (b *gapBroker) Ephemeral(context.Context, string, string, []byte) error { return nil }
func (b *gapBroker) Control(context.Context, string, string, []byte) error   { return nil }
func (b *gapBroker) Since(context.Context, string, int64) ([]realtime.Event, int64, bool, error) {
	return nil, 0, true, nil
}
func (b *gapBroker) Purge(context.Context, string, realtime.Subject) (int, error) { return 0, nil }
func (b *gapBroker) Start(d func(realtime.Event)) error                           { b.deliver = d; return nil }
func (b *gapBroker) Stop()                                                        {}

// A gap the history cannot fill is not passed over in silence: the room's
// subscribers are told to resync before the next event.
func TestUnfillableGapTellsSubscribersToResync(t *testing.T) {
	b := &gapBroker{}
	hub := realtime.NewHub(realtime.Config{}, b, allowAll{}, quiet())
	hub.Start()
	defer hub.Close(context.Background())
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hub.Serve(w, r, realtime.Identity{User: account.User{ID: 1}})
	}))
	defer srv.Close()
	c, _, err := websocket.Dial(context.Background(), "ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	read := func() map[string]any {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		for {
			_, data, err := c.Read(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var f map[string]any
			json.Unmarshal(data, &f)
			if f["room"] == "chat" && f["type"] != "presence" {
				return f
			}
		}
	}
	c.Write(context.Background(), websocket.MessageText, []byte(`{"op":"subscribe","room":"chat"}`))
	if f := read(); f["op"] != "subscribed" {
		t.Fatalf("%v", f)
	}
	event := func(seq int) realtime.Event {
		return realtime.Event{Room: "chat", Seq: int64(seq), Type: "shout.created",
			Frame: []byte(fmt.Sprintf(`{"op":"event","room":"chat","seq":%d,"type":"shout.created","data":{}}`, seq))}
	}
	b.deliver(event(1))
	b.deliver(event(4))                                                   // 2 and 3 are nowhere
	for _, want := range []string{"event 1", "resync <nil>", "event 4"} { // resync frames have no seq
		f := read()
		if got := fmt.Sprintf("%v %v", f["op"], f["seq"]); got != want {
			t.Fatalf("got %s, want %s", got, want)
		}
	}
	if n := hub.Stats().Resyncs; n != 1 {
		t.Fatalf("resyncs %d", n)
	}
}
