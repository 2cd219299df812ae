package leaderboard

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/plazahq/plaza/internal/gamification"
	"github.com/redis/go-redis/v9"
)

// Redis is the index in Redis, shared by every instance. Each board is a
// sorted set whose score is minus the XP and whose member is the tie
// (the user's latest counted row id, zero-padded) and the user id: an
// ascending range gives most XP first and, at equal XP, whoever reached
// it first. A hash per board maps users to "xp:tie" (to find and move
// their member); a hash per hour of the last 30 days holds what each user
// earned in it, taken out of a window as the hour leaves it. Every change
// runs in one Lua script, so instances never see half of one. The keys of
// a build live under a generation number; a rebuild fills the next one
// and switches to it atomically.
type Redis struct {
	rc *redis.Client
	ns string // key prefix, "plaza:lb:"
}

// NewRedis returns the index under prefix (the deployment's Redis
// prefix, e.g. "plaza:").
func NewRedis(rc *redis.Client, prefix string) *Redis {
	return &Redis{rc: rc, ns: prefix + "lb:"}
}

// ErrNotBuilt is returned while Redis holds no board yet (never built, or
// its keys were lost): the caller serves another index and rebuilds.
var ErrNotBuilt = errors.New("leaderboard: the Redis index is not built")

// ErrBuilding is returned by Rebuild when another instance is rebuilding.
var ErrBuilding = errors.New("leaderboard: another instance is rebuilding the Redis index")

const luaCommon = `
local function member(tie, user) return string.format('%016d', tie) .. ':' .. user end
local function board_add(sp, p, user, delta, tie)
  local h, z = sp .. 'h:' .. p, sp .. 'z:' .. p
  local cur = redis.call('HGET', h, user)
  local score, t = 0, 0
  if cur then
    local i = string.find(cur, ':', 1, true)
    score, t = tonumber(string.sub(cur, 1, i - 1)), tonumber(string.sub(cur, i + 1))
    if score > 0 then redis.call('ZREM', z, member(t, user)) end
  end
  score = score + delta
  if tie > t then t = tie end
  if score > 0 then redis.call('ZADD', z, -score, member(t, user)) end
  redis.call('HSET', h, user, string.format('%d:%d', score, t))
  return score
end
local function apply_row(sp, id, user, amt, at)
  if amt == 0 or id <= tonumber(redis.call('HGET', sp .. 'wm', user) or '0') then return end
  board_add(sp, 'all', user, amt, id)
  local hr = math.floor(at / 3600000)
  if hr > tonumber(redis.call('GET', sp .. 'rolled:30d')) then
    redis.call('HINCRBY', sp .. 'b:' .. hr, user, amt)
    redis.call('EXPIRE', sp .. 'b:' .. hr, 2764800)
    board_add(sp, '30d', user, amt, id)
  end
  if hr > tonumber(redis.call('GET', sp .. 'rolled:7d')) then board_add(sp, '7d', user, amt, id) end
end
local function roll(sp, p, hours, now_hour)
  local rolled = tonumber(redis.call('GET', sp .. 'rolled:' .. p))
  local target = now_hour - hours
  if target <= rolled then return false end
  local from = math.max(rolled + 1, target - 720)
  for hr = from, target do
    local kv = redis.call('HGETALL', sp .. 'b:' .. hr)
    for j = 1, #kv, 2 do
      if board_add(sp, p, kv[j], -tonumber(kv[j + 1]), 0) == 0 then redis.call('HDEL', sp .. 'h:' .. p, kv[j]) end
    end
    if p == '30d' then redis.call('DEL', sp .. 'b:' .. hr) end
  end
  redis.call('SET', sp .. 'rolled:' .. p, target)
  return true
end
local function bump(ns, now_ms)
  redis.call('INCR', ns .. 'ver')
  redis.call('SET', ns .. 'upd', now_ms)
end
`

// applyScript: ARGV ns, now_ms, then id, user, amount, at_ms per row.
var applyScript = redis.NewScript(luaCommon + `
local ns = ARGV[1]
local building = redis.call('EXISTS', ns .. 'building') == 1
local g = redis.call('GET', ns .. 'gen')
for i = 3, #ARGV, 4 do
  if building then redis.call('RPUSH', ns .. 'pending', ARGV[i] .. ',' .. ARGV[i+1] .. ',' .. ARGV[i+2] .. ',' .. ARGV[i+3]) end
  if g then apply_row(ns .. g .. ':', tonumber(ARGV[i]), ARGV[i+1], tonumber(ARGV[i+2]), tonumber(ARGV[i+3])) end
end
if not g then return 0 end
bump(ns, ARGV[2])
return 1
`)

