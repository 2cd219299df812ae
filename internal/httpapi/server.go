// Package httpapi is Plaza's HTTP transport: the route table, the middleware
// every route shares (request id, recovery, security headers, CORS, body
// limits), authentication, and the one adapter that renders every error in
// the format of PRODUCT.md.
package httpapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/plazahq/plaza/internal/analytics"

	"github.com/plazahq/plaza/internal/ai"

	"github.com/plazahq/plaza/internal/account"
	"github.com/plazahq/plaza/internal/achievements"
	"github.com/plazahq/plaza/internal/apperr"
	"github.com/plazahq/plaza/internal/cache"
	"github.com/plazahq/plaza/internal/community"
	"github.com/plazahq/plaza/internal/connlimit"
	"github.com/plazahq/plaza/internal/courses"
	"github.com/plazahq/plaza/internal/events"
	"github.com/plazahq/plaza/internal/jobs"
	"github.com/plazahq/plaza/internal/media"
	"github.com/plazahq/plaza/internal/moderation"
	"github.com/plazahq/plaza/internal/monitor"
	"github.com/plazahq/plaza/internal/music"
	"github.com/plazahq/plaza/internal/ratelimit"
	"github.com/plazahq/plaza/internal/realtime"
	"github.com/plazahq/plaza/internal/sqldb"
	"github.com/plazahq/plaza/web"
)

// Config tunes the transport.
type Config struct {
	CORSOrigins    []string
	TrustedProxies []string
	MaxBodyBytes   int64
	Version        string
	// Tiers maps tier names ("api", "strict", "ai", "payment") to limits;
	// a missing name means unlimited.
	Tiers map[string]ratelimit.Tier
	// BodyTimeout bounds the time a client has to send a request body
	// (UploadTimeout for POST /api/uploads); zero means none.
	BodyTimeout   time.Duration
	UploadTimeout time.Duration
	// MetricsToken is the bearer token GET /metrics wants on this handler;
	// empty: /metrics is not served here (404).
	MetricsToken string
	// RequireVerified makes verified routes refuse accounts whose email is
	// not verified yet (PLAZA_REQUIRE_VERIFIED).
	RequireVerified bool
}

// Deps are the services the routes call.
type Deps struct {
	Accounts  *account.Service
	DB        *sqldb.DB
	Cache     *cache.Cache
	Limiter   ratelimit.Limiter
	Metrics   *monitor.Metrics
	Media     *media.Store
	URLs      media.URLs
	Community *community.Service
	Hub       *realtime.Hub
	Jobs      *jobs.Queue
	AI        *ai.Service
	Analytics *analytics.Service
	Music     *music.Service
	Courses   *courses.Service
	Events    *events.Service
	XP        XPLedger // GET /api/users/me/xp
	// Board serves GET /api/leaderboard; XPTotals the admin XP rebuild.
	Board    Leaderboard
	XPTotals XPTotals

	// Moderation serves the admins' users, bans, reports, channel edits,
	// cache and stats routes.
	Moderation *moderation.Service
	// Probes report on optional parts (Redis, the job queue, WebSockets)
	// for /api/health; nil means the part is absent.
	Probes Probes
	Log    *slog.Logger
	// Ops is the sampled series behind GET /api/admin/ops/series; nil: the
	// route answers with no samples.
	Ops *monitor.Series
	// Audit is the audit log: GET /api/admin/audit and every admin and
	// moderator action records itself in it (audit.go).
	Audit AuditLog
	// Wallet serves the wallet, its admin routes and Stripe payments.
	Wallet WalletDeps
	// Achievements serves achievements and collectibles (required).
	Achievements *achievements.Service
}

// Server holds the routes and what they need.
type Server struct {
	cfg       Config
	shared    *sharedBodies // compressed forms of bodies many requests send (shared_body.go)
	accounts  *account.Service
	db        *sqldb.DB
	cache     *cache.Cache
	limiter   ratelimit.Limiter
	metrics   *monitor.Metrics
	media     *media.Store
	urls      media.URLs
	community *community.Service
	hub       *realtime.Hub
	jobs      *jobs.Queue
	ai        *ai.Service
	analytics *analytics.Service
	music     *music.Service
	courses   *courses.Service
	events    *events.Service
	xp        XPLedger
	board     Leaderboard
	xpTotals  XPTotals
	probes    Probes
	log       *slog.Logger
	proxies   proxies
	routes    []route
	handler   http.Handler
	web       *webApp // the web app at /; see webapp.go
	ops       *monitor.Series
	audit     AuditLog
	wallet    WalletDeps

	achievements *achievements.Service

	moderation *moderation.Service
}

