package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/plazahq/plaza/internal/sqldb"
	"github.com/plazahq/plaza/internal/sqldb/sqldbtest"
)

type frame struct {
	Op          string
	Room        string
	Seq         int64
	Type        string
	TS          int64
	Code        string
	Message     string
	Reason      string
	Online      []int64
	OnlineCount int
	Data        json.RawMessage
}

type wsClient struct {
	t *testing.T
	c *websocket.Conn
}

func (e *env) dial(token string, header http.Header) (*wsClient, *http.Response, error) {
	u := "ws" + strings.TrimPrefix(e.srv.URL, "http") + "/api/ws"
	if token != "" {
		u += "?token=" + token
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, res, err := websocket.Dial(ctx, u, &websocket.DialOptions{HTTPHeader: header})
	if err != nil {
		return nil, res, err
	}
	c.SetReadLimit(1 << 20)
	return &wsClient{t: e.t, c: c}, res, nil
}

// connect dials and consumes the automatic user-room subscription.
func (e *env) connect(token string) *wsClient {
	e.t.Helper()
	ws, _, err := e.dial(token, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { ws.c.CloseNow() })
	if f := ws.read(); f.Op != "subscribed" || !strings.HasPrefix(f.Room, "user:") {
		e.t.Fatalf("first frame %+v", f)
	}
	return ws
}

func (w *wsClient) send(v any) {
	w.t.Helper()
	b, _ := json.Marshal(v)
	if err := w.c.Write(context.Background(), websocket.MessageText, b); err != nil {
		w.t.Fatal(err)
	}
}

func (w *wsClient) readErr() (frame, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, b, err := w.c.Read(ctx)
	if err != nil {
		return frame{}, err
	}
	var f frame
	if err := json.Unmarshal(b, &f); err != nil {
		w.t.Fatalf("bad frame %s", b)
	}
	return f, nil
}

func (w *wsClient) read() frame {
	w.t.Helper()
	f, err := w.readErr()
	if err != nil {
		w.t.Fatal(err)
	}
	return f
}

// next returns the next frame that is not presence or typing noise.
func (w *wsClient) next(skip ...string) frame {
	w.t.Helper()
	for {
		f := w.read()
		skipped := false
		for _, s := range skip {
			if f.Type == s {
				skipped = true
			}
		}
		if !skipped {
			return f
		}
	}
}

func (w *wsClient) subscribe(room string, since *int64) frame {
	w.t.Helper()
	m := map[string]any{"op": "subscribe", "room": room}
	if since != nil {
		m["since"] = *since
	}
	w.send(m)
	return w.read()
}

func ptr(v int64) *int64 { return &v }

func TestRealtimeEventsAndReplay(t *testing.T) {
	sqldbtest.ForEach(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		adminTok, _ := e.admin("ops")
		var ch channel
		e.must(201, e.do("POST", "/api/community/channels", map[string]any{"name": "Live"}, adminTok)).json(&ch)
		room := fmt.Sprintf("channel:%d", ch.ID)
		tok, _ := e.signup("amy")
		ws := e.connect(tok)
		if f := ws.subscribe(room, nil); f.Op != "subscribed" || f.Seq != 0 {
			t.Fatalf("subscribed %+v", f)
		}
		if f := ws.next(); f.Type != "presence" || f.Seq != 0 || len(presenceOf(t, f).Joined) != 1 { // our own arrival
			t.Fatalf("presence %+v", f)
		}
		path := fmt.Sprintf("/api/community/channels/%d/messages", ch.ID)
		var m struct{ ID int64 }
		e.must(201, e.do("POST", path, map[string]string{"body": "hello"}, adminTok)).json(&m)
		f := ws.next("presence")
		var data struct {
			Body   string
			Author struct{ Username string }
		}
		json.Unmarshal(f.Data, &data)
		if f.Op != "event" || f.Room != room || f.Seq != 1 || f.Type != "message.created" || data.Body != "hello" || data.Author.Username != "ops" || f.TS == 0 {
			t.Fatalf("event %+v %s", f, f.Data)
		}
		e.must(200, e.do("PATCH", fmt.Sprintf("/api/community/messages/%d", m.ID), map[string]string{"body": "hello!"}, adminTok))
		e.must(204, e.do("DELETE", fmt.Sprintf("/api/community/messages/%d", m.ID), nil, adminTok))
		if f := ws.next(); f.Seq != 2 || f.Type != "message.edited" {
			t.Fatalf("edit event %+v", f)
		}
		if f := ws.next(); f.Seq != 3 || f.Type != "message.deleted" {
			t.Fatalf("delete event %+v", f)
		}

		// Disconnect, miss two events, reconnect with since: replayed in
		// order, then live.
		ws.c.Close(websocket.StatusNormalClosure, "bye")
		for _, body := range []string{"missed 1", "missed 2"} {
			e.must(201, e.do("POST", path, map[string]string{"body": body}, adminTok))
		}
		ws = e.connect(tok)
		if f := ws.subscribe(room, ptr(3)); f.Op != "subscribed" || f.Seq != 5 {
			t.Fatalf("resubscribed %+v", f)
		}
		for want := int64(4); want <= 5; want++ {
			if f := ws.next("presence"); f.Seq != want || f.Type != "message.created" {
				t.Fatalf("replay: got %+v, want seq %d", f, want)
			}
		}
		e.must(201, e.do("POST", path, map[string]string{"body": "live"}, adminTok))
		if f := ws.next("presence"); f.Seq != 6 {
			t.Fatalf("live after replay %+v", f)
		}
		// Subscribing again is harmless.
		if f := ws.subscribe(room, nil); f.Op != "subscribed" || f.Seq != 6 {
			t.Fatalf("second subscribe %+v", f)
		}
		ws.send(map[string]string{"op": "unsubscribe", "room": room})
		if f := ws.next(); f.Op != "unsubscribed" {
			t.Fatalf("unsubscribe %+v", f)
		}
		ws.send(map[string]string{"op": "ping"})
		if f := ws.next(); f.Op != "pong" {
			t.Fatalf("ping %+v", f)
		}
	})
}

