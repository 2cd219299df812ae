package ratelimit

import (
	"context"
	"time"

	"github.com/redis/go-redis/v9"
)

// gcraScript is GCRA on the Redis server's clock, so every instance agrees
// on time. KEYS[1]: the key; ARGV: window ms, limit. Returns allowed (0/1),
// remaining, reset ms, retry-after ms.
var gcraScript = redis.NewScript(`
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local window = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local interval = window / limit
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local newtat = tat + interval
local allowat = newtat - window
if now < allowat then
  return {0, 0, math.ceil(tat - now), math.ceil(allowat - now)}
end
redis.call('SET', KEYS[1], newtat, 'PX', math.ceil(newtat - now) + 1000)
return {1, math.floor((now - allowat) / interval), math.ceil(newtat - now), 0}
`)

// Redis is the GCRA limiter shared by every instance.
type Redis struct {
	c      *redis.Client
	prefix string
}

// NewRedis returns a limiter whose keys start with prefix (e.g. "plaza:").
func NewRedis(c *redis.Client, prefix string) *Redis { return &Redis{c: c, prefix: prefix} }

// Allow decides for one request.
func (r *Redis) Allow(ctx context.Context, t Tier, key string) (Decision, error) {
	if t.Off() {
		return Decision{Allowed: true}, nil
	}
	res, err := gcraScript.Run(ctx, r.c, []string{r.prefix + "rl:" + t.Name + ":" + key}, t.Window.Milliseconds(), t.Limit).Int64Slice()
	if err != nil {
		return Decision{}, err
	}
	return Decision{Allowed: res[0] == 1, Limit: t.Limit, Remaining: int(res[1]),
		Reset: time.Duration(res[2]) * time.Millisecond, RetryAfter: time.Duration(res[3]) * time.Millisecond}, nil
}

// failScript records one failure in a sorted set scored by server time.
var failScript = redis.NewScript(`
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[1]))
redis.call('ZADD', KEYS[1], now, now .. ':' .. t[2] .. ':' .. math.random(1000000))
redis.call('ZREMRANGEBYRANK', KEYS[1], 0, -(tonumber(ARGV[2]) + 1))
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 1
`)

// blockedScript returns the wait in ms if the key is blocked, else -1.
var blockedScript = redis.NewScript(`
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local window = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local n = redis.call('ZCARD', KEYS[1])
if n < limit then return -1 end
local oldest = redis.call('ZRANGE', KEYS[1], n - limit, n - limit, 'WITHSCORES')
return math.max(tonumber(oldest[2]) + window - now, 1)
`)

// RedisFailures is the failure window shared by every instance.
type RedisFailures struct {
	c      *redis.Client
	prefix string
	tier   Tier
}

// NewRedisFailures blocks a key after tier.Limit failures within tier.Window.
func NewRedisFailures(c *redis.Client, prefix string, tier Tier) *RedisFailures {
	return &RedisFailures{c: c, prefix: prefix, tier: tier}
}

func (f *RedisFailures) key(k string) string { return f.prefix + "fail:" + k }

// Blocked reports whether key is blocked and for how long.
func (f *RedisFailures) Blocked(ctx context.Context, key string) (time.Duration, bool, error) {
	if f.tier.Off() {
		return 0, false, nil
	}
	ms, err := blockedScript.Run(ctx, f.c, []string{f.key(key)}, f.tier.Window.Milliseconds(), f.tier.Limit).Int64()
	if err != nil || ms < 0 {
		return 0, false, err
	}
	return time.Duration(ms) * time.Millisecond, true, nil
}

// Fail records a failure.
func (f *RedisFailures) Fail(ctx context.Context, key string) error {
	if f.tier.Off() {
		return nil
	}
	return failScript.Run(ctx, f.c, []string{f.key(key)}, f.tier.Window.Milliseconds(), f.tier.Limit).Err()
}
