// Package config reads Plaza's configuration from the environment. Every
// variable is validated at start; a bad value yields one error line naming
// the variable and the fix.
package config

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/plazahq/plaza/internal/gamification"
	"github.com/plazahq/plaza/internal/wallet"
)

// Config is everything `plaza serve` and the other commands read at start.
type Config struct {
	Addr      string
	DebugAddr string // PLAZA_DEBUG_ADDR: Go's profiler here; empty: off
	DataDir   string
	BaseURL   string // public URL of the site, used in links in mails

	DatabaseURL     string   // empty: SQLite in DataDir
	ReplicaURLs     []string // read replicas for lag-tolerant reads
	PoolSize        int
	QueueLimit      int // 0: unbounded
	ConnMaxLifetime time.Duration
	ConnMaxIdleTime time.Duration
	ConnectTimeout  time.Duration // how long start-up keeps trying to reach the database
	QueryTimeout    time.Duration // DB_QUERY_TIMEOUT: bound on every database call; 0: none
	AutoMigrate     bool

	RedisURL      string
	RedisPrefix   string // namespace of every Redis key and channel
	CacheMB       int    // in-process cache tier size; 0: 64, or 16 with Redis
	CacheOff      bool   // PLAZA_CACHE=off: every read goes to the database
	CDNBaseURL    string
	CDNImageURL   string // per-kind overrides of CDNBaseURL
	CDNAudioURL   string
	UploadImageMB int
	UploadAudioMB int
	WSMaxConns    int
	WSMaxPerUser  int
	JobWorkers    int
	JobPoll       time.Duration
	// RateLimits maps tier name to its "COUNT/DURATION" or "off" setting;
	// "login" and "login_ip" count failed sign-ins per account and per IP.
	RateLimits     map[string]string
	CORSOrigins    []string
	TrustedProxies []string // CIDRs whose X-Forwarded-For is believed
	SMTPURL        string
	MailFrom       string

	StripeSecretKey     string
	StripeWebhookSecret string
	StripeAPIBase       string        // STRIPE_API_BASE: another Stripe API (stripe-mock in tests)
	WalletPacks         []wallet.Pack // PLAZA_WALLET_PACKS in PLAZA_WALLET_CURRENCY
	AIBaseURL           string
	AIAPIKey            string
	AIModel             string

	LogFormat       string // "json" or "text"
	LogLevel        string
	ShutdownTimeout time.Duration
	MaxBodyBytes    int64
	HashConcurrency int // argon2id hashes allowed at once

	Levels          gamification.Levels // PLAZA_LEVELS: XP thresholds of levels 1..n
	XPRules         gamification.Rules  // PLAZA_XP_MESSAGE, PLAZA_XP_MESSAGE_DAILY_CAP, PLAZA_XP_REACTION, PLAZA_XP_PLAY, PLAZA_XP_PLAY_DAILY_CAP
	BodyTimeout     time.Duration       // time to send a request body; 0: none
	UploadTimeout   time.Duration       // the same for POST /api/uploads
	MaxConns        int                 // open client connections; 0: from the open-file limit
	MaxConnsPerAddr int                 // per client address; 0: no cap

	// MetricsAddr serves /metrics without a token on a private address;
	// MetricsToken lets /metrics answer on Addr to Bearer holders.
	MetricsAddr  string
	MetricsToken string
	// RequireVerified (PLAZA_REQUIRE_VERIFIED): posting, DMs, reactions,
	// tips and purchases wait until the account's email is verified.
	RequireVerified bool
	// Uploaded images may be at most UploadImageMaxSide pixels wide and
	// high, and UploadImageMaxPixels in all: a small file can declare a
	// huge image.
	UploadImageMaxSide   int
	UploadImageMaxPixels int
	// XPAttendance (PLAZA_XP_ATTENDANCE) is the XP an event's owner
	// awards each member marked as having attended, once per event.
	XPAttendance int
}

// Getenv is the signature of os.Getenv, so tests can pass a map.
type Getenv func(string) string

