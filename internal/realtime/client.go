package realtime

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/lxzan/gws"
	"github.com/plazahq/plaza/internal/account"
	"github.com/plazahq/plaza/internal/apperr"
)

// client is one WebSocket connection.
type client struct {
	hub    *Hub
	socket *gws.Conn
	user   account.User
	check  func(context.Context) (time.Time, error)
	valid  func(context.Context) error

	checkMu  sync.Mutex
	checking bool // a session check is running
	again    bool // another was asked for meanwhile

	mu       sync.Mutex
	rooms    map[string]*sub
	tokens   float64
	tokensAt time.Time
	strikes  int

	outMu       sync.Mutex
	out         [][]byte // framed messages waiting for the writer (writer.go)
	writing     bool     // a writer has the connection (queued or running)
	closeCode   uint16   // kick's close frame, written once the outbox is empty
	closeReason string
	closeSent   bool
	listed      bool            // in the hub's later list (writer.go)
	raw         syscall.RawConn // the socket, for non-blocking writes (nil: not a plain socket)

	// recheckAt is when the keepalive sweep checks the session again
	// (unix nanos; 0: never): at its expiry, or a retry after a failed
	// check. One sweep for every connection, not a timer each.
	recheckAt atomic.Int64

	queued   atomic.Int64 // frames queued, not yet written
	lastSeen atomic.Int64 // unix nanos of the last frame from the client
	closed   atomic.Bool
}

// sub is a connection's subscription to a room. While the missed events
// are replayed, live ones wait in pending, so the client gets both in order;
// they wait there too while a re-authorization checks the connection
// (held), so none reaches a subscriber about to be dropped.
type sub struct {
	replaying bool
	held      int // re-authorizations under way
	pending   []Event
	last      int64 // last seq sent
	left      bool  // taken out of the connection's rooms; the hub's room may not know yet
	// start is the seq the subscription began after: the room's events up
	// to it were never sent on this connection (a later subscribe with an
	// older since replays them; see resubscribe).
	start int64
}

func newClient(h *Hub, socket *gws.Conn, id Identity) *client {
	c := &client{hub: h, socket: socket, user: id.User, check: id.Check, valid: id.Valid,
		rooms: map[string]*sub{}, tokens: float64(h.cfg.InboundBurst), tokensAt: time.Now()}
	c.lastSeen.Store(time.Now().UnixNano())
	if sc, ok := socket.NetConn().(syscall.Conn); ok {
		c.raw, _ = sc.SyscallConn()
	}
	return c
}

// write queues a JSON frame (framing it for this connection alone).
// Callers hold c.mu.
func (c *client) write(frame []byte) { c.writeWire(wireFrame(frame), nil, false) }

// writeWire queues a framed message (wireFrame); a connection that lets its
// queue overflow is dropped rather than allowed to hold anything up.
// Callers hold c.mu, so frames of one connection are queued in order.
// ready collects the connection if this frame makes it ready (a fan-out
// hands them to the writers together); nil: it goes to a writer at once.
// A frame that can wait (an ephemeral event) joins the connection's next
// write, or the hub's writeLater.
func (c *client) writeWire(wire []byte, ready *readyList, canWait bool) {
	if c.closed.Load() {
		return
	}
	if c.queued.Add(1) > int64(c.hub.cfg.SendQueue) {
		c.queued.Add(-1)
		c.hub.dropped.Add(1)
		go c.drop("slow consumer: " + strconv.Itoa(c.hub.cfg.SendQueue) + " frames behind")
		return
	}
	if canWait && c.hub.cfg.EphemeralDelay > 0 {
		c.enqueueLater(wire)
		return
	}
	c.enqueue(wire, ready)
}

// writeEvent queues an event, framed once for every subscriber of its
// room (Event.wire) when the hub framed it. Ephemeral events (no seq:
// typing, presence) can wait for the connection's next write.
func (c *client) writeEvent(e *Event, ready *readyList) {
	if e.wire == nil {
		e.wire = wireFrame(e.Frame)
	}
	c.writeWire(e.wire, ready, e.Seq == 0)
}

func (c *client) send(v any) {
	b, _ := json.Marshal(v)
	c.mu.Lock()
	c.write(b)
	c.mu.Unlock()
}

func (c *client) sendError(code, message, room string) {
	c.send(errorFrame{Op: "error", Code: code, Message: message, Room: room})
}