func TestRealtimeResyncWhenHistoryIsTooOld(t *testing.T) {
	e := newEnv(t, sqldbtest.OpenSQLite(t, sqldb.Config{}))
	adminTok, _ := e.admin("ops")
	var ch channel
	e.must(201, e.do("POST", "/api/community/channels", map[string]any{"name": "Busy"}, adminTok)).json(&ch)
	for i := range 120 { // the harness keeps 100 events per room
		if i == 60 {
			e.clock.Advance(time.Minute) // the api tier allows 100 a minute
		}
		e.must(201, e.do("POST", fmt.Sprintf("/api/community/channels/%d/messages", ch.ID), map[string]string{"body": fmt.Sprint(i)}, adminTok))
	}
	tok, _ := e.signup("bea")
	ws := e.connect(tok)
	room := fmt.Sprintf("channel:%d", ch.ID)
	if f := ws.subscribe(room, ptr(5)); f.Op != "subscribed" || f.Seq != 120 {
		t.Fatalf("subscribed %+v", f)
	}
	if f := ws.next("presence"); f.Op != "resync" || f.Room != room {
		t.Fatalf("want resync, got %+v", f)
	}
	// Within the history: replayed.
	ws2 := e.connect(tok)
	ws2.subscribe(room, ptr(115))
	for want := int64(116); want <= 120; want++ {
		if f := ws2.next("presence"); f.Seq != want {
			t.Fatalf("got %+v, want seq %d", f, want)
		}
	}
}