// access says who may call a route.
type access int

const (
	public   access = iota
	optional        // anonymous allowed; a presented token must be valid
	signedIn
	verified    // signedIn, with a verified email when Config.RequireVerified
	creatorOnly // creator or above, verified like the verified level
	moderatorOnly
	adminOnly
)

type route struct {
	method  string
	pattern string
	access  access
	tier    string // rate-limit tier; "" for none
	handle  handlerFunc
}

// New validates the config and builds the handler.
func New(cfg Config, d Deps) (*Server, error) {
	if d.Accounts == nil || d.DB == nil || d.Cache == nil || d.Limiter == nil || d.Metrics == nil || d.Media == nil ||
		d.Community == nil || d.Hub == nil || d.Jobs == nil || d.AI == nil || d.Analytics == nil || d.Log == nil {
		return nil, errors.New("httpapi: accounts, db, cache, limiter, metrics, media, community, hub, jobs, ai, analytics and log are required")
	}
	if d.Achievements == nil {
		return nil, errors.New("httpapi: achievements is required")
	}
	if d.Moderation == nil {
		return nil, errors.New("httpapi: moderation is required")
	}
	if d.Music == nil || d.Courses == nil || d.Events == nil {
		return nil, errors.New("httpapi: music, courses and events are required")
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 1 << 20
	}
	ps, err := parseProxies(cfg.TrustedProxies)
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, accounts: d.Accounts, db: d.DB, cache: d.Cache, limiter: d.Limiter, metrics: d.Metrics,
		media: d.Media, urls: d.URLs, community: d.Community, hub: d.Hub, jobs: d.Jobs, ai: d.AI, analytics: d.Analytics, xp: d.XP, probes: d.Probes, log: d.Log, proxies: ps}
	if s.shared, err = newSharedBodies(); err != nil {
		return nil, err
	}
	s.music = d.Music
	s.courses = d.Courses
	s.events = d.Events
	s.ops = d.Ops
	if s.audit = d.Audit; s.audit == nil {
		return nil, errors.New("httpapi: the audit log is required")
	}
	s.wallet = d.Wallet
	if s.wallet.Store == nil || s.wallet.Courses == nil {
		return nil, errors.New("httpapi: the wallet store and course grants are required")
	}
	if s.wallet.Now == nil {
		s.wallet.Now = time.Now
	}
	s.board, s.xpTotals = d.Board, d.XPTotals
	s.achievements = d.Achievements
	s.moderation = d.Moderation
	s.routes = s.routeTable()
	if s.web, err = newWebApp(web.Dist()); err != nil {
		return nil, err
	}
	if s.handler, err = s.build(); err != nil {
		return nil, err
	}
	s.registerMetrics()
	s.registerMusicMetrics()
	return s, nil
}

// ServeHTTP serves the API.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

