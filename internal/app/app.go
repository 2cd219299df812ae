// Package app builds Plaza from its parts: the one place that knows which
// service needs which. The binary, the benchmarks and the HTTP tests all
// build the same graph here, from a configuration, an open database, Redis
// when configured, and a mailer.
package app

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/plazahq/plaza/internal/account"
	"github.com/plazahq/plaza/internal/achievements"
	"github.com/plazahq/plaza/internal/ai"
	"github.com/plazahq/plaza/internal/analytics"
	"github.com/plazahq/plaza/internal/cache"
	"github.com/plazahq/plaza/internal/community"
	"github.com/plazahq/plaza/internal/config"
	"github.com/plazahq/plaza/internal/courses"
	"github.com/plazahq/plaza/internal/events"
	"github.com/plazahq/plaza/internal/httpapi"
	"github.com/plazahq/plaza/internal/jobs"
	"github.com/plazahq/plaza/internal/leaderboard"
	"github.com/plazahq/plaza/internal/media"
	"github.com/plazahq/plaza/internal/moderation"
	"github.com/plazahq/plaza/internal/monitor"
	"github.com/plazahq/plaza/internal/music"
	"github.com/plazahq/plaza/internal/ratelimit"
	"github.com/plazahq/plaza/internal/realtime"
	"github.com/plazahq/plaza/internal/sqldb"
	"github.com/plazahq/plaza/internal/sqlstore"
	"github.com/redis/go-redis/v9"
	"github.com/stripe/stripe-go/v82"
)

// redisTimeout is how long a rate-limit decision waits for Redis before the
// local limiter decides.
const redisTimeout = 10 * time.Millisecond

// historySize is how many events each room keeps for reconnecting clients.
const historySize = 500

// Options are what the caller opened and chose.
type Options struct {
	Config config.Config
	DB     *sqldb.DB      // the caller closes it
	Redis  *redis.Client  // nil: in-process; the caller closes it
	Mailer account.Mailer // SMTP or the dev mailbox

	// Tests and tools may change these; zero values are production's.
	HashParams  account.HashParams
	MediaLimits media.Limits
	HistorySize int // events kept per room (default 500)
	// ManualRollups leaves analytics rollups to whoever calls
	// Analytics.Schedule (tests) instead of the scheduler.
	ManualRollups bool
	JobBackoff    func(attempts int) time.Duration
	Now           func() time.Time
	Log           *slog.Logger

	// PlaysFlushInterval is how often counted plays are written (default 5 s).
	PlaysFlushInterval time.Duration
	// AchievementRulesOff leaves queued achievement checks undone (tests).
	AchievementRulesOff bool
}

// App is every service of one instance.
type App struct {
	Config    config.Config
	DB        *sqldb.DB
	Cache     *cache.Cache
	Limiter   ratelimit.Limiter
	Accounts  *account.Service
	Broker    realtime.Broker
	Hub       *realtime.Hub
	Community *community.Service
	Events    *events.Service
	Jobs      *jobs.Queue
	AI        *ai.Service
	Analytics *analytics.Service
	Courses   *courses.Service
	XP        *sqlstore.XP    // the XP ledger
	Audit     *sqlstore.Audit // the hash-chained audit log of admin and moderator actions
	Board     *leaderboard.Board
	Media     *media.Store
	URLs      media.URLs
	Metrics   *monitor.Metrics
	Music     *music.Service
	Plays     *music.Counter
	// Achievements are achievements and collectibles; AchievementStore is
	// its store (ClaimTx lets a purchase claim in the wallet's transaction).
	Achievements     *achievements.Service
	AchievementStore *sqlstore.Achievements

	// Wallet is the ledger of credits; Stripe is nil without
	// STRIPE_SECRET_KEY (payments are off).
	Wallet    *sqlstore.Wallet
	Stripe    *stripe.Client
	walletNow func() time.Time

	// Moderation: users, bans, reports, removals, channel edits, stats.
	Moderation *moderation.Service

	playsShared *music.RedisDedupe    // nil without Redis
	playsDedupe *music.FallbackDedupe // nil without Redis
	// Ops samples the health figures for the operations dashboard.
	Ops *monitor.Series

	redis     *redis.Client
	limitDown func() bool // Redis skipped by the limiters
	log       *slog.Logger
	scheduler bool // the analytics scheduler runs
	started   bool
}

