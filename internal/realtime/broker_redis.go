package realtime

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/plazahq/plaza/internal/redisx"
	"github.com/redis/go-redis/v9"
)

// publishScript allocates the seq, stores the frame in the room's history
// and publishes it, atomically: the order of seqs is the order of delivery.
// KEYS[4] names this publication: a retry of one that timed out but did run
// gets its seq back instead of publishing the event twice.
var publishScript = redis.NewScript(`
local done = redis.call('GET', KEYS[4])
if done then return tonumber(done) end
local seq = redis.call('INCR', KEYS[1])
local frame = ARGV[1] .. seq .. ARGV[2]
redis.call('ZADD', KEYS[2], seq, frame)
redis.call('ZREMRANGEBYRANK', KEYS[2], 0, -(tonumber(ARGV[3]) + 1))
redis.call('PEXPIRE', KEYS[2], ARGV[4])
redis.call('PUBLISH', KEYS[3], frame)
redis.call('SET', KEYS[4], seq, 'PX', ARGV[5])
return seq
`)

// sinceScript returns {current seq, reaches (0/1), frames after since...}.
var sinceScript = redis.NewScript(`
local cur = tonumber(redis.call('GET', KEYS[1]) or '0')
local since = tonumber(ARGV[1])
if since >= cur then return {cur, 1} end
local oldest = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
if #oldest == 0 or tonumber(oldest[2]) > since + 1 then return {cur, 0} end
local out = {cur, 1}
for _, f in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '(' .. since, '+inf')) do out[#out + 1] = f end
return out
`)

// tombstoneScript replaces the history's event at each seq ARGV[i] with
// the tombstone ARGV[i+1], if the event is still there (a publish may have
// trimmed it meanwhile: a seq the history no longer has stays gone).
var tombstoneScript = redis.NewScript(`
local n = 0
for i = 1, #ARGV, 2 do
  local seq = ARGV[i]
  if redis.call('ZCOUNT', KEYS[1], seq, seq) > 0 then
    redis.call('ZREMRANGEBYSCORE', KEYS[1], seq, seq)
    redis.call('ZADD', KEYS[1], seq, ARGV[i + 1])
    n = n + 1
  end
end
return n
`)

// raiseScript lifts a room's seq to at least ARGV[1].
var raiseScript = redis.NewScript(`
local cur = tonumber(redis.call('GET', KEYS[1]) or '0')
if cur < tonumber(ARGV[1]) then redis.call('SET', KEYS[1], ARGV[1]) end
return 1
`)

// RedisBroker shares seqs, history and events between instances through
// Redis. While Redis does not answer it falls back to its in-process
// broker: local delivery continues, seqs stay monotonic, and when Redis
// returns its seqs are raised past anything published meanwhile.
type RedisBroker struct {
	c       *redis.Client
	prefix  string
	history int
	ttl     time.Duration
	timeout time.Duration
	log     *slog.Logger
	local   *MemoryBroker

	deliver  atomic.Pointer[func(Event)]
	redis    *redisx.Health
	online   *onlineMemo
	mu       sync.Mutex
	dirty    map[string]bool // rooms published locally while Redis was away
	controls [][]byte        // control messages the other instances have not had: Redis was away

	stop chan struct{}
	wg   sync.WaitGroup
}

// NewRedisBroker returns a broker keeping history events per room for ttl.
func NewRedisBroker(c *redis.Client, prefix string, history int, ttl time.Duration, log *slog.Logger) *RedisBroker {
	// Two seconds: the fallback is for a Redis that is gone, not one that is
	// slow under load; a publish that timed out may still have happened,
	// and publishing it locally too would split the room's seqs.
	return &RedisBroker{c: c, prefix: prefix, history: history, ttl: ttl, timeout: 2 * time.Second, log: log,
		local: NewMemoryBroker(history, nil), redis: redisx.NewHealth(), online: newOnlineMemo(onlineTTL, time.Now),
		dirty: map[string]bool{}, stop: make(chan struct{})}
}

