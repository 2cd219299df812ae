package leaderboard

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/plazahq/plaza/internal/account"
	"github.com/plazahq/plaza/internal/batch"
	"github.com/plazahq/plaza/internal/cache"
	"github.com/plazahq/plaza/internal/gamification"
)

// Publisher publishes to a room after the fact (realtime.Hub).
type Publisher interface {
	Publish(ctx context.Context, room, typ string, data any) error
}

// Room is where board updates are published.
const Room = "leaderboard"

// Config tunes a Board; zero values take the defaults.
type Config struct {
	// PublishEvery bounds how often leaderboard.updated goes out (1 s).
	PublishEvery time.Duration
	// RefreshWhileDown is how often, while Redis is lost, the in-process
	// index is rebuilt from the ledger to pick up other instances' awards
	// (30 s).
	RefreshWhileDown time.Duration
	// Timeout bounds each Redis call (250 ms).
	Timeout time.Duration
	Now     func() time.Time
}

// Deps are what a Board reads and tells.
type Deps struct {
	Source    Source
	Shared    *Redis // nil: the in-process index alone
	Users     func() *batch.Loader[int64, account.User]
	AssetURL  func(string) string
	Cache     *cache.Cache
	Publisher Publisher
	Log       *slog.Logger
}

// Board serves the leaderboards. Every committed ledger row reaches it
// through Record; with Redis, rows go to both the shared index and this
// instance's, and reads go to Redis unless it is lost or not built.
type Board struct {
	cfg      Config
	d        Deps
	local    *Memory
	instance string // names this process's in-process versions in the cache

	mu      sync.Mutex
	downWhy string    // non-empty: Redis is lost
	dirty   bool      // a row did not reach Redis: it needs a rebuild
	lastRef time.Time // last refresh of the local index while down
	down    atomic.Bool

	changed atomic.Bool // a row since the last leaderboard.updated
	stop    chan struct{}
	wg      sync.WaitGroup
}