func TestRealtimeAuthorizationAndBadFrames(t *testing.T) {
	e := newEnv(t, sqldbtest.OpenSQLite(t, sqldb.Config{}))
	adminTok, admin := e.admin("ops")
	var priv channel
	e.must(201, e.do("POST", "/api/community/channels", map[string]any{"name": "Secret", "private": true}, adminTok)).json(&priv)
	tok, me := e.signup("cal")
	_, other := e.signup("dee")
	var th struct{ ID int64 }
	otherTok, _ := e.login("dee", pw, "")
	e.must(201, e.do("POST", "/api/messages/threads", map[string]int64{"userId": admin.ID}, otherTok)).json(&th)

	ws := e.connect(tok)
	for room, code := range map[string]string{
		fmt.Sprintf("channel:%d", priv.ID): "forbidden",
		fmt.Sprintf("user:%d", other.ID):   "forbidden",
		fmt.Sprintf("thread:%d", th.ID):    "forbidden",
		"channel:999999":                   "forbidden",
		"nonsense":                         "unknown_room",
		"user:01":                          "unknown_room",
	} {
		if f := ws.subscribe(room, nil); f.Op != "error" || f.Code != code {
			t.Errorf("subscribe %s: %+v, want error %s", room, f, code)
		}
	}
	if f := ws.subscribe(fmt.Sprintf("user:%d", me.ID), nil); f.Op != "subscribed" {
		t.Errorf("own user room: %+v", f)
	}
	for raw, code := range map[string]string{`{"op":`: "bad_frame", `[1,2]`: "bad_frame", `{"op":"dance"}`: "unknown_op"} {
		ws.c.Write(context.Background(), websocket.MessageText, []byte(raw))
		if f := ws.next(); f.Op != "error" || f.Code != code {
			t.Errorf("frame %s: %+v", raw, f)
		}
	}
	ws.c.Write(context.Background(), websocket.MessageBinary, []byte{1, 2, 3})
	if f := ws.next(); f.Code != "bad_frame" {
		t.Errorf("binary frame: %+v", f)
	}
	ws.send(map[string]string{"op": "typing", "room": "chat"})
	if f := ws.next(); f.Code != "not_subscribed" {
		t.Errorf("typing unsubscribed: %+v", f)
	}
	// A frame over 4 KiB closes the connection with 1009.
	ws.c.Write(context.Background(), websocket.MessageText, []byte(`{"op":"ping","pad":"`+strings.Repeat("x", 5000)+`"}`))
	_, err := ws.readErr()
	if websocket.CloseStatus(err) != websocket.StatusMessageTooBig {
		t.Fatalf("oversized frame: %v", err)
	}
	// The server is still fine.
	if f := e.connect(tok).subscribe("chat", nil); f.Op != "subscribed" {
		t.Fatalf("after a bad client: %+v", f)
	}
}

func TestRealtimeFloodIsCut(t *testing.T) {
	e := newEnv(t, sqldbtest.OpenSQLite(t, sqldb.Config{}))
	tok, _ := e.signup("eli")
	ws := e.connect(tok)
	write := func(n int) {
		for range n {
			if err := ws.c.Write(context.Background(), websocket.MessageText, []byte(`{"op":"ping"}`)); err != nil {
				return
			}
		}
	}
	// Over the burst (20) but far from the cut-off: errors, no close.
	write(30)
	pongs, limited := 0, 0
	for pongs+limited < 30 {
		switch f := ws.read(); {
		case f.Op == "pong":
			pongs++
		case f.Code == "rate_limited":
			limited++
		}
	}
	if limited < 5 || pongs < 20 {
		t.Fatalf("%d pongs and %d rate_limited errors for 30 pings", pongs, limited)
	}
	// A sustained flood is cut.
	write(300)
	for {
		if _, err := ws.readErr(); err != nil {
			// 4002, or a reset or EOF: the server closes a socket that still
			// holds the flood's unread frames, and the kernel's RST or FIN
			// may overtake the close frame. Either way the server cut it.
			if websocket.CloseStatus(err) != 4002 && !strings.Contains(err.Error(), "reset by peer") && !strings.Contains(err.Error(), "EOF") {
				t.Fatalf("closed with %v, want 4002", err)
			}
			return
		}
	}
}

