package cache

import (
	"context"
	"encoding/binary"
	"errors"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// Redis is the shared backend. Values are stored as 8 bytes of tag version
// followed by the bytes; a read fetches the value and its tag's current
// version in one MGET. Keys live under <prefix>c:<generation>:, so bumping
// the generation drops the whole cache at once (used after Redis missed
// invalidations while it was unreachable).
type Redis struct {
	c      *redis.Client
	prefix string
	gen    atomic.Int64
}

// NewRedis returns the backend; prefix namespaces every key (e.g. "plaza:").
func NewRedis(ctx context.Context, c *redis.Client, prefix string) (*Redis, error) {
	r := &Redis{c: c, prefix: prefix}
	return r, r.RefreshGeneration(ctx)
}

// Name is "redis".
func (r *Redis) Name() string { return "redis" }

func (r *Redis) key(k string) string {
	return r.prefix + "c:" + strconv.FormatInt(r.gen.Load(), 10) + ":" + k
}

func (r *Redis) tagKey(t string) string { return r.prefix + "t:" + t }

func (r *Redis) genKey() string { return r.prefix + "cgen" }

// RefreshGeneration reads the current generation.
func (r *Redis) RefreshGeneration(ctx context.Context) error {
	v, err := r.c.Get(ctx, r.genKey()).Int64()
	if err != nil && !errors.Is(err, redis.Nil) {
		return err
	}
	r.gen.Store(v)
	return nil
}

// BumpGeneration starts a new, empty generation.
func (r *Redis) BumpGeneration(ctx context.Context) error {
	v, err := r.c.Incr(ctx, r.genKey()).Result()
	if err != nil {
		return err
	}
	r.gen.Store(v)
	return nil
}

// Get returns a current entry.
func (r *Redis) Get(ctx context.Context, key, tag string) ([]byte, bool, error) {
	if tag == "" {
		b, err := r.c.Get(ctx, r.key(key)).Bytes()
		if errors.Is(err, redis.Nil) {
			return nil, false, nil
		}
		if err != nil || len(b) < 8 {
			return nil, false, err
		}
		return b[8:], true, nil
	}
	vals, err := r.c.MGet(ctx, r.key(key), r.tagKey(tag)).Result()
	if err != nil {
		return nil, false, err
	}
	raw, ok := vals[0].(string)
	if !ok || len(raw) < 8 {
		return nil, false, nil
	}
	var cur int64
	if s, ok := vals[1].(string); ok {
		cur, _ = strconv.ParseInt(s, 10, 64)
	}
	if int64(binary.LittleEndian.Uint64([]byte(raw[:8]))) != cur {
		return nil, false, nil
	}
	return []byte(raw[8:]), true, nil
}

// TagVersion returns tag's version.
func (r *Redis) TagVersion(ctx context.Context, tag string) (int64, error) {
	v, err := r.c.Get(ctx, r.tagKey(tag)).Int64()
	if errors.Is(err, redis.Nil) {
		return 0, nil
	}
	return v, err
}

// Set stores an entry.
func (r *Redis) Set(ctx context.Context, key, tag string, ver int64, val []byte, ttl time.Duration) error {
	b := make([]byte, 8+len(val))
	binary.LittleEndian.PutUint64(b, uint64(ver))
	copy(b[8:], val)
	return r.c.Set(ctx, r.key(key), b, ttl).Err()
}

// Delete removes keys.
func (r *Redis) Delete(ctx context.Context, keys ...string) error {
	return r.c.Del(ctx, r.fullKeys(keys)...).Err()
}

func (r *Redis) fullKeys(keys []string) []string {
	full := make([]string, len(keys))
	for i, k := range keys {
		full[i] = r.key(k)
	}
	return full
}

// InvalidateTag moves tag to a new version.
func (r *Redis) InvalidateTag(ctx context.Context, tag string) error {
	return r.c.Set(ctx, r.tagKey(tag), newVersion(), tagTTL).Err()
}

// DeletePrefix removes every key of the current generation starting with
// prefix, with SCAN (never KEYS): for operators, not request paths.
func (r *Redis) DeletePrefix(ctx context.Context, prefix string) (int, error) {
	n := 0
	iter := r.c.Scan(ctx, 0, r.key(prefix)+"*", 500).Iterator()
	var batch []string
	for iter.Next(ctx) {
		batch = append(batch, iter.Val())
		if len(batch) == 500 {
			if err := r.c.Del(ctx, batch...).Err(); err != nil {
				return n, err
			}
			n += len(batch)
			batch = batch[:0]
		}
	}
	if len(batch) > 0 {
		if err := r.c.Del(ctx, batch...).Err(); err != nil {
			return n, err
		}
		n += len(batch)
	}
	return n, iter.Err()
}