func (s *Server) routeTable() []route {
	// Login is limited by its failure window (account.Service), not here.
	return []route{
		{"POST", "/api/auth/register", public, "strict", s.register},
		{"POST", "/api/auth/signup-verification", public, "strict", s.verifySignup},
		{"POST", "/api/auth/signup-verification/resend", public, "strict", s.resendVerification},
		{"POST", "/api/auth/login", public, "", s.login},
		{"POST", "/api/auth/logout", signedIn, "api", s.logout},
		{"GET", "/api/auth/sessions", signedIn, "api", s.listSessions},
		{"DELETE", "/api/auth/sessions/{id}", signedIn, "api", s.revokeSession},
		{"POST", "/api/auth/password-reset", public, "strict", s.requestPasswordReset},
		{"POST", "/api/auth/password-reset/confirm", public, "strict", s.confirmPasswordReset},
		{"POST", "/api/auth/mfa/setup", signedIn, "api", s.mfaSetup},
		{"POST", "/api/auth/mfa/enable", signedIn, "api", s.mfaEnable},
		{"POST", "/api/auth/mfa/disable", signedIn, "api", s.mfaDisable},
		{"GET", "/api/users/me", signedIn, "api", s.me},
		{"PATCH", "/api/users/me", signedIn, "api", s.updateMe},
		{"GET", "/api/users/{id}", optional, "api", s.userProfile},
		{"POST", "/api/uploads", signedIn, "strict", s.upload},

		{"GET", "/api/community/channels", optional, "api", s.listChannels},
		{"POST", "/api/community/channels", adminOnly, "api", s.createChannel},
		{"POST", "/api/community/channels/{id}/members", moderatorOnly, "api", s.addMember},
		{"DELETE", "/api/community/channels/{id}/members/{userId}", moderatorOnly, "api", s.removeMember},
		{"GET", "/api/community/channels/{id}/messages", optional, "api", s.channelMessages},
		{"POST", "/api/community/channels/{id}/messages", verified, "api", s.postMessage},
		{"PATCH", "/api/community/messages/{id}", signedIn, "api", s.editMessage},
		{"DELETE", "/api/community/messages/{id}", signedIn, "api", s.deleteMessage},
		{"PUT", "/api/community/messages/{id}/reactions/{emoji}", verified, "api", s.react(s.community.ReactMessage, true)},
		{"DELETE", "/api/community/messages/{id}/reactions/{emoji}", verified, "api", s.react(s.community.ReactMessage, false)},
		{"GET", "/api/messages/threads", signedIn, "api", s.listThreads},
		{"POST", "/api/messages/threads", verified, "api", s.openThread},
		{"GET", "/api/messages/threads/{id}/messages", signedIn, "api", s.threadMessages},
		{"POST", "/api/messages/threads/{id}/messages", verified, "api", s.postThreadMessage},
		{"GET", "/api/shouts", optional, "api", s.listShouts},
		{"POST", "/api/shouts", verified, "api", s.postShout},
		{"PUT", "/api/shouts/{id}/reactions/{emoji}", verified, "api", s.react(s.community.ReactShout, true)},
		{"DELETE", "/api/shouts/{id}/reactions/{emoji}", verified, "api", s.react(s.community.ReactShout, false)},
		{"GET", "/api/users/me/xp", signedIn, "api", s.myXP},
		{"GET", "/api/leaderboard", optional, "api", s.leaderboard},
		{"POST", "/api/admin/xp/rebuild", adminOnly, "strict", s.rebuildXP},
		{"POST", "/api/contact", public, "strict", s.contact},
		{"GET", "/api/admin/contact-messages", adminOnly, "api", s.contactInbox},
		{"PATCH", "/api/admin/contact-messages/{id}", adminOnly, "api", s.markContact},
		{"GET", "/api/ws", signedIn, "api", s.websocket},
		{"POST", "/api/ai/requests", signedIn, "ai", s.submitAI},
		{"GET", "/api/ai/requests/{id}", signedIn, "api", s.getAI},
		{"GET", "/api/admin/jobs", adminOnly, "api", s.listJobs},
		{"GET", "/api/admin/jobs/stats", adminOnly, "api", s.jobStats},
		{"GET", "/api/admin/jobs/{id}", adminOnly, "api", s.getJob},
		{"POST", "/api/admin/jobs/{id}/retry", adminOnly, "api", s.retryJob},
		{"POST", "/api/admin/jobs/{id}/discard", adminOnly, "api", s.discardJob},
		{"GET", "/api/admin/analytics", adminOnly, "api", s.analyticsReport},
		{"GET", "/api/mixes", optional, "api", s.listMixes},
		{"POST", "/api/mixes", creatorOnly, "api", s.createMix},
		{"GET", "/api/mixes/{id}", optional, "api", s.getMix},
		{"PATCH", "/api/mixes/{id}", signedIn, "api", s.updateMix},
		{"DELETE", "/api/mixes/{id}", signedIn, "api", s.deleteMix},
		{"PUT", "/api/mixes/{id}/like", verified, "api", s.likeMix},
		{"DELETE", "/api/mixes/{id}/like", verified, "api", s.unlikeMix},
		{"POST", "/api/mixes/{id}/plays", optional, "api", s.playMix},
		{"GET", "/api/live/now-playing", optional, "api", s.nowPlaying},
		{"PUT", "/api/live/now-playing", creatorOnly, "api", s.setNowPlaying},
		{"GET", "/api/live/history", optional, "api", s.liveHistory},
		{"PATCH", "/api/admin/users/{id}", adminOnly, "api", s.setUserRole},
		{"GET", "/api/admin/users", adminOnly, "api", s.adminUsers},
		{"GET", "/api/admin/users/{id}", adminOnly, "api", s.adminUser},
		{"POST", "/api/admin/users/{id}/ban", adminOnly, "api", s.banUser},
		{"POST", "/api/admin/users/{id}/unban", adminOnly, "api", s.unbanUser},
		{"POST", "/api/reports", signedIn, "strict", s.fileReport},
		{"GET", "/api/admin/reports", moderatorOnly, "api", s.reportQueue},
		{"POST", "/api/admin/reports/{id}/resolve", moderatorOnly, "api", s.resolveReport},
		{"PATCH", "/api/admin/channels/{id}", adminOnly, "api", s.updateChannel},
		{"GET", "/api/admin/cache", adminOnly, "api", s.cacheStats},
		{"POST", "/api/admin/cache/flush", adminOnly, "api", s.flushCache},
		{"GET", "/api/admin/stats", adminOnly, "api", s.adminStats},
		{"GET", "/api/courses", optional, "api", s.listCourses},
		{"GET", "/api/courses/{id}", optional, "api", s.getCourse},
		{"GET", "/api/courses/{id}/lessons/{lessonId}", optional, "api", s.getLesson},
		{"POST", "/api/courses/{id}/enroll", signedIn, "api", s.enroll},
		{"POST", "/api/courses/{id}/lessons/{lessonId}/complete", signedIn, "api", s.completeLesson},
		{"GET", "/api/admin/courses", adminOnly, "api", s.adminCourses},
		{"POST", "/api/admin/courses", adminOnly, "api", s.createCourse},
		{"GET", "/api/admin/courses/{id}", adminOnly, "api", s.adminCourse},
		{"PATCH", "/api/admin/courses/{id}", adminOnly, "api", s.updateCourse},
		{"POST", "/api/admin/courses/{id}/modules", adminOnly, "api", s.createModule},
		{"POST", "/api/admin/modules/{id}/lessons", adminOnly, "api", s.createLesson},
		{"PATCH", "/api/admin/lessons/{id}", adminOnly, "api", s.updateLesson},
		{"DELETE", "/api/admin/lessons/{id}", adminOnly, "api", s.deleteLesson},
		{"GET", "/api/events", optional, "api", s.listEvents},
		{"POST", "/api/events", creatorOnly, "api", s.createEvent},
		{"GET", "/api/events/{id}", optional, "api", s.getEvent},
		{"PATCH", "/api/events/{id}", signedIn, "api", s.updateEvent},
		{"DELETE", "/api/events/{id}", signedIn, "api", s.deleteEvent},
		{"POST", "/api/events/{id}/rsvp", verified, "api", s.rsvpEvent},
		{"GET", "/api/events/{id}/attendees", signedIn, "api", s.eventAttendees},
		{"POST", "/api/events/{id}/attended", signedIn, "api", s.markAttended},
		{"GET", "/api/admin/ops/series", adminOnly, "api", s.opsSeries},
		{"GET", "/api/wallet", signedIn, "api", s.myWallet},
		{"GET", "/api/wallet/transactions", signedIn, "api", s.walletTransactions},
		{"GET", "/api/wallet/packs", public, "api", s.walletPacks},
		{"POST", "/api/wallet/tips", verified, "payment", s.sendTip},
		{"POST", "/api/admin/wallets/{userId}/adjust", adminOnly, "payment", s.adjustWallet},
		{"GET", "/api/admin/ledger/check", adminOnly, "api", s.ledgerCheck},
		{"POST", "/api/stripe/checkout", verified, "payment", s.checkout},
		{"POST", "/api/stripe/webhook", public, "", s.stripeWebhook},
		{"GET", "/api/achievements", optional, "api", s.listAchievements},
		{"GET", "/api/users/{id}/achievements", optional, "api", s.userAchievements},
		{"POST", "/api/admin/achievements", adminOnly, "api", s.defineAchievement},
		{"POST", "/api/admin/achievements/{id}/grant", adminOnly, "api", s.grantAchievement},
		{"GET", "/api/collectibles", optional, "api", s.listCollectibles},
		{"POST", "/api/collectibles/{id}/purchase", verified, "payment", s.purchaseCollectible},
		{"GET", "/api/users/{id}/collectibles", optional, "api", s.userCollectibles},
		{"POST", "/api/admin/collectibles", adminOnly, "api", s.createCollectible},
		{"PATCH", "/api/admin/collectibles/{id}", adminOnly, "api", s.updateCollectible},
		{"GET", "/uploads/{kind}/{shard}/{file}", public, "", s.serveUpload},
		{"GET", "/api/health", public, "", s.health},
		{"GET", "/api/openapi.json", public, "", s.openAPI},
		{"GET", "/metrics", public, "", s.prometheus},
		{"GET", "/api/admin/audit", adminOnly, "api", s.listAudit},
		{"GET", "/api/admin/audit/verify", adminOnly, "api", s.verifyAudit},
	}
}