func TestRealtimePresenceTypingAndDMs(t *testing.T) {
	e := newEnv(t, sqldbtest.OpenSQLite(t, sqldb.Config{}))
	aTok, a := e.signup("fay")
	bTok, b := e.signup("gil")
	wa, wb := e.connect(aTok), e.connect(bTok)
	if f := wa.subscribe("chat", nil); f.Op != "subscribed" || f.OnlineCount != 1 {
		t.Fatalf("a subscribed %+v", f)
	}
	if f := wb.subscribe("chat", nil); f.Op != "subscribed" || f.OnlineCount != 2 || len(f.Online) != 2 {
		t.Fatalf("b subscribed %+v", f)
	}
	// a hears both arrivals, its own and b's, in one announcement or two.
	joined := map[int64]bool{}
	for len(joined) < 2 {
		f := wa.next()
		if f.Type != "presence" {
			t.Fatalf("want presence, got %+v", f)
		}
		for _, id := range presenceOf(t, f).Joined {
			joined[id] = true
		}
	}
	if !joined[a.ID] || !joined[b.ID] {
		t.Fatalf("joins %v", joined)
	}
	for seen := false; !seen; { // b hears its own arrival
		f := wb.read()
		if f.Type != "presence" {
			t.Fatalf("b: %+v", f)
		}
		seen = slices.Contains(presenceOf(t, f).Joined, b.ID)
	}
	wb.send(map[string]string{"op": "typing", "room": "chat"})
	if f := wa.next(); f.Type != "typing" || f.Seq != 0 || !strings.Contains(string(f.Data), fmt.Sprint(b.ID)) {
		t.Fatalf("typing %+v", f)
	}
	// A shout goes to chat with a seq.
	e.must(201, e.do("POST", "/api/shouts", map[string]string{"body": "hey all"}, bTok))
	if f := wa.next("typing"); f.Type != "shout.created" || f.Seq != 1 {
		t.Fatalf("shout %+v", f)
	}
	// A DM reaches the recipient's own room.
	var th struct{ ID int64 }
	e.must(201, e.do("POST", "/api/messages/threads", map[string]int64{"userId": a.ID}, bTok)).json(&th)
	e.must(201, e.do("POST", fmt.Sprintf("/api/messages/threads/%d/messages", th.ID), map[string]string{"body": "psst"}, bTok))
	if f := wa.next("typing", "shout.created"); f.Type != "dm.received" || f.Room != fmt.Sprintf("user:%d", a.ID) || !strings.Contains(string(f.Data), "psst") {
		t.Fatalf("dm %+v", f)
	}
	wb.c.Close(websocket.StatusNormalClosure, "")
	if f := wa.next("typing", "shout.created"); f.Type != "presence" || !slices.Equal(presenceOf(t, f).Left, []int64{b.ID}) {
		t.Fatalf("b's leaving: %+v", f)
	}
}

type presenceData struct{ Joined, Left []int64 }

func presenceOf(t *testing.T, f frame) presenceData {
	t.Helper()
	var p presenceData
	if err := json.Unmarshal(f.Data, &p); err != nil || p.Joined == nil || p.Left == nil {
		t.Fatalf("presence data %s: %v", f.Data, err)
	}
	return p
}

func TestRealtimeAdmission(t *testing.T) {
	e := newEnv(t, sqldbtest.OpenSQLite(t, sqldb.Config{}))
	tok, _ := e.signup("hal")
	if _, res, err := e.dial("", nil); err == nil || res == nil || res.StatusCode != 401 {
		t.Fatalf("no token: %v %v", err, res)
	}
	if _, res, err := e.dial(tok, http.Header{"Origin": {"https://evil.example"}}); err == nil || res.StatusCode != 403 {
		t.Fatalf("foreign origin: %v", err)
	}
	var open []*wsClient
	for i := range 10 {
		ws, res, err := e.dial(tok, nil)
		if err != nil {
			t.Fatalf("connection %d: %v %+v", i, err, res)
		}
		open = append(open, ws)
	}
	if _, res, err := e.dial(tok, nil); err == nil || res.StatusCode != 429 {
		t.Fatalf("11th connection: %v", err)
	}
	// Shutdown tells clients the server is going away.
	ws := open[0]
	ws.read() // the automatic user-room subscription
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	go e.hub.Close(ctx)
	_, err := ws.readErr()
	if websocket.CloseStatus(err) != websocket.StatusGoingAway {
		t.Fatalf("on shutdown: %v", err)
	}
	if _, _, err := e.dial(tok, nil); err == nil {
		t.Fatal("connection accepted after shutdown began")
	}
}

// closedWith reads until the connection closes and returns the close code.
func (w *wsClient) closedWith() websocket.StatusCode {
	w.t.Helper()
	for {
		if _, err := w.readErr(); err != nil {
			return websocket.CloseStatus(err)
		}
	}
}