func (b *RedisBroker) seqKey(room string) string  { return b.prefix + "rt:{" + room + "}:seq" }
func (b *RedisBroker) histKey(room string) string { return b.prefix + "rt:{" + room + "}:hist" }
func (b *RedisBroker) pubKey(room, id string) string {
	return b.prefix + "rt:{" + room + "}:pub:" + id
}
func (b *RedisBroker) channel() string { return b.prefix + "rt:events" }

// Down reports whether Redis is being bypassed, and why.
func (b *RedisBroker) Down() (bool, string) { return b.redis.Down() }

func (b *RedisBroker) failed(err error) {
	if b.redis.Fail(err) {
		b.log.Warn("realtime: Redis not answering; delivering on this instance only", "err", err)
	}
}

func (b *RedisBroker) send(e Event) {
	if d := b.deliver.Load(); d != nil {
		(*d)(e)
	}
}

// Start subscribes and begins delivery. It returns once Redis has
// confirmed the subscription (or, if Redis is down, after a few seconds,
// with the broker marked down), so nothing published after it is missed.
func (b *RedisBroker) Start(deliver func(Event)) error {
	b.deliver.Store(&deliver)
	b.local.Start(deliver)
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-b.stop; cancel() }()
	ps := b.c.Subscribe(ctx, b.channel())
	rctx, rcancel := context.WithTimeout(ctx, 3*time.Second)
	if _, err := ps.Receive(rctx); err != nil {
		b.failed(err)
	}
	rcancel()
	b.wg.Add(2)
	go b.listen(ps)
	go b.watch()
	return nil
}

// Stop ends delivery.
func (b *RedisBroker) Stop() {
	select {
	case <-b.stop:
	default:
		close(b.stop)
	}
	b.wg.Wait()
	b.local.Stop()
}

func (b *RedisBroker) opCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), b.timeout)
}

// Publish runs the publish script, or publishes locally while Redis is away.
// A Redis that is slow rather than gone (a timeout) gets the same
// publication again, up to three tries: it may have run the first, and
// falling back to local seqs while it did would split the room's seqs
// between instances. Only a Redis that refuses, drops the connection or
// stays silent three times over is treated as gone.
func (b *RedisBroker) Publish(ctx context.Context, room, typ string, data []byte) (int64, error) {
	if b.redis.Up() {
		seq, err := b.publish(ctx, room, typ, data, newPublicationID())
		if err == nil {
			return seq, nil
		}
		b.failed(err)
	}
	b.mu.Lock()
	b.dirty[room] = true
	b.mu.Unlock()
	return b.local.Publish(ctx, room, typ, data)
}

func (b *RedisBroker) publish(ctx context.Context, room, typ string, data []byte, id string) (seq int64, err error) {
	head, tail := frameParts(room, typ, json.RawMessage(data), time.Now())
	keys := []string{b.seqKey(room), b.histKey(room), b.channel(), b.pubKey(room, id)}
	for attempt := 1; attempt <= 3; attempt++ {
		octx, cancel := b.opCtx(ctx)
		seq, err = publishScript.Run(octx, b.c, keys, head, tail, b.history, b.ttl.Milliseconds(), time.Minute.Milliseconds()).Int64()
		cancel()
		if err == nil || !isTimeout(err) {
			return seq, err
		}
	}
	return 0, err
}