// New builds the services.
func New(ctx context.Context, o Options) (*App, error) {
	if o.DB == nil || o.Mailer == nil || o.Log == nil {
		return nil, errors.New("app: a database, a mailer and a logger are required")
	}
	if o.HashParams == (account.HashParams{}) {
		o.HashParams = account.DefaultHashParams
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.HistorySize <= 0 {
		o.HistorySize = historySize
	}
	cfg, log := o.Config, o.Log
	if o.MediaLimits == nil {
		o.MediaLimits = media.Limits{media.Image: int64(cfg.UploadImageMB) << 20, media.Audio: int64(cfg.UploadAudioMB) << 20}
	}
	a := &App{Config: cfg, DB: o.DB, redis: o.Redis, log: log, limitDown: func() bool { return false },
		scheduler: cfg.JobWorkers > 0 && !o.ManualRollups,
		URLs:      media.URLs{Base: cfg.CDNBaseURL, PerKind: map[media.Kind]string{media.Image: cfg.CDNImageURL, media.Audio: cfg.CDNAudioURL}},
		Metrics:   monitor.NewMetrics(o.Now)}
	var err error
	if a.Cache, err = cache.New(ctx, cache.Config{LocalBytes: uint64(cfg.CacheMB) << 20, Disabled: cfg.CacheOff, Prefix: cfg.RedisPrefix, Now: o.Now}, o.Redis, log); err != nil {
		return nil, err
	}
	if a.Media, err = media.NewStore(filepath.Join(cfg.DataDir, "uploads"), o.MediaLimits,
		media.ImageLimits{MaxSide: cfg.UploadImageMaxSide, MaxPixels: int64(cfg.UploadImageMaxPixels)}); err != nil {
		return nil, err
	}

	loginTier, _ := ratelimit.ParseTier("login", cfg.RateLimits["login"])
	localFailures := ratelimit.NewFailures(loginTier.Limit, loginTier.Window, o.Now)
	var failures account.FailureLimiter = localFailures
	loginIPTier, _ := ratelimit.ParseTier("login_ip", cfg.RateLimits["login_ip"])
	localIPFailures := ratelimit.NewFailures(loginIPTier.Limit, loginIPTier.Window, o.Now)
	var ipFailures account.FailureLimiter = localIPFailures
	a.Limiter = ratelimit.NewMemory(o.Now)
	if o.Redis != nil {
		fb := ratelimit.NewFallback(ratelimit.NewRedis(o.Redis, cfg.RedisPrefix), a.Limiter, redisTimeout, log)
		ff := ratelimit.NewFailureFallback(ratelimit.NewRedisFailures(o.Redis, cfg.RedisPrefix, loginTier), localFailures, redisTimeout, log)
		ffIP := ratelimit.NewFailureFallback(ratelimit.NewRedisFailures(o.Redis, cfg.RedisPrefix, loginIPTier), localIPFailures, redisTimeout, log)
		a.Limiter, failures, ipFailures = fb, ff, ffIP
		a.limitDown = func() bool { return fb.Down() || ff.Down() || ffIP.Down() }
	}

	var waker jobs.Waker
	if o.Redis != nil {
		waker = jobs.NewRedisWaker(o.Redis, cfg.RedisPrefix)
	}
	a.Jobs = jobs.NewQueue(o.DB, jobs.Config{Workers: cfg.JobWorkers, PollInterval: cfg.JobPoll, Backoff: o.JobBackoff, Now: o.Now}, waker, log)
	a.Jobs.Register(account.MailJobKind(o.Mailer))

	a.Broker = realtime.NewMemoryBroker(o.HistorySize, o.Now)
	if o.Redis != nil {
		a.Broker = realtime.NewRedisBroker(o.Redis, cfg.RedisPrefix, o.HistorySize, 24*time.Hour, log)
	}
	// The hub asks community who may join a room; community and accounts
	// publish through the hub.
	var comm *community.Service
	a.Hub = realtime.NewHub(realtime.Config{MaxConns: cfg.WSMaxConns, MaxConnsPerUser: cfg.WSMaxPerUser}, a.Broker,
		realtime.AuthorizerFunc(func(ctx context.Context, u account.User, room string) error { return comm.CanJoin(ctx, u, room) }), log)
	a.Accounts, err = account.NewService(account.Config{BaseURL: cfg.BaseURL}, account.Deps{
		Store: sqlstore.NewAccounts(o.DB), Hasher: account.NewHasher(o.HashParams, cfg.HashConcurrency),
		Jobs: a.Jobs, Failures: failures, Cache: a.Cache, Events: a.Hub, Now: o.Now, Log: log,
		IPFailures: ipFailures, AssetURL: a.URLs.URL,
	})
	if err != nil {
		return nil, err
	}
	a.Jobs.Register(a.Accounts.PasswordResetJobKind())
	a.XP = sqlstore.NewXP(o.DB, cfg.Levels)
	a.Audit = sqlstore.NewAudit(o.DB, o.Now)
	posts := sqlstore.NewCommunity(o.DB, a.XP, cfg.XPRules)
	comm, err = community.NewService(community.Deps{Store: posts, Users: a.Accounts.UserLoader,
		Publisher: a.Hub, Access: a.Hub, Presence: a.Hub, Jobs: a.Jobs, Mailer: o.Mailer, Cache: a.Cache, AssetURL: a.URLs.URL,
		BaseURL: cfg.BaseURL, Now: o.Now, Log: log})
	if err != nil {
		return nil, err
	}
	a.Community = comm
	a.Jobs.Register(comm.DigestJobKind())
	a.Events, err = events.NewService(events.Deps{Store: sqlstore.NewEvents(o.DB, a.XP), Users: a.Accounts.UserLoader,
		Publisher: a.Hub, Jobs: a.Jobs, Cache: a.Cache, AssetURL: a.URLs.URL, BaseURL: cfg.BaseURL,
		AttendanceXP: int64(cfg.XPAttendance), Now: o.Now, Log: log})
	if err != nil {
		return nil, err
	}
	a.Jobs.Register(a.Events.ReminderJobKind())

	var client *ai.Client
	if cfg.AIBaseURL != "" {
		client = ai.NewClient(cfg.AIBaseURL, cfg.AIAPIKey, cfg.AIModel)
	}
	a.AI = ai.NewService(sqlstore.NewAIRequests(o.DB), client, a.Jobs, a.Hub, log)
	a.Jobs.Register(a.AI.JobKind())
	a.Analytics = analytics.NewService(sqlstore.NewAnalytics(o.DB), a.Jobs, log, o.Now)
	a.Jobs.Register(a.Analytics.JobKind())
	if err := a.newMusic(o); err != nil {
		return nil, err
	}
	a.Courses, err = courses.NewService(courses.Config{}, courses.Deps{Store: sqlstore.NewCourses(o.DB, a.XP),
		Cache: a.Cache, Publisher: a.Hub, AssetURL: a.URLs.URL, Now: o.Now, Log: log})
	if err != nil {
		return nil, err
	}
	a.Wallet, a.walletNow = sqlstore.NewWallet(o.DB, o.Now), o.Now
	a.Stripe = newStripe(cfg, log)
	if err := a.newBoard(o); err != nil {
		return nil, err
	}
	a.AchievementStore = sqlstore.NewAchievements(o.DB, a.XP, a.Audit)
	if a.Achievements, err = achievements.NewService(achievements.Deps{Store: a.AchievementStore, Cache: a.Cache, Publisher: a.Hub,
		AssetURL: a.URLs.URL, Now: o.Now, Log: log, RulesOff: o.AchievementRulesOff}); err != nil {
		return nil, err
	}
	a.Jobs.Register(a.Achievements.CheckJobKind())
	if !o.AchievementRulesOff {
		posts.CheckInline(a.AchievementStore, a.Achievements.Announce) // on SQLite; MySQL queues every check
	}
	if err := a.newModeration(o); err != nil {
		return nil, err
	}
	a.Moderation.SetRevenue(a.Wallet)
	a.Ops = monitor.NewSeries(a.opsSample, opsInterval, opsKeep, o.Now)
	return a, nil
}

// playsRedisTimeout is how long a play waits for the shared dedupe before
// this instance decides alone.
const playsRedisTimeout = 50 * time.Millisecond

// newMusic builds the mixes, the play counter and now playing. Plays are
// deduplicated in Redis when there is one (falling back to this
// instance's memory), and counted per instance.
func (a *App) newMusic(o Options) error {
	store := sqlstore.NewMusic(o.DB, a.XP)
	var dedupe music.Dedupe
	local, err := music.NewMemoryDedupe(0, 0, o.Now)
	if err != nil {
		return err
	}
	dedupe = local
	if o.Redis != nil {
		a.playsShared = music.NewRedisDedupe(o.Redis, a.Config.RedisPrefix)
		a.playsDedupe = &music.FallbackDedupe{Shared: a.playsShared, Local: local, Timeout: playsRedisTimeout, Log: a.log}
		dedupe = a.playsDedupe
	}
	if a.Plays, err = music.NewCounter(store, dedupe, music.CounterConfig{FlushInterval: o.PlaysFlushInterval, Now: o.Now, Log: a.log,
		XP: a.Config.XPRules.MixPlayed, XPDailyCap: a.Config.XPRules.MixPlayDailyCap}); err != nil {
		return err
	}
	a.Music, err = music.NewService(music.Deps{Store: store, Users: a.Accounts.UserLoader, Cache: a.Cache, Publisher: a.Hub,
		Presence: a.Hub, Plays: a.Plays, Uploads: music.Uploads{URLs: a.URLs, BaseURL: a.Config.BaseURL, Dir: a.Media.Dir()},
		AssetURL: a.URLs.URL, Now: o.Now, Log: a.log})
	return err
}

// The operations dashboard's series: a sample every 2 s for 10 minutes.
const (
	opsInterval = 2 * time.Second
	opsKeep     = 300
)

// opsSample reads what /api/health reports, for the dashboard's charts.
func (a *App) opsSample() monitor.Sample {
	p := a.Metrics.Window.Snapshot()
	v := monitor.Sample{RequestsTotal: p.Total, P50Ms: p.P50Ms, P95Ms: p.P95Ms, ErrorRate: p.ErrorRate, WindowRequests: p.Requests,
		WSConnections: int(a.Hub.Stats().Connections)}
	for _, ps := range a.DB.Stats() {
		v.DBInUse += ps.InUse
		v.DBWaiting += ps.Waiting
		v.DBMaxOpen += ps.MaxOpen
		v.DBExhausted = v.DBExhausted || ps.Exhausted()
	}
	cs := a.Cache.Stats()
	v.CacheHitRate, v.CacheLookups = cs.HitRate, cs.Lookups
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	v.QueueDepth = a.Jobs.Stats(ctx).Pending
	return v
}

// HTTP returns the transport's configuration and dependencies (callers may
// adjust them before httpapi.New).
func (a *App) HTTP(version string) (httpapi.Config, httpapi.Deps) {
	tiers := map[string]ratelimit.Tier{}
	for name, v := range a.Config.RateLimits {
		if t, err := ratelimit.ParseTier(name, v); err == nil {
			tiers[name] = t
		}
	}
	probes := httpapi.Probes{Queue: func(ctx context.Context) httpapi.QueueHealth {
		st := a.Jobs.Stats(ctx)
		return httpapi.QueueHealth{Pending: st.Pending, Due: st.Due, Workers: int64(st.Workers), Dead: st.Dead}
	}}
	if a.redis != nil {
		probes.Redis = a.RedisDown
	}
	return httpapi.Config{CORSOrigins: a.Config.CORSOrigins, TrustedProxies: a.Config.TrustedProxies,
			MaxBodyBytes: a.Config.MaxBodyBytes, Version: version, Tiers: tiers, RequireVerified: a.Config.RequireVerified,
			BodyTimeout: a.Config.BodyTimeout, UploadTimeout: a.Config.UploadTimeout, MetricsToken: a.Config.MetricsToken},
		httpapi.Deps{Accounts: a.Accounts, DB: a.DB, Cache: a.Cache, Limiter: a.Limiter, Metrics: a.Metrics,
			Audit: a.Audit,
			Media: a.Media, URLs: a.URLs, Community: a.Community, Hub: a.Hub, Jobs: a.Jobs, AI: a.AI,
			Analytics: a.Analytics, Music: a.Music, Courses: a.Courses, Events: a.Events, XP: a.XP, Moderation: a.Moderation, Ops: a.Ops, Probes: probes, Log: a.log,
			Wallet: a.walletDeps(), Board: a.Board, XPTotals: a.XP, Achievements: a.Achievements}
}

// RedisDown reports whether Redis is configured and not answering, and why.
func (a *App) RedisDown() (bool, string) {
	if down, why := a.Cache.RemoteDown(); down {
		return true, why
	}
	if a.limitDown() {
		return true, "rate limiter fell back to local limits"
	}
	if a.playsDedupe != nil && a.playsDedupe.Down() {
		return true, "plays are deduplicated per instance: Redis did not answer"
	}
	if down, why := a.Board.Down(); down {
		return true, why
	}
	if rb, ok := a.Broker.(*realtime.RedisBroker); ok {
		if down, why := rb.Down(); down {
			return true, "real-time events reach this instance's clients only: " + why
		}
	}
	return false, ""
}

// Start runs the background parts: cache invalidation, the hub, and, when
// this instance has job workers, the workers and the analytics scheduler.
func (a *App) Start() error {
	a.Cache.Start()
	if err := a.Hub.Start(); err != nil {
		return err
	}
	if a.Config.JobWorkers > 0 {
		a.Jobs.Start()
	}
	if a.scheduler {
		a.Analytics.Start()
	}
	a.Plays.Start(context.Background())
	if err := a.Board.Start(context.Background()); err != nil {
		return err
	}
	a.Ops.Start()
	a.started = true
	return nil
}

// Stop ends them in order, within ctx: WebSockets close with "going away",
// running jobs finish or are handed back, then the cache stops. Call it
// after the HTTP server has stopped; the caller closes Redis and the DB.
func (a *App) Stop(ctx context.Context) error {
	if !a.started {
		return nil
	}
	var errs []error
	a.Ops.Stop()
	a.Board.Stop()
	if err := a.Hub.Close(ctx); err != nil {
		errs = append(errs, err)
	}
	if a.scheduler {
		a.Analytics.Stop()
	}
	if a.Config.JobWorkers > 0 {
		if err := a.Jobs.Stop(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	// Counted plays are written before the database closes; a process
	// killed without Stop loses at most one flush interval of them.
	if err := a.Plays.Stop(ctx); err != nil {
		errs = append(errs, err)
	}
	if a.playsShared != nil {
		a.playsShared.Close()
	}
	a.Cache.Stop()
	return errors.Join(errs...)
}
