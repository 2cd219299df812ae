package music

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/maypok86/otter/v2"
	"github.com/plazahq/plaza/internal/apperr"
)

// Dedupe remembers which listens it has heard within a window: First
// reports, for each key, whether it is the first time within window (and
// remembers it when it is).
type Dedupe interface {
	First(ctx context.Context, keys []string, window time.Duration) ([]bool, error)
}

// PlayStore is what the counter needs of Store.
type PlayStore interface {
	MixCreator(ctx context.Context, id int64) (int64, bool, error)
	AddPlays(ctx context.Context, f PlayFlush) (PlayFlushResult, error)
}

// CounterConfig tunes a Counter; zero values take the defaults.
type CounterConfig struct {
	Window        time.Duration // a listener's plays of one mix count once per window (30 min)
	FlushInterval time.Duration // how often counts go to the database (5 s)
	Now           func() time.Time
	Log           *slog.Logger
	// XP is what one counted play by another listener earns the mix's
	// creator (0: nothing), XPDailyCap the most a creator earns from plays
	// in one UTC day (0: no cap). Awards are made by the flush, in its
	// transaction.
	XP, XPDailyCap int64
	// OnFlush runs after counts were written, with the mixes that moved
	// (the service drops cached lists so plays show).
	OnFlush func(ctx context.Context, ids []int64)
}

// Counter counts plays. A play is checked against Dedupe (once per
// listener per mix per Window) and, when it counts, added to a per-mix
// delta in memory; every FlushInterval the deltas are written in one
// transaction (one statement per 500 mixes) and cleared. A play therefore
// costs no database write, and a process killed without Stop loses the
// plays of at most the last FlushInterval. Deltas that fail to flush are
// kept and retried with the next flush.
//
// A counted play by anyone but the mix's creator also earns the creator
// XP: the play is given a ref of its own ("play:{mix}:{counter}.{seq}")
// kept with the deltas, and the flush awards the refs in its transaction,
// through the ledger (unique per user, reason and ref: a flush retried
// after a failure, or one whose commit was lost, never awards a ref
// twice). Refs are kept for at most XPDailyCap awards per creator per
// flush, and not at all for a creator the last flush found at the cap,
// until the next UTC day, so a popular creator's plays cost nothing more
// than a map lookup once they have their day's XP.
type Counter struct {
	cfg    CounterConfig
	store  PlayStore
	dedupe Dedupe
	id     string // this counter's part of play refs: random, per process

	mu        sync.Mutex
	pending   map[int64]int64
	pendingXP map[int64][]string // creator -> refs of plays that earned them XP
	capped    map[int64]int64    // creator -> the UTC day (Unix days) they reached the cap
	seq       int64

	creators *otter.Cache[int64, int64] // mix -> creator, for mixes known to exist, for a minute

	accepted, counted, flushes, rows, failures, xpAwarded atomic.Int64

	flushed func(ctx context.Context, awards map[int64]PlayXPResult) // set by NewService: drop cached lists, announce levels

	flushMu sync.Mutex // one flush at a time
	stop    chan struct{}
	done    chan struct{}
}

// NewCounter returns a counter; Start runs its flusher.
func NewCounter(store PlayStore, dedupe Dedupe, cfg CounterConfig) (*Counter, error) {
	if store == nil || dedupe == nil {
		return nil, errors.New("music: the play counter needs a store and a dedupe")
	}
	if cfg.Window <= 0 {
		cfg.Window = 30 * time.Minute
	}
	if cfg.FlushInterval <= 0 {
		cfg.FlushInterval = 5 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.XP < 0 || cfg.XPDailyCap < 0 {
		return nil, errors.New("music: play XP and its cap must not be negative")
	}
	creators, err := otter.New(&otter.Options[int64, int64]{MaximumSize: 100_000, ExpiryCalculator: otter.ExpiryWriting[int64, int64](time.Minute)})
	if err != nil {
		return nil, err
	}
	var b [5]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, err
	}
	return &Counter{cfg: cfg, store: store, dedupe: dedupe, id: base32.HexEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:]),
		pending: map[int64]int64{}, pendingXP: map[int64][]string{}, capped: map[int64]int64{}, creators: creators}, nil
}