func newPublicationID() string {
	var b [12]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// isTimeout reports whether Redis was slow rather than unreachable.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}

// Ephemeral publishes without seq.
func (b *RedisBroker) Ephemeral(ctx context.Context, room, typ string, data []byte) error {
	if b.redis.Up() {
		head, tail := frameParts(room, typ, json.RawMessage(data), time.Now())
		octx, cancel := b.opCtx(ctx)
		err := b.c.Publish(octx, b.channel(), buildFrame(head, 0, tail)).Err()
		cancel()
		if err == nil {
			return nil
		}
		if isTimeout(err) {
			return err // slow, not gone: a typing or presence event is not worth more
		}
		b.failed(err)
	}
	return b.local.Ephemeral(ctx, room, typ, data)
}

// maxPendingControls bounds the control messages kept for the other
// instances while Redis is away.
const maxPendingControls = 10_000

// Control publishes a control message to every instance's hub. A timeout
// is retried (a message that arrives twice is harmless). While Redis is
// away the message reaches this instance's hub at once and is kept for the
// others, which get it when Redis answers again: a re-authorization there
// is late, not lost.
func (b *RedisBroker) Control(ctx context.Context, room, typ string, data []byte) error {
	frame := controlFrame(room, typ, data)
	if b.redis.Up() {
		var err error
		for attempt := 1; attempt <= 3; attempt++ {
			octx, cancel := b.opCtx(ctx)
			err = b.c.Publish(octx, b.channel(), frame).Err()
			cancel()
			if err == nil {
				return nil
			}
			if !isTimeout(err) {
				break
			}
		}
		b.failed(err)
	}
	b.mu.Lock()
	if len(b.controls) < maxPendingControls {
		b.controls = append(b.controls, frame)
	} else {
		b.log.Warn("realtime: too many control messages waiting for Redis; one dropped", "room", room, "type", typ)
	}
	b.mu.Unlock()
	return b.local.Control(ctx, room, typ, data)
}

// Since reads the shared history, or the local one while Redis is away.
func (b *RedisBroker) Since(ctx context.Context, room string, since int64) ([]Event, int64, bool, error) {
	if b.redis.Up() {
		octx, cancel := b.opCtx(ctx)
		res, err := sinceScript.Run(octx, b.c, []string{b.seqKey(room), b.histKey(room)}, since).Slice()
		cancel()
		if err == nil && len(res) >= 2 {
			cur, _ := res[0].(int64)
			ok, _ := res[1].(int64)
			var out []Event
			for _, f := range res[2:] {
				s, _ := f.(string)
				if e, good := parseFrame([]byte(s)); good {
					out = append(out, e)
				}
			}
			return out, cur, ok == 1, nil
		}
		if isTimeout(err) {
			// Slow, not gone: this instance's own history may lag the
			// shared one, so it is no answer; the caller asks again or
			// has the client resync.
			return nil, 0, false, err
		}
		if err != nil {
			b.failed(err)
		}
	}
	return b.local.Since(ctx, room, since)
}

// Purge tombstones the subject's events in the shared history, then tells
// every instance to do the same to the copy it keeps for an outage. The
// history is read and matched here, not in Redis, so Redis spends only the
// replacement on it; a removal is rare and the history bounded.
func (b *RedisBroker) Purge(ctx context.Context, room string, about Subject) (int, error) {
	if !b.redis.Up() {
		return b.local.Purge(ctx, room, about)
	}
	octx, cancel := b.opCtx(ctx)
	defer cancel()
	hist, err := b.c.ZRangeWithScores(octx, b.histKey(room), 0, -1).Result()
	if err != nil {
		return 0, err
	}
	var seqs []int64
	var args []any
	now := time.Now()
	for _, z := range hist {
		m, _ := z.Member.(string)
		if about.matches([]byte(m)) {
			seq := int64(z.Score)
			seqs = append(seqs, seq)
			args = append(args, seq, tombstone(room, seq, now).Frame)
		}
	}
	if len(seqs) == 0 {
		return 0, nil
	}
	n, err := tombstoneScript.Run(octx, b.c, []string{b.histKey(room)}, args...).Int()
	if err != nil {
		return 0, err
	}
	b.purgeLocal(room, seqs)
	data, _ := json.Marshal(purged{Seqs: seqs})
	if err := b.Control(ctx, room, purgeControl, data); err != nil {
		return n, err
	}
	return n, nil
}

// purgeLocal tombstones seqs in this instance's copy of the history.
func (b *RedisBroker) purgeLocal(room string, seqs []int64) {
	b.local.purge(room, func(e Event) bool { return slices.Contains(seqs, e.Seq) })
}

// listen delivers what Redis publishes. The subscription reconnects by
// itself; the hub notices any gap in a room's seqs and fetches what it
// missed from the history.
func (b *RedisBroker) listen(ps *redis.PubSub) {
	defer b.wg.Done()
	defer ps.Close()
	ch := ps.Channel(redis.WithChannelHealthCheckInterval(5*time.Second), redis.WithChannelSize(4096))
	for {
		select {
		case <-b.stop:
			return
		case m, ok := <-ch:
			if !ok {
				return
			}
			e, good := parseFrame([]byte(m.Payload))
			if !good {
				continue
			}
			if e.Seq > 0 {
				b.local.Observe(e)
			}
			if e.Control && e.Type == purgeControl {
				var m struct {
					Data purged `json:"data"`
				}
				if json.Unmarshal(e.Frame, &m) == nil {
					b.purgeLocal(e.Room, m.Data.Seqs)
				}
				continue
			}
			b.send(e)
		}
	}
}

// watch pings Redis while it is down; on recovery it raises Redis's seqs
// past what was published locally and sends the other instances the
// control messages they missed, then uses Redis again.
func (b *RedisBroker) watch() {
	defer b.wg.Done()
	b.redis.Watch(b.stop, b.c, 2*time.Second, func(ctx context.Context) error {
		b.mu.Lock()
		defer b.mu.Unlock()
		for room := range b.dirty {
			if err := raiseScript.Run(ctx, b.c, []string{b.seqKey(room)}, b.local.Seq(room)).Err(); err != nil {
				return err
			}
			delete(b.dirty, room)
		}
		for len(b.controls) > 0 {
			if err := b.c.Publish(ctx, b.channel(), b.controls[0]).Err(); err != nil {
				return err
			}
			b.controls = b.controls[1:]
		}
		b.log.Info("realtime: Redis answering again; cross-instance delivery resumed")
		return nil
	})
}

// Presence shared through Redis: one sorted set per room whose members are
// "<user>:<instance>" scored by the time this instance last confirmed them.
// Members not refreshed for presenceTTL (a crashed instance's) age out.
const presenceTTL = 90 * time.Second

func (b *RedisBroker) presenceKey(room string) string { return b.prefix + "rt:{" + room + "}:online" }

// Present records (or refreshes) users of this instance in room.
func (b *RedisBroker) Present(ctx context.Context, room, instance string, users []int64) error {
	if !b.redis.Up() || len(users) == 0 {
		return nil
	}
	now := float64(time.Now().Unix())
	zs := make([]redis.Z, len(users))
	for i, u := range users {
		zs[i] = redis.Z{Score: now, Member: strconv.FormatInt(u, 10) + ":" + instance}
	}
	octx, cancel := b.opCtx(ctx)
	defer cancel()
	pipe := b.c.Pipeline()
	pipe.ZAdd(octx, b.presenceKey(room), zs...)
	pipe.Expire(octx, b.presenceKey(room), 2*presenceTTL)
	_, err := pipe.Exec(octx)
	return err
}

// Absent removes a user of this instance from room.
func (b *RedisBroker) Absent(ctx context.Context, room, instance string, user int64) error {
	if !b.redis.Up() {
		return nil
	}
	octx, cancel := b.opCtx(ctx)
	defer cancel()
	return b.c.ZRem(octx, b.presenceKey(room), strconv.FormatInt(user, 10)+":"+instance).Err()
}

// Online lists up to max users present in room on any instance, and how
// many, as read at most onlineTTL ago.
func (b *RedisBroker) Online(ctx context.Context, room string, max int) ([]int64, int, error) {
	if !b.redis.Up() {
		return nil, 0, errors.New("realtime: Redis is down")
	}
	return b.online.get(ctx, room, max, b.readOnline)
}

// readOnline reads room's presence from Redis: every member, to count each
// user once however many instances hold them.
func (b *RedisBroker) readOnline(ctx context.Context, room string, max int) ([]int64, int, error) {
	octx, cancel := b.opCtx(ctx)
	defer cancel()
	min := strconv.FormatInt(time.Now().Add(-presenceTTL).Unix(), 10)
	members, err := b.c.ZRangeArgs(octx, redis.ZRangeArgs{Key: b.presenceKey(room), ByScore: true, Start: min, Stop: "+inf"}).Result()
	if err != nil {
		return nil, 0, err
	}
	seen := map[int64]bool{}
	ids := []int64{}
	for _, m := range members {
		u, _, _ := strings.Cut(m, ":")
		id, err := strconv.ParseInt(u, 10, 64)
		if err != nil || seen[id] {
			continue
		}
		seen[id] = true
		if len(ids) < max {
			ids = append(ids, id)
		}
	}
	return ids, len(seen), nil
}
