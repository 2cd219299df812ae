package music

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisDedupe shares the dedupe between instances: a listen is the first
// of its window when SET key NX EX window succeeds. Concurrent plays are
// sent together: whatever is waiting when a sender is free goes out as one
// pipeline (up to 256 keys), so a busy instance makes one round trip per
// batch rather than per play, and an idle one adds no delay.
type RedisDedupe struct {
	c      *redis.Client
	prefix string
	reqs   chan *dedupeReq
	stop   chan struct{}
	wg     sync.WaitGroup
}

type dedupeReq struct {
	ctx    context.Context
	key    string
	window time.Duration
	first  bool
	err    error
	done   chan struct{}
}

const redisDedupeSenders = 4

// NewRedisDedupe starts the senders; Close stops them.
func NewRedisDedupe(c *redis.Client, prefix string) *RedisDedupe {
	d := &RedisDedupe{c: c, prefix: prefix + "plays:seen:", reqs: make(chan *dedupeReq, 4096), stop: make(chan struct{})}
	for range redisDedupeSenders {
		d.wg.Add(1)
		go d.send()
	}
	return d
}

// Close stops the senders; First then fails.
func (d *RedisDedupe) Close() {
	select {
	case <-d.stop:
	default:
		close(d.stop)
	}
	d.wg.Wait()
}

var errDedupeClosed = errors.New("music: Redis dedupe closed")

// First asks Redis for each key.
func (d *RedisDedupe) First(ctx context.Context, keys []string, window time.Duration) ([]bool, error) {
	reqs := make([]*dedupeReq, len(keys))
	for i, k := range keys {
		reqs[i] = &dedupeReq{ctx: ctx, key: d.prefix + k, window: window, done: make(chan struct{})}
		select {
		case d.reqs <- reqs[i]:
		case <-d.stop:
			return nil, errDedupeClosed
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	out := make([]bool, len(keys))
	for i, r := range reqs {
		select {
		case <-r.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if r.err != nil {
			return nil, r.err
		}
		out[i] = r.first
	}
	return out, nil
}

func (d *RedisDedupe) send() {
	defer d.wg.Done()
	batch := make([]*dedupeReq, 0, 256)
	for {
		select {
		case <-d.stop:
			return
		case r := <-d.reqs:
			batch = append(batch[:0], r)
		}
	drain:
		for len(batch) < cap(batch) {
			select {
			case r := <-d.reqs:
				batch = append(batch, r)
			default:
				break drain
			}
		}
		d.exec(batch)
	}
}

// exec sends one pipeline, bounded by the earliest deadline in the batch.
func (d *RedisDedupe) exec(batch []*dedupeReq) {
	ctx := context.Background()
	var deadline time.Time
	for _, r := range batch {
		if dl, ok := r.ctx.Deadline(); ok && (deadline.IsZero() || dl.Before(deadline)) {
			deadline = dl
		}
	}
	if !deadline.IsZero() {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, deadline)
		defer cancel()
	}
	pipe := d.c.Pipeline()
	cmds := make([]*redis.BoolCmd, len(batch))
	for i, r := range batch {
		cmds[i] = pipe.SetNX(ctx, r.key, 1, r.window)
	}
	_, err := pipe.Exec(ctx)
	for i, r := range batch {
		if err != nil && !errors.Is(cmds[i].Err(), redis.Nil) {
			r.err = err
		} else {
			r.first = cmds[i].Val()
		}
		close(r.done)
	}
}

// FallbackDedupe asks the shared dedupe and, if it does not answer within
// Timeout, decides with the local one, skipping Redis for a second after
// each failure. Every listen is recorded locally too, so while Redis is
// away this instance still recognises the listeners it has seen; only a
// listener who moves between instances during an outage can count twice.
type FallbackDedupe struct {
	Shared  Dedupe
	Local   Dedupe
	Timeout time.Duration
	Log     *slog.Logger

	openUntil atomic.Int64
}

// Down reports whether Redis is being skipped.
func (f *FallbackDedupe) Down() bool { return time.Now().UnixNano() < f.openUntil.Load() }

// First decides for keys.
func (f *FallbackDedupe) First(ctx context.Context, keys []string, window time.Duration) ([]bool, error) {
	local, err := f.Local.First(ctx, keys, window)
	if err != nil {
		return nil, err
	}
	if f.Down() {
		return local, nil
	}
	rctx, cancel := context.WithTimeout(ctx, f.Timeout)
	shared, err := f.Shared.First(rctx, keys, window)
	cancel()
	if err == nil {
		return shared, nil
	}
	if !f.Down() && f.Log != nil {
		f.Log.Warn("plays: Redis did not answer; deduplicating plays on this instance alone", "err", err)
	}
	f.openUntil.Store(time.Now().Add(time.Second).UnixNano())
	return local, nil
}
