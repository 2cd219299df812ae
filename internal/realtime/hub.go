package realtime

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"hash/maphash"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lxzan/gws"
	"github.com/plazahq/plaza/internal/account"
	"github.com/plazahq/plaza/internal/apperr"
)

// sharedPresence is what a broker offers when presence spans instances
// (RedisBroker); without it, presence is this instance's subscribers.
type sharedPresence interface {
	Present(ctx context.Context, room, instance string, users []int64) error
	Absent(ctx context.Context, room, instance string, user int64) error
	Online(ctx context.Context, room string, max int) ([]int64, int, error)
}

// Authorizer decides whether a user may subscribe to a room
// (community.Service.CanJoin).
type Authorizer interface {
	CanJoin(ctx context.Context, u account.User, room string) error
}

// Config tunes the hub; zero values take the defaults.
type Config struct {
	SendQueue       int           // frames waiting for one connection before it is dropped (256)
	MaxConnsPerUser int           // (10)
	MaxConns        int           // on this instance (50,000)
	MaxRooms        int           // per connection (100)
	PingInterval    time.Duration // ping a connection this long silent (25s)
	IdleTimeout     time.Duration // close a connection this long silent (60s)
	InboundRate     float64       // client frames per second (10)
	InboundBurst    int           // (20)
	MaxFrameBytes   int           // largest client frame (4 KiB)
	PresenceLimit   int           // rooms up to this size announce joins and leaves (200)
	// PresenceWindow gathers a room's joins and leaves into one presence
	// event at most this often (500ms), so N people arriving cost each
	// subscriber one frame per window, not N.
	PresenceWindow time.Duration
	// TypingInterval: a user's typing in a room goes out at most once per
	// this (3s); the frames between are absorbed, as a typing indicator
	// lasts that long anyway.
	TypingInterval time.Duration
	// EphemeralDelay: an ephemeral event's frame (typing, presence) may
	// wait up to this long (100ms) for its connection's next write and
	// go out in that write's syscall rather than one of its own; a socket
	// write costs far more than the frame. Negative: written at once.
	EphemeralDelay time.Duration
}

func (c *Config) defaults() {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&c.SendQueue, 256)
	def(&c.MaxConnsPerUser, 10)
	def(&c.MaxConns, 50_000)
	def(&c.MaxRooms, 100)
	def(&c.InboundBurst, 20)
	def(&c.MaxFrameBytes, 4096)
	def(&c.PresenceLimit, 200)
	if c.PingInterval <= 0 {
		c.PingInterval = 25 * time.Second
	}
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = 60 * time.Second
	}
	if c.PresenceWindow <= 0 {
		c.PresenceWindow = 500 * time.Millisecond
	}
	if c.TypingInterval <= 0 {
		c.TypingInterval = 3 * time.Second
	}
	if c.EphemeralDelay == 0 {
		c.EphemeralDelay = 100 * time.Millisecond
	}
	if c.InboundRate <= 0 {
		c.InboundRate = 10
	}
}

// Close codes Plaza uses besides the standard ones.
const (
	CloseIdle  = 4000 // no frame, not even a pong, for IdleTimeout
	CloseSlow  = 4001 // the send queue overflowed
	CloseFlood = 4002 // far over the inbound rate
	CloseEnded = 4003 // the session was revoked or expired, or the account banned
)

// Identity is who a connection belongs to and how to tell when the session
// it was opened with ends.
type Identity struct {
	User    account.User
	Expires time.Time // when the session expires; zero: never
	// Check re-reads the session, bypassing caches, and returns its expiry,
	// or an error of kind Unauthorized or Banned when it no longer holds.
	// The connection calls it when its user's room announces a revoked
	// session, and at expiry. Nil: never re-checked.
	Check func(ctx context.Context) (expires time.Time, err error)
	// Valid is the cheap check that the session still holds, asked once
	// the connection is in its user's room and before every subscribe: it
	// may answer from a cache, as long as ending the
	// session drops that cache (account.Service.ValidSession). An error of
	// kind Unauthorized or Banned closes the connection with 4003; any other
	// refuses the subscribe with unavailable. Nil: not checked.
	Valid func(ctx context.Context) error
}