// FromEnv reads and validates the configuration.
func FromEnv(getenv Getenv) (Config, error) {
	r := reader{getenv: getenv}
	c := Config{
		Addr:            r.str("PLAZA_ADDR", ""),
		DebugAddr:       r.str("PLAZA_DEBUG_ADDR", ""),
		DataDir:         r.str("PLAZA_DATA_DIR", "./data"),
		BaseURL:         r.str("PLAZA_BASE_URL", ""),
		DatabaseURL:     r.str("DATABASE_URL", ""),
		ReplicaURLs:     r.list("DATABASE_REPLICA_URLS"),
		PoolSize:        r.intRange("DB_POOL_SIZE", 10, 1, 1000),
		QueueLimit:      r.intRange("DB_QUEUE_LIMIT", 0, 0, 1_000_000),
		ConnMaxLifetime: r.duration("DB_CONN_MAX_LIFETIME", 30*time.Minute),
		ConnMaxIdleTime: r.duration("DB_CONN_MAX_IDLE_TIME", 5*time.Minute),
		ConnectTimeout:  r.duration("DB_CONNECT_TIMEOUT", 10*time.Second),
		QueryTimeout:    r.duration("DB_QUERY_TIMEOUT", 5*time.Second),
		AutoMigrate:     r.boolean("PLAZA_AUTO_MIGRATE", true),
		RedisURL:        r.str("REDIS_URL", ""),
		RedisPrefix:     r.str("PLAZA_REDIS_PREFIX", "plaza:"),
		CDNBaseURL:      r.str("CDN_BASE_URL", ""),
		CDNImageURL:     r.str("CDN_IMAGE_BASE_URL", ""),
		CDNAudioURL:     r.str("CDN_AUDIO_BASE_URL", ""),
		CacheMB:         r.intRange("PLAZA_CACHE_MB", 0, 0, 1<<16),
		CacheOff:        r.oneOf("PLAZA_CACHE", "on", "on", "off") == "off",
		UploadImageMB:   r.intRange("PLAZA_UPLOAD_MAX_IMAGE_MB", 10, 1, 1024),
		UploadAudioMB:   r.intRange("PLAZA_UPLOAD_MAX_AUDIO_MB", 100, 1, 4096),
		WSMaxConns:      r.intRange("PLAZA_WS_MAX_CONNECTIONS", 50000, 1, 1<<24),
		WSMaxPerUser:    r.intRange("PLAZA_WS_MAX_PER_USER", 10, 1, 10000),
		JobWorkers:      r.intRange("PLAZA_JOB_WORKERS", 4, 0, 1024),
		JobPoll:         r.duration("PLAZA_JOB_POLL", time.Second),
		RateLimits: map[string]string{
			"api":     r.str("PLAZA_RATE_API", "100/1m"),
			"strict":  r.str("PLAZA_RATE_STRICT", "20/1m"),
			"login":   r.str("PLAZA_RATE_LOGIN", "5/15m"),
			"ai":      r.str("PLAZA_RATE_AI", "30/1m"),
			"payment": r.str("PLAZA_RATE_PAYMENT", "10/1m"),
		},
		RequireVerified:     r.boolean("PLAZA_REQUIRE_VERIFIED", true),
		CORSOrigins:         r.list("CORS_ORIGIN"),
		TrustedProxies:      r.list("PLAZA_TRUSTED_PROXIES"),
		SMTPURL:             r.str("SMTP_URL", ""),
		MailFrom:            r.str("PLAZA_MAIL_FROM", "Plaza <no-reply@plaza.localhost>"),
		StripeSecretKey:     r.str("STRIPE_SECRET_KEY", ""),
		StripeWebhookSecret: r.str("STRIPE_WEBHOOK_SECRET", ""),
		StripeAPIBase:       r.str("STRIPE_API_BASE", ""),
		AIBaseURL:           r.str("AI_BASE_URL", ""),
		AIAPIKey:            r.str("AI_API_KEY", ""),
		AIModel:             r.str("AI_MODEL", ""),
		LogFormat:           r.oneOf("PLAZA_LOG_FORMAT", "text", "text", "json"),
		LogLevel:            r.oneOf("PLAZA_LOG_LEVEL", "info", "debug", "info", "warn", "error"),
		ShutdownTimeout:     r.duration("PLAZA_SHUTDOWN_TIMEOUT", 15*time.Second),
		MaxBodyBytes:        int64(r.intRange("PLAZA_MAX_BODY_BYTES", 1<<20, 1024, 1<<30)),
		HashConcurrency:     r.intRange("PLAZA_HASH_CONCURRENCY", 0, 0, 256),
		MetricsAddr:         r.str("PLAZA_METRICS_ADDR", ""),
		MetricsToken:        r.str("PLAZA_METRICS_TOKEN", ""),
		BodyTimeout:         r.duration("PLAZA_BODY_TIMEOUT", 30*time.Second),
		UploadTimeout:       r.duration("PLAZA_UPLOAD_TIMEOUT", 10*time.Minute),
		MaxConns:            r.intRange("PLAZA_MAX_CONNECTIONS", 0, 0, 1<<24),
		MaxConnsPerAddr:     r.intRange("PLAZA_MAX_CONNS_PER_IP", 256, 0, 1<<24),
		XPAttendance:        r.intRange("PLAZA_XP_ATTENDANCE", 20, 0, 100000),
	}
	c.RateLimits["login_ip"] = r.str("PLAZA_RATE_LOGIN_IP", "50/15m")
	c.UploadImageMaxSide = r.intRange("PLAZA_UPLOAD_MAX_IMAGE_SIDE", 8192, 16, 65535)
	c.UploadImageMaxPixels = r.intRange("PLAZA_UPLOAD_MAX_IMAGE_PIXELS", 40_000_000, 256, 1_000_000_000)
	if c.Addr == "" {
		c.Addr = ":8080"
		// PORT (as platforms set it) counts only when PLAZA_ADDR is unset,
		// and a bad one is reported as PORT: that is the variable to fix.
		if port := r.str("PORT", ""); port != "" {
			r.check("PORT", port, validPort, "use a port number from 0 to 65535, e.g. 8080, or set PLAZA_ADDR instead")
			c.Addr = ":" + port
		}
	}
	if r.err == nil {
		r.check("PLAZA_ADDR", c.Addr, validAddr, "use host:port, e.g. :8080 or 127.0.0.1:8080")
	}
	r.check("PLAZA_DEBUG_ADDR", c.DebugAddr, optional(validAddr), "use host:port on a private interface, e.g. 127.0.0.1:6060, or unset it")
	r.check("PLAZA_METRICS_ADDR", c.MetricsAddr, optional(validAddr), "use host:port on a private interface, e.g. 127.0.0.1:9090, or unset it")
	if c.MetricsToken != "" && !validToken(c.MetricsToken) { // a secret: not echoed
		r.fail("PLAZA_METRICS_TOKEN", "shorter than 16 characters or holds spaces", "use e.g. the output of `openssl rand -hex 32`, or unset it")
	}
	r.check("DATABASE_URL", c.DatabaseURL, optional(validMySQLURL), "use mysql://user:pass@host:3306/dbname, or unset it for embedded SQLite")
	r.check("DATABASE_URL", c.DatabaseURL, validDriverTimeouts, "timeout, readTimeout and writeTimeout take durations such as 5s")
	for _, u := range c.ReplicaURLs {
		r.check("DATABASE_REPLICA_URLS", u, validMySQLURL, "use comma-separated mysql://user:pass@host:3306/dbname URLs")
		r.check("DATABASE_REPLICA_URLS", u, validDriverTimeouts, "timeout, readTimeout and writeTimeout take durations such as 5s")
	}
	if c.QueryTimeout > 0 && c.QueryTimeout < 100*time.Millisecond {
		r.fail("DB_QUERY_TIMEOUT", c.QueryTimeout.String()+" is too short for a real query", "use at least 100ms (default 5s), or 0 for no bound")
	}
	if len(c.ReplicaURLs) > 0 && c.DatabaseURL == "" {
		r.fail("DATABASE_REPLICA_URLS", "replicas need a primary", "set DATABASE_URL too, or unset DATABASE_REPLICA_URLS")
	}
	r.check("REDIS_URL", c.RedisURL, optional(schemeURL("redis", "rediss")), "use redis://[:password@]host:6379/0, or unset it for in-process mode")
	r.check("CDN_BASE_URL", c.CDNBaseURL, optional(schemeURL("http", "https")), "use an absolute http(s) URL, e.g. https://cdn.example.com")
	r.check("CDN_IMAGE_BASE_URL", c.CDNImageURL, optional(schemeURL("http", "https")), "use an absolute http(s) URL, e.g. https://img.example.com")
	r.check("CDN_AUDIO_BASE_URL", c.CDNAudioURL, optional(schemeURL("http", "https")), "use an absolute http(s) URL, e.g. https://audio.example.com")
	for _, tier := range []string{"api", "strict", "login", "login_ip", "ai", "payment"} {
		r.check("PLAZA_RATE_"+strings.ToUpper(tier), c.RateLimits[tier], validRate, "use COUNT/DURATION such as 100/1m, or off")
	}
	r.check("PLAZA_BASE_URL", c.BaseURL, optional(schemeURL("http", "https")), "use the site's absolute http(s) URL, e.g. https://community.example.com")
	r.check("SMTP_URL", c.SMTPURL, optional(schemeURL("smtp", "smtps")), "use smtp://user:pass@host:587 (STARTTLS) or smtps://user:pass@host:465, or unset it for the dev mailbox")
	r.check("AI_BASE_URL", c.AIBaseURL, optional(schemeURL("http", "https")), "use the base URL of an OpenAI-compatible server, e.g. http://127.0.0.1:11434/v1")
	for _, o := range c.CORSOrigins {
		r.check("CORS_ORIGIN", o, validOrigin, "use comma-separated origins such as https://app.example.com, or *")
	}
	for _, p := range c.TrustedProxies {
		r.check("PLAZA_TRUSTED_PROXIES", p, validCIDR, "use comma-separated addresses or CIDRs, e.g. 10.0.0.0/8,127.0.0.1")
	}
	if (c.StripeSecretKey == "") != (c.StripeWebhookSecret == "") {
		r.fail("STRIPE_WEBHOOK_SECRET", "only one of STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET is set", "set both to enable payments, or neither")
	}
	r.check("STRIPE_API_BASE", c.StripeAPIBase, optional(schemeURL("http", "https")), "use the base URL of a Stripe API, e.g. http://127.0.0.1:12111 for stripe-mock, or unset it")
	if packs, err := wallet.ParsePacks(r.str("PLAZA_WALLET_PACKS", wallet.DefaultPacks), r.str("PLAZA_WALLET_CURRENCY", "usd")); err != nil {
		r.fail("PLAZA_WALLET_PACKS", err.Error(), "use name:credits:priceCents,... e.g. "+wallet.DefaultPacks+", and a currency such as usd")
	} else {
		c.WalletPacks = packs
	}
	c.Levels = gamification.DefaultLevels
	if v := r.str("PLAZA_LEVELS", ""); v != "" {
		ls, err := gamification.ParseLevels(v)
		if err != nil {
			r.fail("PLAZA_LEVELS", err.Error(), "use increasing XP thresholds starting at 0, e.g. 0,5,20,65,155,515,2015,8015,33015")
		}
		c.Levels = ls
	}
	d := gamification.DefaultRules
	c.XPRules = gamification.Rules{MessagePosted: int64(r.intRange("PLAZA_XP_MESSAGE", int(d.MessagePosted), 0, 1000)),
		MessageDailyCap:  int64(r.intRange("PLAZA_XP_MESSAGE_DAILY_CAP", int(d.MessageDailyCap), 0, 1000000)),
		ReactionReceived: int64(r.intRange("PLAZA_XP_REACTION", int(d.ReactionReceived), 0, 1000)),
		MixPlayed:        int64(r.intRange("PLAZA_XP_PLAY", int(d.MixPlayed), 0, 1000)),
		MixPlayDailyCap:  int64(r.intRange("PLAZA_XP_PLAY_DAILY_CAP", int(d.MixPlayDailyCap), 0, 1000000))}
	if c.DataDir == "" {
		r.fail("PLAZA_DATA_DIR", "empty", "set a writable directory, e.g. ./data")
	}
	if c.BaseURL == "" {
		host := c.Addr
		if strings.HasPrefix(host, ":") {
			host = "localhost" + host
		}
		c.BaseURL = "http://" + host
	}
	c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	if abs, err := filepath.Abs(c.DataDir); err == nil {
		c.DataDir = abs
	}
	return c, r.err
}

