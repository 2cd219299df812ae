package cache

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/plazahq/plaza/internal/redisx"
	"github.com/redis/go-redis/v9"
	"golang.org/x/sync/singleflight"
)

// Config tunes a Cache; zero values take the defaults.
type Config struct {
	LocalBytes  uint64        // in-process tier size (default 64 MiB; 16 MiB with Redis)
	LocalTTLCap time.Duration // with Redis, how long the local tier keeps an entry (default 10s)
	OpTimeout   time.Duration // per Redis call (default 50ms)
	// IsolatedTTL is how long, while Redis is lost, the local tier keeps
	// entries of Revocable tiers (default 1s): it bounds how long a session
	// revoked on another instance is still accepted here.
	IsolatedTTL time.Duration
	// Heartbeat is how often Redis is pinged while it answers (default
	// 500ms; each ping may take as long), so an instance that only reads
	// its local tier still learns within about 3×Heartbeat that
	// invalidations can no longer reach it: a ping that times out is sent
	// again at once, and only two in a row mark Redis down (one late
	// answer is a busy machine, not a lost Redis).
	Heartbeat time.Duration
	Prefix    string // Redis key prefix (default "plaza:")
	Disabled  bool   // every Get loads (PLAZA_CACHE=off: debugging, benchmarks)
	Now       func() time.Time
}

// Cache is the cache every route uses. Without Redis it is the in-process
// tier alone. With Redis, reads try the local tier, then Redis, then load;
// invalidations go to both and are broadcast so other instances drop their
// local copies. If Redis stops answering, the cache carries on locally (no
// 5xx, no waiting on timeouts) and reconnects in the background.
type Cache struct {
	cfg    Config
	log    *slog.Logger
	local  *Memory
	remote *Redis
	rc     *redis.Client
	id     string
	sf     singleflight.Group
	stats  map[string]*tierStats

	redis    *redisx.Health
	missed   journal       // invalidations that did not reach Redis, replayed when it answers
	kick     chan struct{} // asks the heartbeat loop to replay missed now
	timeouts atomic.Int64  // Redis calls that timed out without marking it down
	replayed atomic.Int64  // missed invalidations applied to Redis later

	tagHooks atomic.Pointer[[]func(tag string)] // OnTagInvalidated

	stop chan struct{}
	wg   sync.WaitGroup
}

// New returns a cache; rc may be nil for the in-process mode.
func New(ctx context.Context, cfg Config, rc *redis.Client, log *slog.Logger) (*Cache, error) {
	if cfg.LocalBytes == 0 {
		cfg.LocalBytes = 64 << 20
		if rc != nil {
			cfg.LocalBytes = 16 << 20
		}
	}
	if cfg.LocalTTLCap <= 0 {
		cfg.LocalTTLCap = 10 * time.Second
	}
	if cfg.OpTimeout <= 0 {
		cfg.OpTimeout = 50 * time.Millisecond
	}
	if cfg.IsolatedTTL <= 0 {
		cfg.IsolatedTTL = time.Second
	}
	if cfg.Heartbeat <= 0 {
		cfg.Heartbeat = 500 * time.Millisecond
	}
	if cfg.Prefix == "" {
		cfg.Prefix = "plaza:"
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	local, err := NewMemory(cfg.LocalBytes)
	if err != nil {
		return nil, err
	}
	b := make([]byte, 8)
	rand.Read(b)
	c := &Cache{cfg: cfg, log: log, local: local, rc: rc, id: hex.EncodeToString(b), stats: map[string]*tierStats{},
		redis: redisx.NewHealth(), kick: make(chan struct{}, 1), stop: make(chan struct{})}
	for _, t := range Tiers {
		c.stats[t.Name] = newTierStats(cfg.Now)
	}
	if rc != nil {
		// Redis down at start is an outage like any other: run locally and
		// let watch reconnect.
		r, err := NewRedis(ctx, rc, cfg.Prefix)
		c.remote = r
		if err != nil {
			c.redis.Fail(err)
			log.Warn("cache: Redis not answering at start; running on the local tier until it does", "err", err)
		}
	}
	return c, nil
}

// Start runs the invalidation listener and the Redis reconnect loop.
func (c *Cache) Start() {
	if c.remote == nil {
		return
	}
	c.wg.Add(3)
	go c.listen()
	go c.watch()
	go c.heartbeat()
}

// Stop ends the background work.
func (c *Cache) Stop() {
	select {
	case <-c.stop:
	default:
		close(c.stop)
	}
	c.wg.Wait()
}

// Backend names the shared tier: "redis" or "memory".
func (c *Cache) Backend() string {
	if c.cfg.Disabled {
		return "off"
	}
	if c.remote != nil {
		return "redis"
	}
	return "memory"
}

// RemoteDown reports whether Redis is configured but not answering, and why.
func (c *Cache) RemoteDown() (bool, string) {
	if c.remote == nil {
		return false, ""
	}
	return c.redis.Down()
}

func (c *Cache) localTTL(t Tier) time.Duration {
	switch {
	case c.remote == nil:
		return t.TTL
	case t.Revocable && !c.redis.Up():
		return min(t.TTL, c.cfg.IsolatedTTL)
	}
	return min(t.TTL, c.cfg.LocalTTLCap)
}

func (c *Cache) opCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), c.cfg.OpTimeout)
}

