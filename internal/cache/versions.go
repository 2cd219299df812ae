package cache

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"
)

// Tag versions for state that is kept outside the cache, per process (a
// decoded memo, a per-reader overlay), and must follow the cache's
// invalidations on every instance. InvalidateTag moves a tag's version in
// Redis before it returns, while other instances' local tiers hear of it
// only through pub/sub, a moment later; a reader that must see the writes
// that finished before it asked (read-your-writes across instances)
// compares the version its state was built under with the shared one.

// ErrSharedDown is TagVersions' answer while Redis is configured but not
// answering: no version can be trusted, and neither can anything kept
// under one.
var ErrSharedDown = errors.New("cache: Redis not answering; shared tag versions unknown")

// Shared reports whether other instances share this cache (Redis): only
// then can an InvalidateTag elsewhere make this process's state stale.
func (c *Cache) Shared() bool { return c.remote != nil }

// TagVersions returns the current shared version of each tag (0: never
// invalidated), read from Redis in one round trip. Read a tag's version
// before loading what depends on it, as Get does: a write that lands during
// the load then leaves a different version, never the same one. Without
// Redis it returns this process's versions (exact here, since local
// invalidation is immediate); with Redis down, ErrSharedDown.
func (c *Cache) TagVersions(ctx context.Context, tags []string) ([]int64, error) {
	if c.remote == nil {
		out := make([]int64, len(tags))
		for i, t := range tags {
			out[i], _ = c.local.TagVersion(ctx, t)
		}
		return out, nil
	}
	if !c.redis.Up() || c.missed.holdsTag(tags) {
		return nil, ErrSharedDown
	}
	octx, cancel := c.opCtx(ctx)
	defer cancel()
	v, err := c.remote.TagVersions(octx, tags)
	if err != nil {
		c.remoteReadFailed(err)
		return nil, err
	}
	return v, nil
}

// TagVersions returns the versions of tags in one MGET.
func (r *Redis) TagVersions(ctx context.Context, tags []string) ([]int64, error) {
	if len(tags) == 0 {
		return nil, nil
	}
	keys := make([]string, len(tags))
	for i, t := range tags {
		keys[i] = r.tagKey(t)
	}
	vals, err := r.c.MGet(ctx, keys...).Result()
	if err != nil {
		return nil, err
	}
	out := make([]int64, len(tags))
	for i, v := range vals {
		if s, ok := v.(string); ok {
			if out[i], err = strconv.ParseInt(s, 10, 64); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// InvalidateTagSync is InvalidateTag for a writer whose readers compare
// TagVersions: it waits up to wait (rather than Config.OpTimeout, which
// suits reads) for the tags' versions to move in Redis, and says whether
// they did. Once it returns nil, every instance reading TagVersions sees
// the new versions. An error means they did not move (Redis not
// answering, or not within wait): other instances read the old versions
// until the invalidation is replayed (as soon as Redis answers: see
// invalidateFailed); this instance's TagVersions of those tags answers
// ErrSharedDown meanwhile.
func (c *Cache) InvalidateTagSync(ctx context.Context, wait time.Duration, tags ...string) error {
	for _, t := range tags {
		c.local.InvalidateTag(ctx, t)
	}
	if c.remote == nil {
		return nil
	}
	if !c.redis.Up() {
		// Known down: no write waits through an outage; the versions move
		// when Redis answers again (replay).
		c.missed.add("t", tags)
		return ErrSharedDown
	}
	octx, cancel := context.WithTimeout(context.WithoutCancel(ctx), wait)
	defer cancel()
	for _, t := range tags {
		if err := c.remote.InvalidateTag(octx, t); err != nil {
			c.invalidateFailed("t", tags, err)
			return err
		}
	}
	// The versions moved; the broadcast only drops other instances' local
	// copies of tagged entries, as InvalidateTag's does.
	if err := c.rc.Publish(octx, c.channel(), c.id+"|t|"+strings.Join(tags, "\x00")).Err(); err != nil {
		c.invalidateFailed("t", tags, err)
	}
	return nil
}