// deliver passes a room event to the connection, subscribed to its room by
// s (called by the hub's fan-out, which hands the connections collected in
// ready to the writers).
func (c *client) deliver(s *sub, e *Event, ready *readyList) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case s.left:
	case s.replaying || s.held > 0:
		if len(s.pending) >= c.hub.cfg.SendQueue {
			c.hub.dropped.Add(1)
			go c.drop("slow consumer: fell behind during replay")
			return
		}
		s.pending = append(s.pending, *e)
	case e.Seq == 0:
		c.writeEvent(e, ready)
	case e.Seq > s.last:
		s.last = e.Seq
		c.writeEvent(e, ready)
	}
}

// recheck asks whether the connection's session still holds and closes
// the connection if not. Checks asked for while one runs are folded into
// one more run after it, so a revocation committed during a check is not
// missed.
func (c *client) recheck() {
	if c.check == nil {
		return
	}
	c.checkMu.Lock()
	if c.checking {
		c.again = true
		c.checkMu.Unlock()
		return
	}
	c.checking = true
	c.checkMu.Unlock()
	for {
		c.checkOnce()
		c.checkMu.Lock()
		if !c.again || c.closed.Load() {
			c.checking, c.again = false, false
			c.checkMu.Unlock()
			return
		}
		c.again = false
		c.checkMu.Unlock()
	}
}