const hubShards = 64

// Hub holds this instance's connections and rooms.
type Hub struct {
	cfg      Config
	broker   Broker
	auth     Authorizer
	log      *slog.Logger
	upgrader *gws.Upgrader
	seed     maphash.Seed
	instance string // names this instance in shared presence
	shared   sharedPresence
	shards   [hubShards]struct {
		mu    sync.RWMutex
		rooms map[string]*hubRoom
	}

	connsMu  sync.Mutex
	conns    map[*client]struct{}
	perUser  map[int64]int // connections and reservations per user
	reserved int           // admitted, not yet upgraded
	closing  atomic.Bool

	// Stats.
	connections atomic.Int64
	delivered   atomic.Int64
	writes      atomic.Int64 // batches written: one Write each (writer.go)
	dropped     atomic.Int64 // slow consumers disconnected
	resyncs     atomic.Int64 // rooms told to resync after an unfillable gap
	inbound     atomic.Int64

	// reauths counts the re-authorizations received; a subscribe that
	// sees it move while it authorizes asks again (see client.subscribe).
	reauths atomic.Int64

	presMu  sync.Mutex
	pending map[string]*presenceBatch // rooms with joins or leaves not yet announced

	ready chan []*client // connections with frames to write, for the writers (writer.go)
	free  chan []*client // chunks written, for the next fan-out to fill (writer.go)

	laterMu sync.Mutex
	later   []*client // connections holding only ephemeral frames, written at the next writeLater (writer.go)

	stop chan struct{}
	wg   sync.WaitGroup
}

// presenceBatch is what changed in a room's presence since its last
// announcement.
type presenceBatch struct {
	joined, left map[int64]bool
}

type hubRoom struct {
	mu     sync.Mutex
	subs   map[*client]*sub // each subscriber with its subscription, so a fan-out needs no lookup of its own
	online map[int64]int    // user -> connections subscribed
	typing map[int64]int64  // user -> unix nanos of the last typing sent (nil until someone types)

	// The room's walk: events (and re-authorizations) wait in queue, in
	// the order the broker delivered them, for the one goroutine that
	// walks the subscribers (Hub.walk), so the publisher (a POST's
	// request goroutine, the Redis listener) does not wait for a walk of
	// thousands of subscribers, nor for the walk of the event before.
	qMu     sync.Mutex
	queue   []Event
	walking bool  // a walk has the queue
	lastSeq int64 // of the last event queued
}