// headScript: ARGV ns, period, user, now_ms → {built, gen, ver, upd, total, rank0 or -1, xp}.
var headScript = redis.NewScript(luaCommon + `
local ns, p, user, now_ms = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
local g = redis.call('GET', ns .. 'gen')
if not g then return {0} end
local sp = ns .. g .. ':'
local now_hour = math.floor(now_ms / 3600000)
local moved = roll(sp, '7d', 168, now_hour)
moved = roll(sp, '30d', 720, now_hour) or moved
if moved then bump(ns, now_ms) end
local rank, xp = -1, 0
if user ~= '0' then
  local cur = redis.call('HGET', sp .. 'h:' .. p, user)
  if cur then
    local i = string.find(cur, ':', 1, true)
    local s, t = tonumber(string.sub(cur, 1, i - 1)), tonumber(string.sub(cur, i + 1))
    if s > 0 then rank, xp = redis.call('ZRANK', sp .. 'z:' .. p, member(t, user)), s end
  end
end
return {1, g, redis.call('GET', ns .. 'ver') or '0', redis.call('GET', ns .. 'upd') or '0', redis.call('ZCARD', sp .. 'z:' .. p), rank, xp}
`)

// rangeScript: ARGV ns, period, start, stop → flat member, score pairs, or false unbuilt.
var rangeScript = redis.NewScript(`
local g = redis.call('GET', ARGV[1] .. 'gen')
if not g then return false end
return redis.call('ZRANGE', ARGV[1] .. g .. ':z:' .. ARGV[2], ARGV[3], ARGV[4], 'WITHSCORES')
`)

// beginScript: ARGV ns, token, now_hour → the new generation, or 0 when
// another build runs. From here on applied rows are also queued.
var beginScript = redis.NewScript(`
local ns = ARGV[1]
if not redis.call('SET', ns .. 'building', ARGV[2], 'NX', 'PX', 600000) then return 0 end
redis.call('DEL', ns .. 'pending')
local gen = redis.call('INCR', ns .. 'gencounter')
local sp = ns .. gen .. ':'
redis.call('SET', sp .. 'rolled:7d', tonumber(ARGV[3]) - 168)
redis.call('SET', sp .. 'rolled:30d', tonumber(ARGV[3]) - 720)
return gen
`)

// loadScript: ARGV ns, gen, then user, hour, amount, max_id per aggregate.
var loadScript = redis.NewScript(luaCommon + `
local sp = ARGV[1] .. ARGV[2] .. ':'
for i = 3, #ARGV, 4 do
  local user, hr, amt, id = ARGV[i], tonumber(ARGV[i+1]), tonumber(ARGV[i+2]), tonumber(ARGV[i+3])
  if hr == 0 then
    redis.call('HSET', sp .. 'wm', user, id)
    board_add(sp, 'all', user, amt, id)
  else
    redis.call('HINCRBY', sp .. 'b:' .. hr, user, amt)
    redis.call('EXPIRE', sp .. 'b:' .. hr, 2764800)
    if hr > tonumber(redis.call('GET', sp .. 'rolled:30d')) then board_add(sp, '30d', user, amt, id) end
    if hr > tonumber(redis.call('GET', sp .. 'rolled:7d')) then board_add(sp, '7d', user, amt, id) end
  end
end
return 1
`)

// finishScript: ARGV ns, gen, token, now_ms. Replays the queued rows onto
// the new generation (the watermark skips those the snapshot counted),
// switches to it and lets the old one expire.
var finishScript = redis.NewScript(luaCommon + `
local ns, gen, now_ms = ARGV[1], ARGV[2], tonumber(ARGV[4])
if redis.call('GET', ns .. 'building') ~= ARGV[3] then return 0 end
local sp = ns .. gen .. ':'
for _, row in ipairs(redis.call('LRANGE', ns .. 'pending', 0, -1)) do
  local a, b, c = string.find(row, ',', 1, true), nil, nil
  b = string.find(row, ',', a + 1, true)
  c = string.find(row, ',', b + 1, true)
  apply_row(sp, tonumber(string.sub(row, 1, a - 1)), string.sub(row, a + 1, b - 1), tonumber(string.sub(row, b + 1, c - 1)), tonumber(string.sub(row, c + 1)))
end
local old = redis.call('GET', ns .. 'gen')
redis.call('SET', ns .. 'gen', gen)
redis.call('DEL', ns .. 'building', ns .. 'pending')
bump(ns, now_ms)
if old and old ~= gen then
  local op = ns .. old .. ':'
  local r30 = tonumber(redis.call('GET', op .. 'rolled:30d') or '0')
  for _, k in ipairs({'z:all', 'z:7d', 'z:30d', 'h:all', 'h:7d', 'h:30d', 'rolled:7d', 'rolled:30d', 'wm'}) do redis.call('EXPIRE', op .. k, 60) end
  local now_hour = math.floor(now_ms / 3600000)
  if r30 > 0 and now_hour + 48 - r30 <= 2000 then
    for hr = r30 + 1, now_hour + 48 do redis.call('EXPIRE', op .. 'b:' .. hr, 60) end
  end
end
return 1
`)