func (c *client) checkOnce() {
	if c.closed.Load() {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	expires, err := c.check(ctx)
	if err == nil {
		c.watchExpiry(expires)
		return
	}
	if !c.ended(err) {
		// The database did not answer: keep the connection (failing
		// closed would drop everyone in an outage) and ask again soon.
		c.hub.log.Warn("realtime: session check failed; retrying", "user", c.user.ID, "err", err)
		c.recheckIn(10 * time.Second)
	}
}

// ended closes the connection (4003) if err says its session no longer
// holds, and reports whether it did.
func (c *client) ended(err error) bool {
	switch apperr.From(err).Code {
	case apperr.Unauthorized:
		c.kick(CloseEnded, "session ended; sign in again")
	case apperr.Banned:
		c.kick(CloseEnded, "this account is banned")
	default:
		return false
	}
	return true
}

// watchExpiry re-checks the session when it is due to expire.
func (c *client) watchExpiry(at time.Time) {
	if at.IsZero() || c.check == nil {
		return
	}
	c.recheckIn(time.Until(at) + time.Second)
}

// recheckIn has the keepalive sweep check the session d from now (within
// its sweep interval), replacing what was scheduled before.
func (c *client) recheckIn(d time.Duration) {
	if c.closed.Load() {
		return
	}
	c.recheckAt.Store(time.Now().Add(max(d, 0)).UnixNano())
}

// recheckDue starts the scheduled session check if it is due at now.
func (c *client) recheckDue(now int64) {
	at := c.recheckAt.Load()
	if at != 0 && now >= at && c.recheckAt.CompareAndSwap(at, 0) && !c.closed.Load() {
		go c.recheck()
	}
}

// kick closes the connection with a code and reason. The close frame is
// queued behind the frames already waiting, so the client reads them (an
// error, say) before the close; a socket that does not drain within two
// seconds is cut.
func (c *client) kick(code uint16, reason string) {
	if !c.closed.CompareAndSwap(false, true) {
		return
	}
	c.outMu.Lock()
	c.closeCode, c.closeReason = code, reason
	start := !c.writing
	c.writing = true
	c.outMu.Unlock()
	if start {
		c.hub.dispatch([]*client{c})
	}
	time.AfterFunc(2*time.Second, func() { c.socket.NetConn().Close() })
}

// drop cuts a connection that fell behind: its queue is full, so a close
// frame behind it would never be sent; one is written directly instead.
func (c *client) drop(reason string) {
	if !c.closed.CompareAndSwap(false, true) {
		return
	}
	c.socket.SetDeadline(time.Now().Add(time.Second))
	c.socket.WriteClose(CloseSlow, []byte(reason))
	c.socket.NetConn().Close()
}

// Frames.
type inFrame struct {
	Op    string `json:"op"`
	Room  string `json:"room"`
	Since *int64 `json:"since"`
}

type errorFrame struct {
	Op      string `json:"op"`
	Code    string `json:"code"`
	Message string `json:"message"`
	Room    string `json:"room,omitempty"`
}

type subscribedFrame struct {
	Op          string  `json:"op"`
	Room        string  `json:"room"`
	Seq         int64   `json:"seq"`
	Online      []int64 `json:"online,omitempty"`
	OnlineCount int     `json:"onlineCount,omitempty"`
}

type roomFrame struct {
	Op     string `json:"op"`
	Room   string `json:"room,omitempty"`
	Reason string `json:"reason,omitempty"` // why the server unsubscribed the client
}

// allow applies the inbound rate (a token bucket).
func (c *client) allow(now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.tokens += now.Sub(c.tokensAt).Seconds() * c.hub.cfg.InboundRate
	c.tokens = min(c.tokens, float64(c.hub.cfg.InboundBurst))
	c.tokensAt = now
	if c.tokens >= 1 {
		c.tokens--
		c.strikes = 0
		return true
	}
	c.strikes++
	return false
}

func (c *client) handle(data []byte) {
	now := time.Now()
	c.lastSeen.Store(now.UnixNano())
	c.hub.inbound.Add(1)
	if !c.allow(now) {
		c.mu.Lock()
		strikes := c.strikes
		c.mu.Unlock()
		if strikes > 2*c.hub.cfg.InboundBurst {
			c.kick(CloseFlood, "message rate exceeded")
			return
		}
		c.sendError("rate_limited", "too many frames; at most "+strconv.FormatFloat(c.hub.cfg.InboundRate, 'f', -1, 64)+" per second", "")
		return
	}
	var f inFrame
	if err := json.Unmarshal(data, &f); err != nil {
		c.sendError("bad_frame", "frames are JSON objects like {\"op\":\"subscribe\",\"room\":\"chat\"}", "")
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	switch f.Op {
	case "ping":
		c.send(roomFrame{Op: "pong"})
	case "subscribe":
		c.subscribe(ctx, f.Room, f.Since)
	case "unsubscribe":
		if f.Room == account.UserRoom(c.user.ID) {
			// It carries session.revoked: a connection that could leave it
			// would outlive its session.
			c.sendError("forbidden", "your own user room cannot be left; close the connection instead", f.Room)
			return
		}
		c.unsubscribe(f.Room, true)
	case "typing":
		c.typing(ctx, f.Room)
	default:
		c.sendError("unknown_op", "op must be subscribe, unsubscribe, typing or ping", "")
	}
}

// subscribe answers a subscribe frame. The connection may have outlived
// its session (a revocation whose announcement it missed), so the session
// is checked first; then the room's own authorization decides.
func (c *client) subscribe(ctx context.Context, room string, since *int64) {
	if !ValidRoom(room) {
		c.sendError("unknown_room", "rooms are user:{id}, channel:{id}, thread:{id}, live-stream, chat, leaderboard", room)
		return
	}
	if since != nil && *since < 0 {
		c.sendError("bad_frame", "since is the last seq you received: 0 or more", room)
		return
	}
	if holds, err := c.sessionHolds(ctx); !holds {
		if err != nil {
			c.hub.log.Warn("realtime: session check before a subscribe failed", "user", c.user.ID, "err", err)
			c.sendError("unavailable", "could not check your session; subscribe again", room)
		}
		return
	}
	c.enter(ctx, room, since)
}

// sessionHolds asks the cheap session check (Identity.Valid). A session
// that ended closes the connection (4003): false and no error. A check
// that could not be made: false and its error, the connection kept.
func (c *client) sessionHolds(ctx context.Context) (bool, error) {
	if c.valid == nil {
		return true, nil
	}
	err := c.valid(ctx)
	if err == nil || c.ended(err) {
		return err == nil, nil
	}
	return false, err
}

// authorized asks the room's authorization, answering the client if it
// refuses.
func (c *client) authorized(ctx context.Context, room string) bool {
	err := c.hub.auth.CanJoin(ctx, c.user, room)
	if err == nil {
		return true
	}
	e := apperr.From(err)
	if e.Code == apperr.Internal {
		c.hub.log.Error("room authorization failed", "room", room, "err", err)
	}
	c.sendError(string(e.Code), e.Message, room)
	return false
}

// enter authorizes, joins, replays what the client missed since since (or
// says resync), then switches to live events.
func (c *client) enter(ctx context.Context, room string, since *int64) {
	c.mu.Lock()
	s, already := c.rooms[room]
	n := len(c.rooms)
	c.mu.Unlock()
	if already {
		c.resubscribe(ctx, room, s, since)
		return
	}
	if n >= c.hub.cfg.MaxRooms {
		c.sendError("too_many_rooms", "at most "+strconv.Itoa(c.hub.cfg.MaxRooms)+" rooms per connection", room)
		return
	}
	reauths := c.hub.reauths.Load()
	if !c.authorized(ctx, room) {
		return
	}
	s = &sub{replaying: true}
	c.mu.Lock()
	c.rooms[room] = s
	c.mu.Unlock()
	if first, size := c.hub.join(room, c, s); first {
		// Recorded before counting who is online below; the announcement
		// reaches this client after its replay, like any live event.
		c.hub.presence(room, true, c.user.ID, size)
	}
	// A re-authorization that arrived while this connection was being
	// authorized may have passed it over (it was no subscriber yet) after
	// the answer above was read: ask again. One arriving from now on finds
	// it among the room's subscribers.
	if c.hub.reauths.Load() != reauths && !c.authorized(ctx, room) {
		c.unsubscribe(room, false)
		return
	}

	from := int64(1 << 62) // no since: start from now
	if since != nil {
		from = *since
	}
	events, cur, ok, err := c.hub.broker.Since(ctx, room, from)
	if err != nil {
		c.unsubscribe(room, false)
		c.sendError("unavailable", "could not read the room's history; subscribe again", room)
		return
	}
	sf := subscribedFrame{Op: "subscribed", Room: room, Seq: cur}
	if !strings.HasPrefix(room, "user:") { // a user's own room is private: not listed
		sf.Online, sf.OnlineCount = c.hub.online(ctx, room, 100)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.rooms[room] != s {
		return // a re-authorization dropped it meanwhile, and said so
	}
	c.write(mustJSON(sf))
	switch {
	case since == nil:
		s.last, s.start = cur, cur
	case !ok || from > cur:
		// Too old for the history, or ahead of the room (the client saw
		// seqs of a history this server no longer has, e.g. in-memory seqs
		// before a restart): either way what it holds cannot be continued.
		c.write(mustJSON(roomFrame{Op: "resync", Room: room}))
		s.last, s.start = cur, cur
	default:
		s.last, s.start = from, from
		s.pending = append(events, s.pending...) // the replay, then what arrived during it
	}
	s.replaying = false
	if s.held == 0 {
		c.flush(s)
	}
}

// resubscribe answers a subscribe to a room the connection is in already.
// Its user room is one: the server joins it when the connection opens, so
// a client that reconnects can only ask for what it missed there this
// way. With a since older than where the subscription began, the events
// in between (never sent on this connection) are replayed, each once; if
// the history no longer holds them, resync. Live events the connection
// had before this frame are not sent again, so a replayed event may follow
// a live one with a higher seq: a client that subscribes with since as
// its first frame gets them in order.
func (c *client) resubscribe(ctx context.Context, room string, s *sub, since *int64) {
	var (
		events []Event
		ok     = true
	)
	c.mu.Lock()
	start := s.start
	c.mu.Unlock()
	if since != nil && *since < start {
		var err error
		if events, _, ok, err = c.hub.broker.Since(ctx, room, *since); err != nil {
			c.sendError("unavailable", "could not read the room's history; subscribe again", room)
			return
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.rooms[room] != s {
		return // left meanwhile
	}
	c.write(mustJSON(subscribedFrame{Op: "subscribed", Room: room, Seq: s.last}))
	if since == nil || *since >= s.start {
		return
	}
	if !ok {
		c.write(mustJSON(roomFrame{Op: "resync", Room: room}))
		return
	}
	for i := range events {
		if e := &events[i]; e.Seq > *since && e.Seq <= s.start {
			c.writeEvent(e, nil)
		}
	}
	s.start = *since
}

// flush sends what waited in s.pending, in seq order, without duplicates;
// c.mu is held.
func (c *client) flush(s *sub) {
	for i := range s.pending {
		e := &s.pending[i]
		if e.Seq == 0 || e.Seq > s.last {
			c.writeEvent(e, nil)
			s.last = max(s.last, e.Seq)
		}
	}
	s.pending = nil
}

// hold makes room's events wait for the connection while a
// re-authorization checks it, and returns the subscription held (nil if
// there is none); the caller holds the room's lock.
func (c *client) hold(room string) *sub {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.rooms[room]
	if s != nil {
		s.held++
	}
	return s
}

// release ends a hold on s, a subscription to room, with the answer of the
// room's authorization: allowed, the events that waited follow; refused
// (or unanswered: failing open would leave a removed member reading), the
// subscription ends and the client is told why.
func (c *client) release(room string, s *sub, err error) {
	c.mu.Lock()
	if c.rooms[room] != s {
		c.mu.Unlock()
		return // unsubscribed meanwhile
	}
	if err == nil {
		if s.held--; s.held == 0 && !s.replaying {
			c.flush(s)
		}
		c.mu.Unlock()
		return
	}
	delete(c.rooms, room)
	s.left = true
	reason := "forbidden"
	if code := apperr.From(err).Code; code != apperr.Forbidden && code != apperr.NotFound {
		reason = "unavailable"
	}
	c.write(mustJSON(roomFrame{Op: "unsubscribed", Room: room, Reason: reason}))
	c.mu.Unlock()
	if last, size := c.hub.leave(room, c); last {
		c.hub.presence(room, false, c.user.ID, size)
	}
}

func (c *client) unsubscribe(room string, answer bool) {
	c.mu.Lock()
	s, ok := c.rooms[room]
	if ok {
		s.left = true
		delete(c.rooms, room)
	}
	c.mu.Unlock()
	if !ok {
		if answer {
			c.sendError("not_subscribed", "not subscribed to "+room, room)
		}
		return
	}
	if last, size := c.hub.leave(room, c); last {
		c.hub.presence(room, false, c.user.ID, size)
	}
	if answer {
		c.send(roomFrame{Op: "unsubscribed", Room: room})
	}
}

func (c *client) typing(ctx context.Context, room string) {
	c.mu.Lock()
	_, ok := c.rooms[room]
	c.mu.Unlock()
	if !ok {
		c.sendError("not_subscribed", "subscribe to "+room+" before typing in it", room)
		return
	}
	if !c.hub.typingDue(room, c.user.ID, time.Now()) {
		return // sent less than TypingInterval ago: the indicator still shows
	}
	data := []byte(`{"userId":` + strconv.FormatInt(c.user.ID, 10) + `}`)
	if err := c.hub.broker.Ephemeral(ctx, room, "typing", data); err != nil {
		c.sendError("unavailable", "typing not sent", room)
	}
}

// gone cleans up after the connection ends.
func (c *client) gone() {
	c.closed.Store(true)
	c.recheckAt.Store(0)
	c.mu.Lock()
	rooms := make([]string, 0, len(c.rooms))
	for r := range c.rooms {
		rooms = append(rooms, r)
	}
	c.mu.Unlock()
	for _, r := range rooms {
		c.unsubscribe(r, false)
	}
	c.hub.remove(c)
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

// events adapts gws's callbacks to the hub.
type events struct{ h *Hub }

func clientOf(socket *gws.Conn) *client {
	v, _ := socket.Session().Load("c")
	c, _ := v.(*client)
	return c
}

func (e *events) OnOpen(*gws.Conn) {}

func (e *events) OnClose(socket *gws.Conn, _ error) {
	if c := clientOf(socket); c != nil {
		c.gone()
	}
}

func (e *events) OnPing(socket *gws.Conn, payload []byte) {
	c := clientOf(socket)
	if c == nil {
		socket.WritePong(payload)
		return
	}
	c.lastSeen.Store(time.Now().UnixNano())
	c.writeControl(frameOf(0xA, payload)) // behind the frames queued, never inside a batch
}

func (e *events) OnPong(socket *gws.Conn, _ []byte) {
	if c := clientOf(socket); c != nil {
		c.lastSeen.Store(time.Now().UnixNano())
	}
}

func (e *events) OnMessage(socket *gws.Conn, m *gws.Message) {
	defer m.Close()
	c := clientOf(socket)
	if c == nil {
		return
	}
	if m.Opcode != gws.OpcodeText {
		c.sendError("bad_frame", "send JSON text frames", "")
		return
	}
	c.handle(m.Bytes())
}

// readBufferSize is gws's read buffer per connection. Clients send small
// frames (subscribe, typing, ping: tens of bytes); a larger frame is read
// through it into a buffer of its own, so the size bounds nothing but
// memory, held for every idle connection.
const readBufferSize = 512

// sessionSlot is a connection's gws session storage: the one value Plaza
// keeps there (its client, under "c"), without the map and lock of gws's
// default storage, which every idle connection held.
type sessionSlot struct {
	mu  sync.Mutex
	key string
	val any
}

func newSessionSlot() gws.SessionStorage { return &sessionSlot{} }

func (s *sessionSlot) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.key == "" && s.val == nil {
		return 0
	}
	return 1
}

func (s *sessionSlot) Load(key string) (any, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if key != s.key || s.val == nil {
		return nil, false
	}
	return s.val, true
}

func (s *sessionSlot) Delete(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if key == s.key {
		s.key, s.val = "", nil
	}
}

// Store keeps value under key; a second key replaces the first (Plaza
// stores one).
func (s *sessionSlot) Store(key string, value any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.key, s.val = key, value
}

func (s *sessionSlot) Range(f func(key string, value any) bool) {
	s.mu.Lock()
	key, val := s.key, s.val
	s.mu.Unlock()
	if val != nil {
		f(key, val)
	}
}