// typingDue reports whether userID's typing in room goes out now (and
// records it): at most once per user and room per TypingInterval, across
// the user's connections on this instance. No database is asked.
func (h *Hub) typingDue(room string, userID int64, now time.Time) bool {
	sh := h.shard(room)
	sh.mu.RLock()
	r := sh.rooms[room]
	sh.mu.RUnlock()
	if r == nil {
		return false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if last, ok := r.typing[userID]; ok && now.UnixNano()-last < int64(h.cfg.TypingInterval) {
		return false
	}
	if r.typing == nil {
		r.typing = map[int64]int64{}
	}
	r.typing[userID] = now.UnixNano()
	return true
}

// NewHub returns a hub publishing through broker.
func NewHub(cfg Config, broker Broker, auth Authorizer, log *slog.Logger) *Hub {
	cfg.defaults()
	h := &Hub{cfg: cfg, broker: broker, auth: auth, log: log, seed: maphash.MakeSeed(),
		conns: map[*client]struct{}{}, perUser: map[int64]int{}, pending: map[string]*presenceBatch{}, stop: make(chan struct{}),
		ready: make(chan []*client, 1024), free: make(chan []*client, freeChunks)}
	h.shared, _ = broker.(sharedPresence)
	var b [8]byte
	rand.Read(b[:])
	h.instance = hex.EncodeToString(b[:])
	for i := range h.shards {
		h.shards[i].rooms = map[string]*hubRoom{}
	}
	for range writers() {
		h.wg.Add(1)
		go h.runWriter()
	}
	h.upgrader = gws.NewUpgrader(&events{h}, &gws.ServerOption{
		ReadMaxPayloadSize:  cfg.MaxFrameBytes,
		ReadBufferSize:      readBufferSize,
		WriteBufferSize:     1024,
		WriteMaxPayloadSize: 1 << 20,
		CheckUtf8Enabled:    true,
		NewSession:          newSessionSlot,
		Recovery:            gws.Recovery,
		HandshakeTimeout:    10 * time.Second,
	})
	return h
}

// Start begins receiving events and the keepalive sweep.
func (h *Hub) Start() error {
	if err := h.broker.Start(h.deliver); err != nil {
		return err
	}
	h.wg.Add(1)
	go h.keepalive()
	return nil
}

// Publish encodes data and publishes it to room (after a committed write).
func (h *Hub) Publish(ctx context.Context, room, typ string, data any) error {
	b, err := json.Marshal(data)
	if err != nil {
		return err
	}
	_, err = h.broker.Publish(ctx, room, typ, b)
	return err
}

// PublishRemoval publishes the removal of an item (typ and data: e.g.
// message.deleted) to room after purging the item's earlier events from
// the room's history on every instance, so a client reconnecting with
// since never replays its body; the removal itself is replayed, so a page
// that still shows the item drops it. kind and id name the item as
// Subject describes. A failed purge does not stop the removal's event.
func (h *Hub) PublishRemoval(ctx context.Context, room, typ string, data any, kind string, id int64) error {
	_, perr := h.broker.Purge(ctx, room, Subject{Kind: kind, ID: id})
	return errors.Join(perr, h.Publish(ctx, room, typ, data))
}

// reauthorizeType names the control message that re-checks a room's
// subscribers.
const reauthorizeType = "reauthorize"

// reauthorization is a reauthorize control message's data.
type reauthorization struct {
	Users []int64 `json:"users,omitempty"` // none: every subscriber
}

// Reauthorize re-checks, on every instance, whether the subscribers of room
// may still read it, and unsubscribes those who may not: each gets
// {"op":"unsubscribed","room":...,"reason":"forbidden"}. Call it after
// committing any change that takes read access away (a member removed from
// a private channel, a channel made private, a ban, a closed thread); the
// room's own authorization (Authorizer.CanJoin) decides, so a new kind of
// room needs nothing more. users limits the check to those users'
// connections; none: every subscriber of the room. Events published after
// Reauthorize returns never reach a subscriber it drops.
func (h *Hub) Reauthorize(ctx context.Context, room string, users ...int64) error {
	data, err := json.Marshal(reauthorization{Users: users})
	if err != nil {
		return err
	}
	return h.broker.Control(ctx, room, reauthorizeType, data)
}

// control handles a control message from the broker for a room this
// instance holds no subscriber of (r nil), or, from the room's walk, in
// order with its events (r.mu held).
func (h *Hub) control(r *hubRoom, e Event) {
	switch e.Type {
	case reauthorizeType:
		var m struct {
			Data reauthorization `json:"data"`
		}
		if err := json.Unmarshal(e.Frame, &m); err != nil {
			h.log.Warn("realtime: malformed re-authorization", "room", e.Room, "err", err)
			return
		}
		if r != nil {
			h.reauthorize(r, e.Room, m.Data.Users)
		}
	case purgeControl:
		// The broker's own business (RedisBroker.listen); a memory broker
		// standing in for Redis hands it on.
	default:
		h.log.Debug("realtime: unknown control message", "room", e.Room, "type", e.Type)
	}
}

// reauthorize holds the room's events for the affected subscribers at
// once (it runs in the room's walk, in order with the events, so nothing
// published after the re-authorization reaches them before their check),
// then checks them off the delivery path. r.mu is held.
func (h *Hub) reauthorize(r *hubRoom, room string, users []int64) {
	byUser := map[int64][]heldSub{}
	for c := range r.subs {
		if len(users) == 0 || slices.Contains(users, c.user.ID) {
			if s := c.hold(room); s != nil {
				byUser[c.user.ID] = append(byUser[c.user.ID], heldSub{c, s})
			}
		}
	}
	if len(byUser) == 0 {
		return
	}
	// Each check is bounded by its timeout; the connections it holds are
	// released or dropped when it ends, shutdown or not.
	go h.recheckRoom(room, byUser)
}

// heldSub is a subscription held for a re-authorization.
type heldSub struct {
	c *client
	s *sub
}

// reauthWorkers bounds the authorization checks one re-authorization runs
// at once: a big room made private is checked user by user.
const reauthWorkers = 4

// recheckRoom asks the room's authorization once per user and releases or
// drops that user's held connections as soon as their answer is in.
func (h *Hub) recheckRoom(room string, byUser map[int64][]heldSub) {
	work := make(chan []heldSub)
	var wg sync.WaitGroup
	for range min(reauthWorkers, len(byUser)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for cs := range work {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				err := h.auth.CanJoin(ctx, cs[0].c.user, room)
				cancel()
				if err != nil && apperr.From(err).Code == apperr.Internal {
					h.log.Error("room re-authorization failed; subscribers dropped", "room", room, "err", err)
				}
				for _, hs := range cs {
					hs.c.release(room, hs.s, err)
				}
			}
		}()
	}
	for _, cs := range byUser {
		work <- cs
	}
	close(work)
	wg.Wait()
}