// New returns a board; Start rebuilds it from the ledger.
func New(cfg Config, d Deps) (*Board, error) {
	if d.Source == nil || d.Users == nil || d.Cache == nil || d.Publisher == nil || d.Log == nil {
		return nil, errors.New("leaderboard: source, users, cache, publisher and log are required")
	}
	if cfg.PublishEvery <= 0 {
		cfg.PublishEvery = time.Second
	}
	if cfg.RefreshWhileDown <= 0 {
		cfg.RefreshWhileDown = 30 * time.Second
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 250 * time.Millisecond
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if d.AssetURL == nil {
		d.AssetURL = func(s string) string { return s }
	}
	b := make([]byte, 6)
	rand.Read(b)
	return &Board{cfg: cfg, d: d, local: NewMemory(cfg.Now()), instance: hex.EncodeToString(b), stop: make(chan struct{})}, nil
}

// Record applies a committed ledger row (sqlstore.XP.OnCommit): to this
// instance's index at once, and to Redis within the timeout, so the
// writer's response follows the board's update. A row Redis did not take
// marks it for a rebuild.
func (b *Board) Record(row gamification.Posted) {
	ctx := context.Background()
	b.local.Apply(ctx, row) //nolint:errcheck // the in-process index does not fail
	b.changed.Store(true)
	if b.d.Shared == nil {
		return
	}
	if b.down.Load() {
		b.markDirty()
		return
	}
	ctx, cancel := context.WithTimeout(ctx, b.cfg.Timeout)
	defer cancel()
	if err := b.d.Shared.Apply(ctx, row); err != nil {
		b.markDirty()
		if !errors.Is(err, ErrNotBuilt) {
			b.fail(err)
		}
	}
}

func (b *Board) markDirty() {
	b.mu.Lock()
	b.dirty = true
	b.mu.Unlock()
}

func (b *Board) fail(err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.downWhy == "" {
		b.d.Log.Warn("leaderboard: Redis not answering; serving this instance's index", "err", err)
		b.lastRef = b.cfg.Now()
	}
	b.downWhy = err.Error()
	b.dirty = true
	b.down.Store(true)
}

// Down reports whether Redis is configured and the board is served from
// this instance's index instead, and why.
func (b *Board) Down() (bool, string) {
	if !b.down.Load() {
		return false, ""
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return true, "leaderboard served from this instance's index: " + b.downWhy
}

// Start rebuilds the in-process index from the ledger (and the Redis one
// when Redis holds none), then runs the publisher and, with Redis, the
// watch that rebuilds it after an outage.
func (b *Board) Start(ctx context.Context) error {
	if err := b.local.Rebuild(ctx, b.d.Source, b.cfg.Now()); err != nil {
		return fmt.Errorf("leaderboard: rebuilding from the ledger: %w", err)
	}
	if b.d.Shared != nil {
		b.checkShared(ctx, false)
	}
	b.wg.Add(1)
	go b.loop()
	return nil
}

// Stop ends the background work.
func (b *Board) Stop() {
	select {
	case <-b.stop:
	default:
		close(b.stop)
	}
	b.wg.Wait()
}

func (b *Board) loop() {
	defer b.wg.Done()
	t := time.NewTicker(b.cfg.PublishEvery)
	defer t.Stop()
	for {
		select {
		case <-b.stop:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		if b.d.Shared != nil {
			b.checkShared(ctx, true)
		}
		b.publish(ctx)
		cancel()
	}
}

// checkShared finds Redis' state: lost (refresh the local index now and
// then), back or never built (rebuild it), fine.
func (b *Board) checkShared(ctx context.Context, refresh bool) {
	b.mu.Lock()
	dirty, down, lastRef := b.dirty, b.downWhy != "", b.lastRef
	b.mu.Unlock()
	hctx, cancel := context.WithTimeout(ctx, b.cfg.Timeout)
	_, err := b.d.Shared.Head(hctx, AllTime, 0, b.cfg.Now())
	cancel()
	switch {
	case err != nil && !errors.Is(err, ErrNotBuilt):
		b.fail(err)
		if refresh && b.cfg.Now().Sub(lastRef) >= b.cfg.RefreshWhileDown {
			b.mu.Lock()
			b.lastRef = b.cfg.Now()
			b.mu.Unlock()
			if err := b.local.Rebuild(ctx, b.d.Source, b.cfg.Now()); err != nil {
				b.d.Log.Warn("leaderboard: refreshing the local index failed", "err", err)
			}
		}
		return
	case err == nil && !dirty && !down:
		return
	}
	// Not built, or back after rows missed it: rebuild from the ledger.
	if err := b.d.Shared.Rebuild(ctx, b.d.Source, b.cfg.Now()); err != nil {
		if !errors.Is(err, ErrBuilding) {
			b.fail(err)
		}
		return
	}
	b.mu.Lock()
	if b.downWhy != "" {
		b.d.Log.Info("leaderboard: Redis answers again; its index was rebuilt")
	}
	b.downWhy, b.dirty = "", false
	b.down.Store(false)
	b.mu.Unlock()
	b.changed.Store(true)
}

// Rebuild rebuilds both indexes from the ledger now (admin).
func (b *Board) Rebuild(ctx context.Context) error {
	if err := b.local.Rebuild(ctx, b.d.Source, b.cfg.Now()); err != nil {
		return err
	}
	if b.d.Shared != nil {
		if err := b.d.Shared.Rebuild(ctx, b.d.Source, b.cfg.Now()); err != nil && !errors.Is(err, ErrBuilding) {
			b.fail(err)
			return err
		}
	}
	b.changed.Store(true)
	return nil
}

// User is a user as a board shows them.
type User struct {
	ID          int64  `json:"id"`
	Username    string `json:"username"`
	DisplayName string `json:"displayName"`
	AvatarURL   string `json:"avatarUrl"`
	Level       int    `json:"level"`
}

// Item is one line of a board.
type Item struct {
	Rank int   `json:"rank"`
	User User  `json:"user"`
	XP   int64 `json:"xp"`
}

// Standing is the caller's place.
type Standing struct {
	Rank int   `json:"rank"`
	XP   int64 `json:"xp"`
}

// View is GET /api/leaderboard's body.
type View struct {
	Period    Period     `json:"period"`
	Items     []Item     `json:"items"`
	Me        *Standing  `json:"me"`
	UpdatedAt *time.Time `json:"updatedAt"`
}

// Query asks for a board page.
type Query struct {
	Period Period
	Limit  int   // 1..MaxLimit
	User   int64 // the caller; 0 anonymous
	Around bool  // center the page on the caller
}

// index picks Redis unless it is lost; the bool says it is the shared one.
func (b *Board) head(ctx context.Context, q Query) (Index, Head, string, error) {
	now := b.cfg.Now()
	if b.d.Shared != nil && !b.down.Load() {
		hctx, cancel := context.WithTimeout(ctx, b.cfg.Timeout)
		h, err := b.d.Shared.Head(hctx, q.Period, q.User, now)
		cancel()
		if err == nil {
			return b.d.Shared, h, "r" + h.Version, nil
		}
		if !errors.Is(err, ErrNotBuilt) && ctx.Err() == nil {
			b.fail(err)
		}
	}
	h, err := b.local.Head(ctx, q.Period, q.User, now)
	return b.local, h, "m" + b.instance + "." + h.Version, err
}

// Get returns a page of a board: the top Limit, or with Around the Limit
// standings around the caller's, and the caller's standing. The page is
// cached in the medium tier under the board's version, which every
// change moves: a cached page is never older than the board.
func (b *Board) Get(ctx context.Context, q Query) (View, error) {
	if q.Limit < 1 || q.Limit > MaxLimit {
		return View{}, fmt.Errorf("leaderboard: limit %d out of 1..%d", q.Limit, MaxLimit)
	}
	idx, h, version, err := b.head(ctx, q)
	if err != nil {
		return View{}, err
	}
	offset := 0
	if q.Around && h.Me != nil {
		offset = max(0, min(h.Me.Rank-1-q.Limit/2, h.Total-q.Limit))
	}
	key := "leaderboard:" + string(q.Period) + ":" + strconv.Itoa(offset) + ":" + strconv.Itoa(q.Limit) + ":" + version
	body, err := b.d.Cache.Get(ctx, cache.Medium, key, "leaderboard", func(ctx context.Context) ([]byte, error) {
		items, err := b.page(ctx, idx, q.Period, offset, q.Limit)
		if err != nil {
			return nil, err
		}
		return json.Marshal(items)
	})
	if err != nil && idx != Index(b.local) {
		// Redis failed between the head and the page: this instance's
		// index answers.
		b.fail(err)
		return b.Get(ctx, q)
	}
	if err != nil {
		return View{}, err
	}
	v := View{Period: q.Period, Items: []Item{}}
	if err := json.Unmarshal(body, &v.Items); err != nil {
		return View{}, err
	}
	if h.Me != nil {
		v.Me = &Standing{Rank: h.Me.Rank, XP: h.Me.XP}
	}
	if !h.UpdatedAt.IsZero() {
		v.UpdatedAt = &h.UpdatedAt
	}
	return v, nil
}

// page reads offset..offset+limit of p and fills in the users through the
// batch loader (one query for the page, or none when cached).
func (b *Board) page(ctx context.Context, idx Index, p Period, offset, limit int) ([]Item, error) {
	entries, err := idx.Range(ctx, p, offset, limit)
	if err != nil {
		return nil, err
	}
	ids := make([]int64, len(entries))
	for i, e := range entries {
		ids[i] = e.UserID
	}
	users, err := b.d.Users().LoadMany(ctx, ids)
	if err != nil {
		return nil, err
	}
	items := make([]Item, 0, len(entries))
	for _, e := range entries {
		u, ok := users[e.UserID]
		if !ok {
			continue // deleted since; the next rebuild drops them
		}
		items = append(items, Item{Rank: e.Rank, XP: e.XP, User: User{ID: u.ID, Username: u.Username,
			DisplayName: u.DisplayName, AvatarURL: b.d.AssetURL(u.AvatarURL), Level: u.Level}})
	}
	return items, nil
}

// publishTop is how many standings leaderboard.updated carries.
const publishTop = 10

// publish sends leaderboard.updated (the top 10 of each board) when a row
// arrived since the last one; with Redis, one instance per period does.
func (b *Board) publish(ctx context.Context) {
	if !b.changed.Load() {
		return
	}
	if b.d.Shared != nil && !b.down.Load() {
		gctx, cancel := context.WithTimeout(ctx, b.cfg.Timeout)
		ok, err := b.d.Shared.PublishGate(gctx, b.cfg.PublishEvery)
		cancel()
		if err == nil && !ok {
			return // another instance published within the period; try again next tick
		}
	}
	b.changed.Store(false)
	boards := map[Period]View{}
	for _, p := range Periods {
		v, err := b.Get(ctx, Query{Period: p, Limit: publishTop})
		if err != nil {
			b.d.Log.Warn("leaderboard: update not published", "err", err)
			return
		}
		boards[p] = v
	}
	if err := b.d.Publisher.Publish(ctx, Room, "leaderboard.updated", map[string]any{"boards": boards}); err != nil {
		b.d.Log.Warn("leaderboard: update not published", "err", err)
	}
}