// unixDay is t's UTC day, counted from 1970-01-01.
func unixDay(t time.Time) int64 { return t.Unix() / 86400 }

// Play records a play of mix by listener ("u:42" or "ip:203.0.113.9"). It
// answers NotFound for a mix that does not exist; a repeat within the
// window is accepted and not counted.
func (c *Counter) Play(ctx context.Context, mix int64, listener string) error {
	creator, ok := c.creators.GetIfPresent(mix)
	if !ok {
		var err error
		creator, ok, err = c.store.MixCreator(ctx, mix)
		if err != nil {
			return err
		}
		if !ok {
			return apperr.New(apperr.NotFound, "mix not found")
		}
		c.creators.Set(mix, creator)
	}
	first, err := c.dedupe.First(ctx, []string{strconv.FormatInt(mix, 10) + "|" + listener}, c.cfg.Window)
	if err != nil {
		return err
	}
	c.accepted.Add(1)
	if !first[0] {
		return nil
	}
	c.counted.Add(1)
	earns := c.cfg.XP > 0 && !isUser(listener, creator)
	c.mu.Lock()
	c.pending[mix]++
	if earns && c.capped[creator] != unixDay(c.cfg.Now()) {
		refs := c.pendingXP[creator]
		if c.cfg.XPDailyCap <= 0 || int64(len(refs))*c.cfg.XP < c.cfg.XPDailyCap {
			c.seq++
			c.pendingXP[creator] = append(refs, "play:"+strconv.FormatInt(mix, 10)+":"+c.id+"."+strconv.FormatInt(c.seq, 36))
		}
	}
	c.mu.Unlock()
	return nil
}

// isUser reports whether listener is the signed-in user id ("u:42").
func isUser(listener string, id int64) bool {
	n, ok := strings.CutPrefix(listener, "u:")
	return ok && n == strconv.FormatInt(id, 10)
}

func (c *Counter) known(mix, creator int64) { c.creators.Set(mix, creator) }

func (c *Counter) forget(mix int64) {
	c.creators.Invalidate(mix)
	c.mu.Lock()
	delete(c.pending, mix)
	c.mu.Unlock()
}

// Pending returns the plays counted and not yet flushed, per mix.
func (c *Counter) Pending() map[int64]int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[int64]int64, len(c.pending))
	for k, v := range c.pending {
		out[k] = v
	}
	return out
}

// Flush writes the pending counts, and makes the XP awards they earned,
// now. On failure both are kept for the next flush.
func (c *Counter) Flush(ctx context.Context) error {
	c.flushMu.Lock()
	defer c.flushMu.Unlock()
	c.mu.Lock()
	deltas, xp := c.pending, c.pendingXP
	if len(deltas) == 0 && len(xp) == 0 {
		c.mu.Unlock()
		return nil
	}
	c.pending = make(map[int64]int64, len(deltas))
	c.pendingXP = make(map[int64][]string, len(xp))
	c.mu.Unlock()

	f := PlayFlush{Deltas: deltas, XP: make([]PlayXP, 0, len(xp)), Amount: c.cfg.XP, DailyCap: c.cfg.XPDailyCap, At: c.cfg.Now()}
	for creator, refs := range xp {
		f.XP = append(f.XP, PlayXP{Creator: creator, Refs: refs})
	}
	res, err := c.store.AddPlays(ctx, f)
	if err != nil {
		c.failures.Add(1)
		c.mu.Lock()
		for k, v := range deltas {
			c.pending[k] += v
		}
		for creator, refs := range xp {
			// The refs that failed go first: they are the older plays.
			c.pendingXP[creator] = append(refs, c.pendingXP[creator]...)
		}
		c.mu.Unlock()
		return err
	}
	c.flushes.Add(1)
	c.rows.Add(int64(res.Rows))
	day := unixDay(f.At)
	c.mu.Lock()
	for creator, r := range res.XP {
		c.xpAwarded.Add(r.Awarded)
		if r.Capped {
			c.capped[creator] = day
			delete(c.pendingXP, creator) // counted since: past the cap too
		}
	}
	for creator, d := range c.capped {
		if d != day {
			delete(c.capped, creator)
		}
	}
	c.mu.Unlock()
	if c.flushed != nil {
		c.flushed(ctx, res.XP)
	}
	if c.cfg.OnFlush != nil {
		ids := make([]int64, 0, len(deltas))
		for id := range deltas {
			ids = append(ids, id)
		}
		c.cfg.OnFlush(ctx, ids)
	}
	return nil
}