// Stats are the hub's figures.
type Stats struct {
	Connections int64 `json:"connections"`
	Rooms       int   `json:"rooms"`
	Delivered   int64 `json:"delivered"`
	Writes      int64 `json:"writes"` // Writes to sockets: each carries every frame its connection had queued
	Dropped     int64 `json:"droppedSlow"`
	Resyncs     int64 `json:"resyncs"` // rooms told to resync: events missing from the history
	Inbound     int64 `json:"inbound"`
}

// Stats returns the hub's figures.
func (h *Hub) Stats() Stats {
	s := Stats{Connections: h.connections.Load(), Delivered: h.delivered.Load(), Writes: h.writes.Load(), Dropped: h.dropped.Load(), Resyncs: h.resyncs.Load(), Inbound: h.inbound.Load()}
	for i := range h.shards {
		h.shards[i].mu.RLock()
		s.Rooms += len(h.shards[i].rooms)
		h.shards[i].mu.RUnlock()
	}
	return s
}

func (h *Hub) shard(room string) *struct {
	mu    sync.RWMutex
	rooms map[string]*hubRoom
} {
	return &h.shards[maphash.String(h.seed, room)%hubShards]
}

// deliver hands a broker event to the room's walk (walk). A gap in the
// room's seqs (a pub/sub message lost while Redis reconnected) is filled
// from the history first, so subscribers still get every event in order.
func (h *Hub) deliver(e Event) {
	if e.Control && e.Type == reauthorizeType {
		// Counted at once, room or not: a subscribe under way asks again
		// (client.enter).
		h.reauths.Add(1)
	}
	sh := h.shard(e.Room)
	sh.mu.RLock()
	r := sh.rooms[e.Room]
	sh.mu.RUnlock()
	if r == nil {
		if e.Control {
			h.control(nil, e)
		}
		return
	}
	r.qMu.Lock()
	if e.Seq > 0 {
		if e.Seq <= r.lastSeq {
			r.qMu.Unlock()
			return // already delivered
		}
		if r.lastSeq > 0 && e.Seq > r.lastSeq+1 {
			h.fillGap(r, e)
		}
		r.lastSeq = e.Seq
	}
	r.queue = append(r.queue, e)
	start := !r.walking
	r.walking = true
	r.qMu.Unlock()
	if start {
		go h.walk(r)
	}
}