// Apply implements Index. It returns ErrNotBuilt when Redis holds no
// board (the rows are queued if a build runs).
func (r *Redis) Apply(ctx context.Context, rows ...gamification.Posted) error {
	if len(rows) == 0 {
		return nil
	}
	args := make([]any, 0, 2+4*len(rows))
	args = append(args, r.ns, rows[len(rows)-1].At.UnixMilli())
	for _, row := range rows {
		args = append(args, row.ID, row.UserID, row.Amount, row.At.UnixMilli())
	}
	built, err := applyScript.Run(ctx, r.rc, nil, args...).Int()
	if err != nil {
		return err
	}
	if built == 0 {
		return ErrNotBuilt
	}
	return nil
}

// Head implements Index.
func (r *Redis) Head(ctx context.Context, p Period, user int64, now time.Time) (Head, error) {
	v, err := headScript.Run(ctx, r.rc, nil, r.ns, string(p), user, now.UnixMilli()).Slice()
	if err != nil {
		return Head{}, err
	}
	if len(v) < 7 || v[0].(int64) == 0 {
		return Head{}, ErrNotBuilt
	}
	upd, _ := strconv.ParseInt(v[3].(string), 10, 64)
	h := Head{Version: v[1].(string) + "." + v[2].(string), Total: int(v[4].(int64))}
	if upd > 0 {
		h.UpdatedAt = time.UnixMilli(upd).UTC()
	}
	if rank := v[5].(int64); rank >= 0 {
		h.Me = &Entry{UserID: user, XP: v[6].(int64), Rank: int(rank) + 1}
	}
	return h, nil
}

// Range implements Index.
func (r *Redis) Range(ctx context.Context, p Period, offset, limit int) ([]Entry, error) {
	if err := checkRange(offset, limit); err != nil {
		return nil, err
	}
	if limit == 0 {
		return []Entry{}, nil
	}
	v, err := rangeScript.Run(ctx, r.rc, nil, r.ns, string(p), offset, offset+limit-1).StringSlice()
	if errors.Is(err, redis.Nil) {
		return nil, ErrNotBuilt
	}
	if err != nil {
		return nil, err
	}
	out := make([]Entry, 0, len(v)/2)
	for i := 0; i+1 < len(v); i += 2 {
		_, u, ok := strings.Cut(v[i], ":")
		user, err1 := strconv.ParseInt(u, 10, 64)
		score, err2 := strconv.ParseFloat(v[i+1], 64)
		if !ok || err1 != nil || err2 != nil {
			return nil, fmt.Errorf("leaderboard: bad member %q score %q", v[i], v[i+1])
		}
		out = append(out, Entry{UserID: user, XP: int64(-score), Rank: offset + len(out) + 1})
	}
	return out, nil
}

// PublishGate reports whether this instance may publish a board update
// now: at most one instance in every period publishes.
func (r *Redis) PublishGate(ctx context.Context, every time.Duration) (bool, error) {
	return r.rc.SetNX(ctx, r.ns+"pub", "1", every).Result()
}

// loadBatch is how many aggregates one load script call writes.
const loadBatch = 250

// Rebuild implements Index: it claims the build (ErrBuilding if another
// instance holds it), reads the ledger into the next generation, then
// replays the rows applied meanwhile and switches generations in one
// script.
func (r *Redis) Rebuild(ctx context.Context, src Source, now time.Time) error {
	tok := make([]byte, 8)
	rand.Read(tok)
	token := hex.EncodeToString(tok)
	nowHour := hourOf(now)
	gen, err := beginScript.Run(ctx, r.rc, nil, r.ns, token, nowHour).Int64()
	if err != nil {
		return err
	}
	if gen == 0 {
		return ErrBuilding
	}
	release := func() {
		// A failed build lets the next one start at once.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		defer cancel()
		r.rc.Eval(cctx, `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`, []string{r.ns + "building"}, token)
	}
	args := []any{r.ns, gen}
	flush := func() error {
		if len(args) == 2 {
			return nil
		}
		err := loadScript.Run(ctx, r.rc, nil, args...).Err()
		args = args[:2]
		return err
	}
	err = src.Snapshot(ctx, nowHour-Month.hours()+1, func(a Agg) error {
		args = append(args, a.UserID, a.Hour, a.Amount, a.MaxID)
		if len(args) >= 2+4*loadBatch {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		release()
		return err
	}
	ok, err := finishScript.Run(ctx, r.rc, nil, r.ns, gen, token, now.UnixMilli()).Int()
	if err != nil {
		release()
		return err
	}
	if ok == 0 {
		return errors.New("leaderboard: the Redis build outlived its claim; it was not switched in")
	}
	return nil
}