// remoteOK reports whether Redis should be tried now.
func (c *Cache) remoteOK() bool { return c.remote != nil && c.redis.Up() }

// remoteFailed marks Redis down. On the way down the local tier is
// flushed: from the moment Redis was lost, other instances' invalidations
// stopped arriving, so anything it holds may already be stale; what is
// loaded from now on, Revocable tiers are kept only IsolatedTTL. Until
// Redis answers again every read goes to the database, so only a Redis
// that is gone or has stopped answering its heartbeat is marked down: see
// remoteReadFailed and remoteInvalidate.
func (c *Cache) remoteFailed(via string, err error) {
	if c.redis.Fail(err) {
		c.local.Flush()
		c.log.Warn("cache: Redis not answering; continuing on the local tier", "via", via, "err", err)
	}
}

// remoteReadFailed handles a read (or the store of a loaded value) that
// Redis did not complete. A timeout means Redis is slow, not gone: its
// invalidations still arrive, so this call goes without it and nothing
// else changes. On a busy machine a 50 ms timeout is missed now and then
// by a Redis that is fine; marking it down for that flushed every local
// tier and, once any write had invalidated meanwhile, emptied the shared
// cache on recovery, so all reads went to the database (two instances at
// 2,000 users flapped about twice a second). A Redis that stops answering
// altogether is caught by the heartbeat within about 2×Heartbeat.
func (c *Cache) remoteReadFailed(err error) {
	if redisx.IsTimeout(err) {
		c.timeouts.Add(1)
		return
	}
	c.remoteFailed("read", err)
}

// heartbeatTries is how many pings in a row must time out before Redis
// counts as lost. On a busy machine a ping now and then misses 500 ms
// while Redis is fine; each false loss flushes the local tier and sends
// every read to the database for at least a second. (A Redis that is gone
// looks the same to the client: go-redis retries the dial until the
// deadline, so a refused connection is a timeout too.)
const heartbeatTries = 2

// heartbeat pings Redis while it is up, so an outage is noticed even when
// every read is a local hit and no invalidation is sent (watch takes over
// while it is down), and replays missed invalidations as soon as they are
// recorded (kick) and after every ping that Redis answers.
func (c *Cache) heartbeat() {
	defer c.wg.Done()
	t := time.NewTicker(c.cfg.Heartbeat)
	defer t.Stop()
	for {
		ping := false
		select {
		case <-c.stop:
			return
		case <-t.C:
			ping = true
		case <-c.kick:
		}
		if !c.redis.Up() {
			continue
		}
		var err error
		for try := 1; ping && try <= heartbeatTries; try++ {
			ctx, cancel := context.WithTimeout(context.Background(), c.cfg.Heartbeat)
			err = c.rc.Ping(ctx).Err()
			cancel()
			if err == nil || !redisx.IsTimeout(err) {
				break
			}
			c.timeouts.Add(1)
		}
		if err == nil {
			ctx, cancel := context.WithTimeout(context.Background(), c.cfg.Heartbeat)
			if err = c.replay(ctx); err != nil && redisx.IsTimeout(err) {
				// Sent again after the next ping Redis answers.
				c.timeouts.Add(1)
				err = nil
			}
			cancel()
		}
		if err != nil {
			c.remoteFailed("heartbeat", err)
		}
	}
}