// walk fans the room's queued events out, in order, until the queue is
// empty. One walk per room at a time (r.walking); a walk holds r.mu, so
// joins, leaves and holds fall between two events, never inside one.
func (h *Hub) walk(r *hubRoom) {
	var spare []Event
	for {
		r.qMu.Lock()
		batch := r.queue
		if len(batch) == 0 {
			r.walking = false
			r.qMu.Unlock()
			return
		}
		r.queue = spare[:0]
		r.qMu.Unlock()
		r.mu.Lock()
		for _, e := range batch {
			if e.Control {
				h.control(r, e)
			} else {
				r.fanout(e, h)
			}
		}
		r.mu.Unlock()
		clear(batch)
		spare = batch
	}
}

// fillGap queues the events between the room's last seq and e from the
// history. If the history does not hold them all (they were published on
// an instance that had lost Redis and are nowhere to fetch), subscribers
// are told to resync, so nothing is lost silently. r.qMu is held.
func (h *Hub) fillGap(r *hubRoom, e Event) {
	missed, _, ok, err := h.broker.Since(context.Background(), e.Room, r.lastSeq)
	var fill []Event
	next := r.lastSeq + 1
	for _, m := range missed {
		if m.Seq >= e.Seq {
			break
		}
		if m.Seq == next {
			fill = append(fill, m)
			next++
		}
	}
	if err != nil || !ok || next != e.Seq {
		h.log.Warn("realtime: events missing from a room's history; subscribers told to resync", "room", e.Room, "from", r.lastSeq, "to", e.Seq, "err", err)
		h.resyncs.Add(1)
		r.queue = append(r.queue, Event{Room: e.Room, Frame: mustJSON(roomFrame{Op: "resync", Room: e.Room})})
		return
	}
	r.queue = append(r.queue, fill...)
}

func (r *hubRoom) fanout(e Event, h *Hub) {
	if len(r.subs) > 0 && e.wire == nil {
		e.wire = wireFrame(e.Frame) // once for the room, never per subscriber
	}
	// The connections this event makes ready go to the writers writeChunk
	// at a time, as soon as a chunk is full: one channel send per chunk,
	// not a wake-up per subscriber, and the first subscribers' writes
	// start while the fan-out walks the rest of a big room (handing over
	// at the end made every write wait for the whole walk).
	ready := readyList{h: h}
	for c, s := range r.subs {
		c.deliver(s, &e, &ready)
	}
	ready.flush()
	if e.Type == account.SessionRevoked {
		// Published only in a user's own room, whose subscribers are that
		// user's connections: each checks whether its session was the one.
		for c := range r.subs {
			go c.recheck()
		}
	}
	h.delivered.Add(int64(len(r.subs)))
}

// join adds c, subscribed by s, to room and reports whether the user just
// came online there and how many subscribers the room has.
func (h *Hub) join(room string, c *client, s *sub) (first bool, size int) {
	sh := h.shard(room)
	sh.mu.Lock()
	r := sh.rooms[room]
	if r == nil {
		r = &hubRoom{subs: map[*client]*sub{}, online: map[int64]int{}}
		sh.rooms[room] = r
	}
	r.mu.Lock()
	sh.mu.Unlock()
	defer r.mu.Unlock()
	r.subs[c] = s
	r.online[c.user.ID]++
	return r.online[c.user.ID] == 1, len(r.subs)
}