// Start runs the flusher until Stop; ctx bounds it as well.
func (c *Counter) Start(ctx context.Context) {
	c.stop, c.done = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(c.done)
		t := time.NewTicker(c.cfg.FlushInterval)
		defer t.Stop()
		for {
			select {
			case <-c.stop:
				return
			case <-ctx.Done():
				return
			case <-t.C:
			}
			fctx, cancel := context.WithTimeout(ctx, c.cfg.FlushInterval)
			if err := c.Flush(fctx); err != nil {
				c.cfg.Log.Warn("plays not flushed; kept for the next flush", "err", err)
			}
			cancel()
		}
	}()
}

// Stop ends the flusher and flushes what is pending, within ctx.
func (c *Counter) Stop(ctx context.Context) error {
	if c.stop != nil {
		close(c.stop)
		<-c.done
		c.stop = nil
	}
	return c.Flush(ctx)
}

// CounterStats are the counter's figures since start.
type CounterStats struct {
	Accepted      int64 `json:"accepted"`      // plays answered 202
	Counted       int64 `json:"counted"`       // of those, first in their window
	Pending       int64 `json:"pending"`       // counted, not yet flushed
	Flushes       int64 `json:"flushes"`       // flush transactions committed
	RowsWritten   int64 `json:"rowsWritten"`   // mix rows updated by them
	FlushFailures int64 `json:"flushFailures"` // flushes that failed (and were retried)
	XPAwarded     int64 `json:"xpAwarded"`     // XP the flushes awarded creators for plays
}

// Stats returns the counter's figures.
func (c *Counter) Stats() CounterStats {
	c.mu.Lock()
	var pending int64
	for _, v := range c.pending {
		pending += v
	}
	c.mu.Unlock()
	return CounterStats{Accepted: c.accepted.Load(), Counted: c.counted.Load(), Pending: pending,
		Flushes: c.flushes.Load(), RowsWritten: c.rows.Load(), FlushFailures: c.failures.Load(), XPAwarded: c.xpAwarded.Load()}
}

// ---- in-process dedupe ----

// MemoryDedupe is the dedupe of one instance: an otter cache of keys with
// the time their window ends, bounded in size. Past MaxKeys, the least
// useful keys are evicted early and a repeat listen may count again.
type MemoryDedupe struct {
	seen *otter.Cache[string, int64] // key -> window end, Unix ns by now
	now  func() time.Time
}

// NewMemoryDedupe returns a dedupe holding at most maxKeys keys (default
// 1,000,000: about 100 MiB at most). now is the clock windows are measured
// with (tests pass a fake one).
func NewMemoryDedupe(maxKeys int, window time.Duration, now func() time.Time) (*MemoryDedupe, error) {
	if maxKeys <= 0 {
		maxKeys = 1_000_000
	}
	if now == nil {
		now = time.Now
	}
	if window <= 0 {
		window = 30 * time.Minute
	}
	seen, err := otter.New(&otter.Options[string, int64]{MaximumSize: maxKeys, ExpiryCalculator: otter.ExpiryWriting[string, int64](window)})
	if err != nil {
		return nil, err
	}
	return &MemoryDedupe{seen: seen, now: now}, nil
}

// First marks keys and reports which were not seen within window.
func (d *MemoryDedupe) First(_ context.Context, keys []string, window time.Duration) ([]bool, error) {
	out := make([]bool, len(keys))
	now := d.now().UnixNano()
	for i, k := range keys {
		d.seen.Compute(k, func(end int64, found bool) (int64, otter.ComputeOp) {
			if found && end > now {
				return end, otter.CancelOp
			}
			out[i] = true
			return now + int64(window), otter.WriteOp
		})
	}
	return out, nil
}