// Engine names the database engine the configuration selects.
func (c Config) Engine() string {
	if c.DatabaseURL == "" {
		return "sqlite"
	}
	return "mysql"
}

type reader struct {
	getenv Getenv
	err    error
}

func (r *reader) fail(name, problem, fix string) {
	if r.err == nil {
		r.err = fmt.Errorf("config: %s: %s; %s", name, problem, fix)
	}
}

func (r *reader) str(name, def string) string {
	if v := strings.TrimSpace(r.getenv(name)); v != "" {
		return v
	}
	return def
}

func (r *reader) list(name string) []string {
	var out []string
	for _, p := range strings.Split(r.getenv(name), ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func (r *reader) intRange(name string, def, lo, hi int) int {
	v := r.str(name, "")
	if v == "" {
		return def
	}
	fix := fmt.Sprintf("use a whole number from %d to %d", lo, hi)
	n, err := strconv.Atoi(v)
	switch {
	case err != nil:
		r.fail(name, fmt.Sprintf("%q is not a whole number", v), fix)
	case n < lo || n > hi:
		r.fail(name, fmt.Sprintf("%d is out of range", n), fix)
	default:
		return n
	}
	return def
}

func (r *reader) duration(name string, def time.Duration) time.Duration {
	v := r.str(name, "")
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		r.fail(name, fmt.Sprintf("%q is not a duration", v), "use a Go duration such as 30s, 5m or 1h")
		return def
	}
	return d
}

func (r *reader) boolean(name string, def bool) bool {
	v := r.str(name, "")
	if v == "" {
		return def
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		r.fail(name, fmt.Sprintf("%q is not a boolean", v), "use true or false")
		return def
	}
	return b
}

func (r *reader) oneOf(name, def string, allowed ...string) string {
	v := strings.ToLower(r.str(name, def))
	for _, a := range allowed {
		if v == a {
			return v
		}
	}
	r.fail(name, fmt.Sprintf("%q is not allowed", v), "use one of "+strings.Join(allowed, ", "))
	return def
}

func (r *reader) check(name, value string, ok func(string) bool, fix string) {
	if !ok(value) {
		r.fail(name, fmt.Sprintf("%q is not valid", redact(value)), fix)
	}
}

// redact hides a password in a URL so config errors never print secrets.
func redact(v string) string {
	u, err := url.Parse(v)
	if err != nil || u.User == nil {
		return v
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}

func optional(f func(string) bool) func(string) bool {
	return func(v string) bool { return v == "" || f(v) }
}

func schemeURL(schemes ...string) func(string) bool {
	return func(v string) bool {
		u, err := url.Parse(v)
		if err != nil || u.Host == "" {
			return false
		}
		for _, s := range schemes {
			if u.Scheme == s {
				return true
			}
		}
		return false
	}
}

func validMySQLURL(v string) bool {
	u, err := url.Parse(v)
	return err == nil && u.Scheme == "mysql" && u.Host != "" && strings.Trim(u.Path, "/") != ""
}

// validDriverTimeouts checks the MySQL driver's socket timeouts a database
// URL may set (?timeout=5s&readTimeout=30s&writeTimeout=30s).
func validDriverTimeouts(v string) bool {
	u, err := url.Parse(v)
	if err != nil {
		return true // reported by validMySQLURL
	}
	q := u.Query()
	for _, k := range []string{"timeout", "readTimeout", "writeTimeout"} {
		if s := q.Get(k); s != "" {
			if d, err := time.ParseDuration(s); err != nil || d < 0 {
				return false
			}
		}
	}
	return true
}

func validAddr(v string) bool {
	_, port, err := net.SplitHostPort(v)
	return err == nil && validPort(port)
}

func validPort(v string) bool {
	n, err := strconv.Atoi(v)
	return err == nil && n >= 0 && n <= 65535 && !strings.HasPrefix(v, "+")
}

// validToken: long enough not to be guessed, and sendable in a header.
func validToken(v string) bool {
	if len(v) < 16 {
		return false
	}
	for _, c := range v {
		if c <= ' ' || c > '~' {
			return false
		}
	}
	return true
}

func validRate(v string) bool {
	if v == "off" || v == "0" {
		return true
	}
	n, w, ok := strings.Cut(v, "/")
	count, err1 := strconv.Atoi(n)
	d, err2 := time.ParseDuration(w)
	return ok && err1 == nil && err2 == nil && count > 0 && d >= time.Second
}

func validCIDR(v string) bool {
	if _, err := netip.ParsePrefix(v); err == nil {
		return true
	}
	_, err := netip.ParseAddr(v)
	return err == nil
}

func validOrigin(v string) bool {
	if v == "*" {
		return true
	}
	u, err := url.Parse(v)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" && (u.Path == "" || u.Path == "/")
}