// leave removes c from room; the room goes when its last subscriber does.
func (h *Hub) leave(room string, c *client) (last bool, size int) {
	sh := h.shard(room)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	r := sh.rooms[room]
	if r == nil {
		return false, 0
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.subs[c]; !ok {
		return false, len(r.subs)
	}
	delete(r.subs, c)
	if r.online[c.user.ID]--; r.online[c.user.ID] <= 0 {
		delete(r.online, c.user.ID)
		delete(r.typing, c.user.ID)
		last = true
	}
	if len(r.subs) == 0 {
		delete(sh.rooms, room)
	}
	return last, len(r.subs)
}

// online lists up to max users present in room: on every instance when
// presence is shared (falling back to this one's if Redis does not answer).
func (h *Hub) online(ctx context.Context, room string, max int) ([]int64, int) {
	if h.shared != nil {
		if ids, n, err := h.shared.Online(ctx, room, max); err == nil {
			return ids, n
		}
	}
	return h.localOnline(room, max)
}

// Online counts the users present in room (on every instance when presence
// is shared): Online(ctx, "user:7") > 0 means user 7 has a connection.
func (h *Hub) Online(ctx context.Context, room string) int {
	_, n := h.online(ctx, room, 0)
	return n
}

// localOnline lists up to max users subscribed to room on this instance.
func (h *Hub) localOnline(room string, max int) (ids []int64, count int) {
	sh := h.shard(room)
	sh.mu.RLock()
	r := sh.rooms[room]
	sh.mu.RUnlock()
	if r == nil {
		return []int64{}, 0
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	ids = []int64{}
	for id := range r.online {
		if len(ids) == max {
			break // everyone subscribing to a big room must not walk all of it
		}
		ids = append(ids, id)
	}
	return ids, len(r.online)
}

// presence records a join or leave in shared presence, and announces it in
// rooms small enough for it; in big rooms every join would be a fan-out to
// everybody, so they report counts.
// presence records that userID joined (or left) room, which now has size
// subscribers here. Shared presence (Redis) is updated at once; the
// announcement to the room waits up to PresenceWindow to go out together
// with the room's other changes.
func (h *Hub) presence(room string, joined bool, userID int64, size int) {
	if h.shared != nil {
		var err error
		if joined {
			err = h.shared.Present(context.Background(), room, h.instance, []int64{userID})
		} else {
			err = h.shared.Absent(context.Background(), room, h.instance, userID)
		}
		if err != nil {
			h.log.Debug("shared presence not updated", "room", room, "err", err)
		}
	}
	if strings.HasPrefix(room, "user:") || size > h.cfg.PresenceLimit {
		return // a user's own room is private: counted, never announced
	}
	h.presMu.Lock()
	defer h.presMu.Unlock()
	b := h.pending[room]
	if b == nil {
		b = &presenceBatch{joined: map[int64]bool{}, left: map[int64]bool{}}
		h.pending[room] = b
		time.AfterFunc(h.cfg.PresenceWindow, func() { h.announce(room) })
	}
	// Arriving and leaving within one window cancel out.
	add, undo := b.joined, b.left
	if !joined {
		add, undo = b.left, b.joined
	}
	if undo[userID] {
		delete(undo, userID)
	} else {
		add[userID] = true
	}
}

// announce publishes a room's pending presence changes as one event.
func (h *Hub) announce(room string) {
	h.presMu.Lock()
	b := h.pending[room]
	delete(h.pending, room)
	h.presMu.Unlock()
	if b == nil || len(b.joined)+len(b.left) == 0 || h.closing.Load() {
		return
	}
	ids := func(m map[int64]bool) []int64 {
		out := make([]int64, 0, len(m))
		for id := range m {
			out = append(out, id)
		}
		slices.Sort(out)
		return out
	}
	data, _ := json.Marshal(struct {
		Joined []int64 `json:"joined"`
		Left   []int64 `json:"left"`
	}{ids(b.joined), ids(b.left)})
	if err := h.broker.Ephemeral(context.Background(), room, "presence", data); err != nil {
		h.log.Debug("presence not published", "room", room, "err", err)
	}
}

// admit reserves, before the upgrade, a connection slot for u: not while
// shutting down, and within the instance and per-user caps. Reserving (not
// just checking) means a burst of handshakes cannot overshoot the caps.
func (h *Hub) admit(u account.User) error {
	if h.closing.Load() {
		return &apperr.Error{Code: apperr.Unavailable, Message: "the server is shutting down; reconnect to another instance", RetryAfter: time.Second}
	}
	h.connsMu.Lock()
	defer h.connsMu.Unlock()
	if len(h.conns)+h.reserved >= h.cfg.MaxConns {
		return &apperr.Error{Code: apperr.Overloaded, Message: "this instance holds its maximum of WebSocket connections", RetryAfter: 5 * time.Second}
	}
	if h.perUser[u.ID] >= h.cfg.MaxConnsPerUser {
		return &apperr.Error{Code: apperr.RateLimited, Message: "too many open connections for this account (" + strconv.Itoa(h.cfg.MaxConnsPerUser) + ")", RetryAfter: 10 * time.Second}
	}
	h.perUser[u.ID]++
	h.reserved++
	return nil
}

// handshake checks what the upgrader checks, so a request that is no
// WebSocket handshake (a plain GET) gets Plaza's JSON error rather than the
// upgrader's plain-text one.
func handshake(w http.ResponseWriter, r *http.Request) error {
	if !headerHas(r.Header, "Connection", "upgrade") || !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		return apperr.New(apperr.BadRequest, "GET /api/ws is a WebSocket: connect with a WebSocket client (Connection: Upgrade, Upgrade: websocket)")
	}
	if r.Header.Get("Sec-WebSocket-Version") != "13" {
		w.Header().Set("Sec-WebSocket-Version", "13")
		return apperr.New(apperr.BadRequest, "unsupported WebSocket version: Sec-WebSocket-Version must be 13")
	}
	if r.Header.Get("Sec-WebSocket-Key") == "" {
		return apperr.New(apperr.BadRequest, "the WebSocket handshake has no Sec-WebSocket-Key")
	}
	return nil
}

// headerHas reports whether a comma-separated header lists token.
func headerHas(hd http.Header, name, token string) bool {
	for _, v := range hd.Values(name) {
		for _, t := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

// Serve upgrades an authenticated request and runs the connection.
func (h *Hub) Serve(w http.ResponseWriter, r *http.Request, id Identity) error {
	if err := handshake(w, r); err != nil {
		return err
	}
	u := id.User
	if err := h.admit(u); err != nil {
		return err
	}
	socket, err := h.upgrader.Upgrade(w, r)
	h.connsMu.Lock()
	h.reserved--
	if err != nil {
		h.release(u.ID)
		h.connsMu.Unlock()
		return nil // the upgrader has answered the client
	}
	c := newClient(h, socket, id)
	socket.Session().Store("c", c)
	h.conns[c] = struct{}{}
	h.connsMu.Unlock()
	h.connections.Add(1)
	go func() {
		c.enter(context.Background(), account.UserRoom(u.ID), nil)
		// A revocation announced between the request's authentication and
		// this join did not reach the connection: ask once more, now that
		// every later announcement will (the cheap check, as before a
		// subscribe; a failure to answer keeps the connection).
		if _, err := c.sessionHolds(context.Background()); err != nil {
			h.log.Warn("realtime: session check after connecting failed", "user", u.ID, "err", err)
		}
		c.watchExpiry(id.Expires)
		// The connection reads in a goroutine of its own, started with a
		// small stack: this one's grew in the join and the checks above
		// and would keep that size for as long as the connection is idle.
		go socket.ReadLoop()
	}()
	return nil
}

func (h *Hub) remove(c *client) {
	h.connsMu.Lock()
	if _, ok := h.conns[c]; ok {
		delete(h.conns, c)
		h.release(c.user.ID)
		h.connections.Add(-1)
	}
	h.connsMu.Unlock()
}

// release gives back a user's slot; connsMu is held.
func (h *Hub) release(userID int64) {
	if h.perUser[userID]--; h.perUser[userID] <= 0 {
		delete(h.perUser, userID)
	}
}

func (h *Hub) snapshot() []*client { return h.snapshotInto(nil) }

// snapshotInto lists the connections in buf's array (grown if need be).
func (h *Hub) snapshotInto(buf []*client) []*client {
	h.connsMu.Lock()
	defer h.connsMu.Unlock()
	out := slices.Grow(buf[:0], len(h.conns))
	for c := range h.conns {
		out = append(out, c)
	}
	return out
}

// keepalive pings quiet connections, closes silent ones and starts the
// session checks that are due (client.recheckIn); one goroutine for all,
// not a timer per connection.
// keepalive pings connections that have been silent for PingInterval and
// closes those silent for IdleTimeout. It sweeps twice a second, so the
// pings (and the pongs they draw) come in a steady trickle: a sweep every
// few seconds would ping thousands of connections at once, a burst of
// writes that delays every room's deliveries behind it.
func (h *Hub) keepalive() {
	defer h.wg.Done()
	t := time.NewTicker(min(500*time.Millisecond, h.cfg.PingInterval/2))
	defer t.Stop()
	var refreshed time.Time
	var conns []*client // each sweep's list, in the last one's array
	for {
		select {
		case <-h.stop:
			return
		case now := <-t.C:
			if h.shared != nil && now.Sub(refreshed) >= presenceTTL/3 {
				refreshed = now
				h.refreshPresence()
			}
			conns = h.sweep(now, conns)
		}
	}
}

// sweep pings, closes and re-checks the connections that are due at now.
// It lists them in buf's array and returns it emptied for the next sweep:
// a new list of 10,000 connections twice a second was most of what an
// instance allocated while it fanned out to them.
func (h *Hub) sweep(now time.Time, buf []*client) []*client {
	conns := h.snapshotInto(buf)
	for _, c := range conns {
		c.recheckDue(now.UnixNano())
		quiet := now.Sub(time.Unix(0, c.lastSeen.Load()))
		switch {
		case quiet > h.cfg.IdleTimeout:
			c.kick(CloseIdle, "idle timeout")
		case quiet > h.cfg.PingInterval:
			c.ping()
		}
	}
	clear(conns) // no closed connection is kept alive until the next sweep
	return conns[:0]
}

// refreshPresence confirms this instance's users in every room it holds,
// so they do not age out of shared presence.
func (h *Hub) refreshPresence() {
	for i := range h.shards {
		sh := &h.shards[i]
		sh.mu.RLock()
		rooms := map[string][]int64{}
		for name, r := range sh.rooms {
			r.mu.Lock()
			for u := range r.online {
				rooms[name] = append(rooms[name], u)
			}
			r.mu.Unlock()
		}
		sh.mu.RUnlock()
		for name, users := range rooms {
			for start := 0; start < len(users); start += 1000 {
				if err := h.shared.Present(context.Background(), name, h.instance, users[start:min(start+1000, len(users))]); err != nil {
					h.log.Debug("shared presence not refreshed", "room", name, "err", err)
				}
			}
		}
	}
}

// Close tells every client the server is going away and waits (bounded by
// ctx) for the connections to end.
func (h *Hub) Close(ctx context.Context) error {
	h.closing.Store(true)
	for _, c := range h.snapshot() {
		c.kick(1001, "server shutting down")
	}
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for h.connections.Load() > 0 {
		select {
		case <-ctx.Done():
			for _, c := range h.snapshot() {
				c.socket.NetConn().Close()
			}
			h.shutdown()
			return errors.New("realtime: connections cut at the shutdown timeout")
		case <-t.C:
		}
	}
	h.shutdown()
	return nil
}

func (h *Hub) shutdown() {
	select {
	case <-h.stop:
	default:
		close(h.stop)
	}
	h.wg.Wait()
	h.broker.Stop()
}

// AuthorizerFunc adapts a function to Authorizer.
type AuthorizerFunc func(ctx context.Context, u account.User, room string) error

// CanJoin calls f.
func (f AuthorizerFunc) CanJoin(ctx context.Context, u account.User, room string) error {
	return f(ctx, u, room)
}