// Get returns the bytes under key, loading them with load on a miss. Many
// callers missing the same key at once share one load. tag, if not empty,
// names what the value depends on (e.g. "user:42"): InvalidateTag(tag)
// makes it stale.
func (c *Cache) Get(ctx context.Context, tier Tier, key, tag string, load func(context.Context) ([]byte, error)) ([]byte, error) {
	st := c.stats[tier.Name]
	if c.cfg.Disabled {
		st.miss()
		return load(ctx)
	}
	lver, _ := c.local.TagVersion(ctx, tag)
	if v, ok, _ := c.local.Get(ctx, key, tag); ok {
		st.hit(false)
		return v, nil
	}
	// An invalidation of key or tag that Redis has not seen yet leaves its
	// Redis copy stale: this instance goes without Redis for it until the
	// invalidation is replayed.
	shared := c.remoteOK() && !c.missed.holds(key, tag)
	if shared {
		octx, cancel := c.opCtx(ctx)
		v, ok, err := c.remote.Get(octx, key, tag)
		cancel()
		switch {
		case err != nil:
			c.remoteReadFailed(err)
		case ok:
			c.local.Set(ctx, key, tag, lver, v, c.localTTL(tier))
			st.hit(true)
			return v, nil
		}
	}
	st.miss()
	v, err, _ := c.sf.Do(key, func() (any, error) {
		// A caller that missed just as another's flight ended would load
		// again: look once more now that this is the only flight.
		if v, ok, _ := c.local.Get(ctx, key, tag); ok {
			return v, nil
		}
		// Versions are read before loading: an invalidation that lands
		// during the load leaves the stored value stale, never current.
		var rver int64
		remote := shared && c.remoteOK()
		if remote && tag != "" {
			octx, cancel := c.opCtx(ctx)
			var err error
			rver, err = c.remote.TagVersion(octx, tag)
			cancel()
			if err != nil {
				c.remoteReadFailed(err)
				remote = false
			}
		}
		lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		val, err := load(lctx)
		if err != nil {
			return nil, err
		}
		if remote {
			octx, cancel := c.opCtx(ctx)
			if err := c.remote.Set(octx, key, tag, rver, val, tier.TTL); err != nil {
				c.remoteReadFailed(err)
			}
			cancel()
		}
		c.local.Set(ctx, key, tag, lver, val, c.localTTL(tier))
		return val, nil
	})
	if err != nil {
		return nil, err
	}
	return v.([]byte), nil
}

// Invalidate drops keys everywhere.
func (c *Cache) Invalidate(ctx context.Context, keys ...string) {
	c.local.Delete(ctx, keys...)
	c.remoteInvalidate(ctx, "k", keys, func(octx context.Context) error { return c.remote.Delete(octx, keys...) })
}

// InvalidateTag makes every entry of each tag stale everywhere.
func (c *Cache) InvalidateTag(ctx context.Context, tags ...string) {
	for _, t := range tags {
		c.local.InvalidateTag(ctx, t)
	}
	c.tagsInvalidated(tags)
	c.remoteInvalidate(ctx, "t", tags, func(octx context.Context) error {
		for _, t := range tags {
			if err := c.remote.InvalidateTag(octx, t); err != nil {
				return err
			}
		}
		return nil
	})
}

// OnTagInvalidated registers fn to be called with each tag this instance
// invalidates, by its own InvalidateTag or another instance's broadcast,
// once its local tier has dropped the tag's entries. It is for state kept
// outside the cache that the same changes make stale (the newest page of
// each channel, which shows its authors' names and levels). fn runs on the
// invalidating goroutine, after its write committed, and must be quick.
func (c *Cache) OnTagInvalidated(fn func(tag string)) {
	for {
		old := c.tagHooks.Load()
		var hooks []func(string)
		if old != nil {
			hooks = append(hooks, *old...)
		}
		hooks = append(hooks, fn)
		if c.tagHooks.CompareAndSwap(old, &hooks) {
			return
		}
	}
}

func (c *Cache) tagsInvalidated(tags []string) {
	hooks := c.tagHooks.Load()
	if hooks == nil {
		return
	}
	for _, t := range tags {
		for _, fn := range *hooks {
			fn(t)
		}
	}
}

func (c *Cache) remoteInvalidate(ctx context.Context, kind string, items []string, apply func(context.Context) error) {
	if c.remote == nil {
		return
	}
	if !c.redis.Up() {
		c.missed.add(kind, items)
		return
	}
	octx, cancel := c.opCtx(ctx)
	err := apply(octx)
	if err == nil {
		err = c.rc.Publish(octx, c.channel(), c.id+"|"+kind+"|"+strings.Join(items, "\x00")).Err()
	}
	cancel()
	if err != nil {
		c.invalidateFailed(kind, items, err)
	}
}