// Ending a session closes the WebSockets opened with it (4003), on every
// path that ends one, and leaves the user's other connections open.
func TestSessionEndClosesWebSockets(t *testing.T) {
	sqldbtest.ForEach(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		phone, _ := e.signup("gus")
		laptop, _ := e.login("gus", pw, "")
		onPhone, onLaptop := e.connect(phone), e.connect(laptop)

		var sessions struct {
			Items []struct {
				ID      int64
				Current bool
			}
		}
		e.must(200, e.do("GET", "/api/auth/sessions", nil, laptop)).json(&sessions)
		var phoneID int64
		for _, s := range sessions.Items {
			if !s.Current {
				phoneID = s.ID
			}
		}
		e.must(204, e.do("DELETE", fmt.Sprintf("/api/auth/sessions/%d", phoneID), nil, laptop))
		if f := onLaptop.next("presence"); f.Type != "session.revoked" || !strings.Contains(string(f.Data), fmt.Sprint(phoneID)) {
			t.Fatalf("laptop should hear of the revocation: %+v", f)
		}
		if code := onPhone.closedWith(); code != 4003 {
			t.Fatalf("revoked session's socket closed with %d, want 4003", code)
		}
		if _, _, err := e.dial(phone, nil); err == nil {
			t.Fatal("a revoked token opened a WebSocket")
		}
		onLaptop.send(map[string]string{"op": "ping"})
		if f := onLaptop.next("session.revoked"); f.Op != "pong" {
			t.Fatalf("laptop socket should stay open: %+v", f)
		}

		// Logout ends the laptop's too.
		e.must(204, e.do("POST", "/api/auth/logout", nil, laptop))
		if code := onLaptop.closedWith(); code != 4003 {
			t.Fatalf("logged-out socket closed with %d, want 4003", code)
		}

		// A password reset ends every session at once.
		a, _ := e.login("gus", pw, "")
		b, _ := e.login("gus", pw, "")
		onA, onB := e.connect(a), e.connect(b)
		e.must(202, e.do("POST", "/api/auth/password-reset", map[string]string{"email": "gus@example.com"}, ""))
		reset := match(t, resetRE, e.waitMail("gus@example.com", "Reset your"))
		e.must(204, e.do("POST", "/api/auth/password-reset/confirm", map[string]string{"token": reset, "password": "a new long secret"}, ""))
		for _, ws := range []*wsClient{onA, onB} {
			if code := ws.closedWith(); code != 4003 {
				t.Fatalf("socket after password reset closed with %d, want 4003", code)
			}
		}
	})
}

// A socket cannot outlive its session: its own user room (which carries
// session.revoked) cannot be left, so logout closes it even if it tried;
// ten such sockets give their slots back when the session ends; and a
// subscribe on a session that ended without an announcement reaching the
// socket closes it (4003) instead of joining.
func TestRealtimeSocketDoesNotOutliveItsSession(t *testing.T) {
	sqldbtest.ForEach(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		tok, me := e.signup("ivy")
		userRoom := fmt.Sprintf("user:%d", me.ID)
		var socks []*wsClient
		for range 10 { // PLAZA_WS_MAX_PER_USER
			ws := e.connect(tok)
			ws.send(map[string]string{"op": "unsubscribe", "room": userRoom})
			if f := ws.next("presence"); f.Op != "error" || f.Code != "forbidden" || f.Room != userRoom {
				t.Fatalf("leaving the user room: %+v", f)
			}
			socks = append(socks, ws)
		}
		e.must(204, e.do("POST", "/api/auth/logout", nil, tok))
		for i, ws := range socks {
			if code := ws.closedWith(); code != 4003 {
				t.Fatalf("socket %d after logout closed with %d, want 4003", i, code)
			}
		}
		// The slots are free again: the owner signs in and connects.
		tok, _ = e.login("ivy", pw, "")
		deadline := time.Now().Add(5 * time.Second)
		for {
			ws, res, err := e.dial(tok, nil)
			if err == nil {
				ws.c.CloseNow()
				break
			}
			if res == nil || res.StatusCode != 429 || time.Now().After(deadline) {
				t.Fatalf("connecting after the revoked sockets closed: %v %+v", err, res)
			}
			time.Sleep(20 * time.Millisecond)
		}

		// The session expires; the socket has not been told yet (its own
		// timer runs on the real clock): its next subscribe ends it.
		ws := e.connect(tok)
		e.clock.Advance(31 * 24 * time.Hour)
		ws.send(map[string]string{"op": "subscribe", "room": "chat"})
		if code := ws.closedWith(); code != 4003 {
			t.Fatalf("subscribe on an expired session: closed with %d, want 4003", code)
		}
	})
}