// build registers one handler per path that dispatches on method, so a
// wrong method gets a JSON 405 with Allow, and unknown paths a JSON 404.
func (s *Server) build() (http.Handler, error) {
	mux := http.NewServeMux()
	byPattern := map[string]map[string]route{}
	var patterns []string
	for _, rt := range s.routes {
		if byPattern[rt.pattern] == nil {
			byPattern[rt.pattern] = map[string]route{}
			patterns = append(patterns, rt.pattern)
		}
		byPattern[rt.pattern][rt.method] = rt
	}
	for _, p := range patterns {
		methods := byPattern[p]
		allow := allowHeader(methods)
		mux.Handle(p, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			method := r.Method
			if method == http.MethodHead {
				method = http.MethodGet
			}
			rt, ok := methods[method]
			if !ok {
				w.Header().Set("Allow", allow)
				s.writeError(w, r, apperr.New(apperr.MethodNotAllowed, r.Method+" is not allowed here; use "+allow))
				return
			}
			s.serveRoute(w, r, rt)
		}))
	}
	mux.Handle("/", http.HandlerFunc(s.serveUnmatched)) // API 404s, and the web app
	var h http.Handler = mux
	h = s.withCORS(h)
	h = withSecurityHeaders(h)
	h, err := withCompression(h)
	if err != nil {
		return nil, err
	}
	h = s.withAccessLog(h)
	h = s.withRecovery(h)
	return s.withBodyDeadline(withRequestID(h)), nil
}