// invalidateFailed records an invalidation that may not have reached Redis
// (both of its steps are idempotent, so it is simply sent again). A slow
// Redis gets it again from the heartbeat loop at once, without the caller
// waiting and without marking Redis down, which would flush the local tier
// and send every read to the database; meanwhile this instance keeps its
// reads of those items off Redis. A refused or dropped connection is an
// outage: Redis is marked down and the invalidation replayed on recovery.
func (c *Cache) invalidateFailed(kind string, items []string, err error) {
	c.missed.add(kind, items)
	if !redisx.IsTimeout(err) {
		c.remoteFailed("invalidation", err)
		return
	}
	c.timeouts.Add(1)
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

// FlushPrefix drops every key starting with prefix (admin; walks the cache).
func (c *Cache) FlushPrefix(ctx context.Context, prefix string) (int, error) {
	n, _ := c.local.DeletePrefix(ctx, prefix)
	if c.remote == nil {
		return n, nil
	}
	m, err := c.remote.DeletePrefix(ctx, prefix)
	if err == nil {
		err = c.rc.Publish(ctx, c.channel(), c.id+"|p|"+prefix).Err()
	}
	return n + m, err
}

func (c *Cache) channel() string { return c.cfg.Prefix + "cache:invalidate" }

// listen applies other instances' invalidations to the local tier. When the
// subscription had to reconnect, messages may have been lost, so the local
// tier is flushed.
func (c *Cache) listen() {
	defer c.wg.Done()
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-c.stop; cancel() }()
	ps := c.rc.Subscribe(ctx, c.channel())
	defer ps.Close()
	subscribed := false
	ch := ps.ChannelWithSubscriptions(redis.WithChannelHealthCheckInterval(5 * time.Second))
	for {
		select {
		case <-c.stop:
			return
		case m, ok := <-ch:
			if !ok {
				return
			}
			switch m := m.(type) {
			case *redis.Subscription:
				if m.Kind == "subscribe" {
					if subscribed {
						c.local.Flush()
					}
					subscribed = true
				}
			case *redis.Message:
				c.apply(m.Payload)
			}
		}
	}
}

func (c *Cache) apply(payload string) {
	parts := strings.SplitN(payload, "|", 3)
	if len(parts) != 3 || parts[0] == c.id {
		return
	}
	ctx := context.Background()
	items := strings.Split(parts[2], "\x00")
	switch parts[1] {
	case "k":
		c.local.Delete(ctx, items...)
	case "t":
		for _, t := range items {
			c.local.InvalidateTag(ctx, t)
		}
		c.tagsInvalidated(items)
	case "p":
		c.local.DeletePrefix(ctx, parts[2])
	case "g":
		octx, cancel := c.opCtx(ctx)
		c.remote.RefreshGeneration(octx)
		cancel()
		c.local.Flush()
	}
}

// watch pings Redis while it is down. On recovery it applies the
// invalidations missed meanwhile to Redis and broadcasts them (replay), so
// no instance reads what should have been invalidated and the rest of the
// shared cache survives the outage; only when too many were missed to keep
// does it start a new generation (an empty shared cache).
func (c *Cache) watch() {
	defer c.wg.Done()
	c.redis.Watch(c.stop, c.rc, time.Second, func(ctx context.Context) error {
		if err := c.remote.RefreshGeneration(ctx); err != nil {
			return err
		}
		if err := c.replay(ctx); err != nil {
			return err
		}
		c.local.Flush()
		c.log.Info("cache: Redis answering again")
		return nil
	})
}

// Stats are hit and miss counts, per tier and overall.
type Stats struct {
	Backend   string               `json:"backend"`
	HitRate   float64              `json:"hitRate"` // last minute, all tiers
	Lookups   int64                `json:"lookups"` // last minute
	LocalSize int                  `json:"localEntries"`
	Tiers     map[string]TierStats `json:"tiers"`
	// RedisTimeouts counts Redis calls that timed out and were done
	// without, Redis staying in use (since start).
	RedisTimeouts int64 `json:"redisTimeouts"`
	// Replayed counts invalidations that missed Redis (slow or lost) and
	// were applied to it later (since start); Unreplayed, those waiting.
	Replayed   int64 `json:"replayed"`
	Unreplayed int64 `json:"unreplayed"`
}

// TierStats are one tier's counts since start.
type TierStats struct {
	LocalHits  int64 `json:"localHits"`
	RemoteHits int64 `json:"remoteHits"`
	Misses     int64 `json:"misses"`
}

// Stats returns the counts.
func (c *Cache) Stats() Stats {
	s := Stats{Backend: c.Backend(), LocalSize: c.local.Len(), Tiers: map[string]TierStats{}, RedisTimeouts: c.timeouts.Load(),
		Replayed: c.replayed.Load(), Unreplayed: c.missed.n.Load()}
	var hits, total int64
	for name, st := range c.stats {
		s.Tiers[name] = TierStats{LocalHits: st.localHits.Load(), RemoteHits: st.remoteHits.Load(), Misses: st.misses.Load()}
		h, n := st.window.sums()
		hits += h
		total += n
	}
	s.Lookups = total
	if total > 0 {
		s.HitRate = float64(hits) / float64(total)
	}
	return s
}