// A member removed from a private channel stops receiving its events at
// once (told by an unsubscribed frame) and cannot subscribe again; the
// other members keep receiving.
func TestRealtimeRemovedMemberIsUnsubscribed(t *testing.T) {
	sqldbtest.ForEach(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		adminTok, _ := e.admin("ops")
		var priv channel
		e.must(201, e.do("POST", "/api/community/channels", map[string]any{"name": "Staff", "private": true}, adminTok)).json(&priv)
		room := fmt.Sprintf("channel:%d", priv.ID)
		members := fmt.Sprintf("/api/community/channels/%d/members", priv.ID)
		amyTok, amy := e.signup("amy")
		bobTok, bob := e.signup("bob")
		for _, u := range []int64{amy.ID, bob.ID} {
			e.must(204, e.do("POST", members, map[string]int64{"userId": u}, adminTok))
		}
		onAmy, onBob := e.connect(amyTok), e.connect(bobTok)
		for _, ws := range []*wsClient{onAmy, onBob} {
			if f := ws.subscribe(room, nil); f.Op != "subscribed" {
				t.Fatalf("member subscribing: %+v", f)
			}
		}

		e.must(204, e.do("DELETE", fmt.Sprintf("%s/%d", members, amy.ID), nil, adminTok))
		e.must(201, e.do("POST", fmt.Sprintf("/api/community/channels/%d/messages", priv.ID), map[string]string{"body": "after amy left"}, adminTok))
		if f := onBob.next("presence"); f.Type != "message.created" || f.Room != room {
			t.Fatalf("bob, still a member: %+v", f)
		}
		if f := onAmy.next("presence"); f.Op != "unsubscribed" || f.Room != room || f.Reason != "forbidden" {
			t.Fatalf("amy should be told she is out: %+v", f)
		}
		onAmy.send(map[string]string{"op": "ping"})
		if f := onAmy.next("presence"); f.Op != "pong" {
			t.Fatalf("amy got %+v after her removal, want nothing of the channel", f)
		}
		if f := onAmy.subscribe(room, nil); f.Op != "error" || f.Code != "forbidden" {
			t.Fatalf("amy subscribing again: %+v", f)
		}
	})
}

// since ahead of the room (a client that saw seqs this server no longer
// has) gets resync; a negative since is a bad frame.
func TestRealtimeSinceOutOfRange(t *testing.T) {
	e := newEnv(t, sqldbtest.OpenSQLite(t, sqldb.Config{}))
	tok, _ := e.signup("jon")
	e.must(201, e.do("POST", "/api/shouts", map[string]string{"body": "one"}, tok))
	ws := e.connect(tok)
	if f := ws.subscribe("chat", ptr(40)); f.Op != "subscribed" || f.Seq != 1 {
		t.Fatalf("subscribed %+v", f)
	}
	if f := ws.next("presence"); f.Op != "resync" || f.Room != "chat" {
		t.Fatalf("since beyond the room: %+v, want resync", f)
	}
	ws2 := e.connect(tok)
	if f := ws2.subscribe("chat", ptr(-1)); f.Op != "error" || f.Code != "bad_frame" || f.Room != "chat" {
		t.Fatalf("negative since: %+v", f)
	}
}

// A GET on /api/ws that is no WebSocket handshake gets the JSON error
// format, not the upgrader's plain text.
func TestRealtimePlainGetIsJSONError(t *testing.T) {
	e := newEnv(t, sqldbtest.OpenSQLite(t, sqldb.Config{}))
	tok, _ := e.signup("kim")
	for name, headers := range map[string][]string{
		"plain":       nil,
		"old version": {"Connection", "Upgrade", "Upgrade", "websocket", "Sec-WebSocket-Version", "8", "Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="},
		"no key":      {"Connection", "keep-alive, Upgrade", "Upgrade", "websocket", "Sec-WebSocket-Version", "13"},
	} {
		r := e.must(400, e.do("GET", "/api/ws", nil, tok, headers...))
		if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") || r.code() != "bad_request" {
			t.Errorf("%s: %s %s", name, ct, r.body)
		}
	}
}