func allowHeader(methods map[string]route) string {
	var list []string
	for m := range methods {
		list = append(list, m)
		if m == http.MethodGet {
			list = append(list, http.MethodHead)
		}
	}
	sort.Strings(list)
	return strings.Join(list, ", ")
}

func (s *Server) serveRoute(w http.ResponseWriter, r *http.Request, rt route) {
	if connlimit.Restricted(r.Context()) {
		// Accepted near the open-file limit: one request, and only if it
		// must get through.
		w.Header().Set("Connection", "close")
		if !s.priority(r, rt) {
			s.writeError(w, r, &apperr.Error{Code: apperr.Overloaded, Message: "the server is near its connection limit; retry shortly", RetryAfter: 5 * time.Second})
			return
		}
	}
	limitKey := ""
	if rt.access == optional && !hasCredentials(r) {
		rt.access = public
	}
	if rt.access != public {
		a, err := s.authenticate(r)
		if err == nil {
			err = s.authorize(a.user, rt.access)
		}
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		st := stateOf(r.Context())
		if st == nil { // outside withRequestID (build always puts it first)
			st = &reqState{}
			r = r.WithContext(context.WithValue(r.Context(), keyRequestID, st))
		}
		st.auth = a // authFrom reads it there
		limitKey = "u:" + strconv.FormatInt(a.user.ID, 10)
	}
	if err := s.limit(w, r, rt.tier, limitKey); err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := rt.handle(w, r); err != nil {
		s.writeError(w, r, err)
	}
}

// limit applies the route's tier, keyed by user when signed in and by
// client IP otherwise, and sets the RateLimit-* headers.
func (s *Server) limit(w http.ResponseWriter, r *http.Request, tierName, key string) error {
	tier, ok := s.cfg.Tiers[tierName]
	if !ok || tier.Off() {
		return nil
	}
	if key == "" {
		key = "ip:" + s.proxies.clientIP(r)
	}
	d, err := s.limiter.Allow(r.Context(), tier, key)
	if err != nil {
		s.log.Warn("rate limiter failed; request let through", "tier", tier.Name, "err", err)
		return nil
	}
	// By canonical key, as Set would store them, the three values in one
	// array: one allocation, not three.
	v := [3]string{strconv.Itoa(d.Limit), strconv.Itoa(d.Remaining), strconv.Itoa(int((d.Reset + time.Second - 1) / time.Second))}
	vs := v[:]
	h := w.Header()
	h["Ratelimit-Limit"], h["Ratelimit-Remaining"], h["Ratelimit-Reset"] = vs[0:1:1], vs[1:2:2], vs[2:3:3]
	if d.Allowed {
		return nil
	}
	s.metrics.RateLimited(tier.Name)
	return &apperr.Error{Code: apperr.RateLimited, Message: "too many requests (" + tier.Name + " limit: " +
		strconv.Itoa(tier.Limit) + " per " + tier.Window.String() + "); retry later", RetryAfter: d.RetryAfter}
}

func (s *Server) authorize(u account.User, need access) error {
	switch {
	case need == adminOnly && !u.Role.AtLeast(account.RoleAdmin),
		need == moderatorOnly && !u.Role.AtLeast(account.RoleModerator),
		need == creatorOnly && !u.Role.AtLeast(account.RoleCreator):
		return apperr.New(apperr.Forbidden, "your role may not do this")
	case (need == verified || need == creatorOnly) && s.cfg.RequireVerified && !u.EmailVerified:
		return apperr.New(apperr.VerificationRequired,
			"verify your email first: enter the code from the verification mail (POST /api/auth/signup-verification), or ask for a new one")
	}
	return nil
}
