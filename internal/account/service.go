package account

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/plazahq/plaza/internal/apperr"
	"github.com/plazahq/plaza/internal/batch"
	"github.com/plazahq/plaza/internal/cache"
	"github.com/plazahq/plaza/internal/jobs"
	"github.com/plazahq/plaza/internal/mail"
	"github.com/pquerna/otp/totp"
	"golang.org/x/text/unicode/norm"
)

// Queue is the job queue (jobs.Queue): Enqueue inserts jobs in a
// transaction of their own; Notify wakes workers after a commit of the
// store's that enqueued jobs.
type Queue interface {
	Enqueue(ctx context.Context, js ...jobs.Job) error
	Notify(ctx context.Context)
}

// MailKind is the job kind that sends one mail; its payload is a
// mail.Message. The mail handler is registered where the queue is built.
const MailKind = "mail.send"

func mailJob(m mail.Message) jobs.Job {
	j := jobs.Must(MailKind, m)
	j.Priority = 10 // people wait for these
	return j
}

// PasswordResetKind is the job kind that looks an address up and, if it
// has an account, mails it a reset link; its payload is {"email": ...}.
const PasswordResetKind = "account.password_reset"

// FailureLimiter counts failed attempts per key and blocks a key that has too
// many within its window.
type FailureLimiter interface {
	Blocked(ctx context.Context, key string) (retryAfter time.Duration, blocked bool)
	Fail(ctx context.Context, key string)
}

// Cache is the response and lookup cache (cache.Cache).
type Cache interface {
	Get(ctx context.Context, tier cache.Tier, key, tag string, load func(context.Context) ([]byte, error)) ([]byte, error)
	InvalidateTag(ctx context.Context, tags ...string)
}

// UserTag is the cache tag of everything derived from one user: the user
// record, their public profile, /me. Any change to them invalidates it.
func UserTag(id int64) string { return "user:" + strconv.FormatInt(id, 10) }

// AccountTag is the cache tag of a user's cached sessions, which carry the
// account row. A change to the account drops it with UserTag (the
// account's own writes, bans); an XP award drops it only when the level
// moved (XPTags), so the hot paths that award XP (a post, a reaction, a
// play) do not make the author's next request reload the session.
func AccountTag(id int64) string { return "account:" + strconv.FormatInt(id, 10) }

// AccountOfTag is the user whose AccountTag tag is.
func AccountOfTag(tag string) (int64, bool) {
	s, ok := strings.CutPrefix(tag, "account:")
	if !ok {
		return 0, false
	}
	id, err := strconv.ParseInt(s, 10, 64)
	return id, err == nil
}

// XPTags are the tags an XP award to user id makes stale: what shows their
// xp (UserTag) always, and their sessions (AccountTag), whose level
// unlocks courses and labels their messages, when levelMoved.
func XPTags(id int64, levelMoved bool) []string {
	if levelMoved {
		return []string{UserTag(id), AccountTag(id)}
	}
	return []string{UserTag(id)}
}

// UserRoom is the user's private real-time room, where everything addressed
// to them (DMs, mentions, AI answers, session ends) is published.
func UserRoom(id int64) string { return "user:" + strconv.FormatInt(id, 10) }

// Config tunes the service; zero values take the defaults.
type Config struct {
	BaseURL         string // links in mails point here
	Issuer          string // shown in authenticator apps
	SessionTTL      time.Duration
	VerificationTTL time.Duration
	ResetTTL        time.Duration
	MaxCodeAttempts int
}

// Publisher sends an event to a real-time room (realtime.Hub).
type Publisher interface {
	Publish(ctx context.Context, room, typ string, data any) error
}

// SessionRevoked is the event published in a user's room when any of their
// sessions ends early (logout, revocation, password reset): each of the
// user's open WebSockets re-checks its own session and closes if it was
// the one.
const SessionRevoked = "session.revoked"

// Deps are the service's collaborators. Events is optional; AssetURL
// (media.URLs.URL) defaults to serving upload paths as they are.
type Deps struct {
	Store  Store
	Hasher *Hasher
	Jobs   Queue
	// Failures counts failed sign-ins and MFA codes per account (PLAZA_RATE_LOGIN);
	// IPFailures counts them per client IP (PLAZA_RATE_LOGIN_IP).
	Failures   FailureLimiter
	IPFailures FailureLimiter
	Cache      Cache
	Events     Publisher
	AssetURL   func(path string) string
	Now        func() time.Time
	Log        *slog.Logger
}

// Service is the accounts business logic.
type Service struct {
	cfg        Config
	store      Store
	hasher     *Hasher
	jobs       Queue
	failures   FailureLimiter
	ipFailures FailureLimiter
	cache      Cache
	events     Publisher
	assetURL   func(string) string
	now        func() time.Time
	log        *slog.Logger
	dummyHash  string // verified against on unknown logins so timing does not tell
	sessions   sessionMemo
}

// NewService validates deps and returns the service.
func NewService(cfg Config, d Deps) (*Service, error) {
	if d.Store == nil || d.Hasher == nil || d.Jobs == nil || d.Failures == nil || d.IPFailures == nil || d.Cache == nil || d.Log == nil {
		return nil, errors.New("account: store, hasher, jobs, failures, IP failures, cache and log are required")
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.AssetURL == nil {
		d.AssetURL = func(p string) string { return p }
	}
	if cfg.Issuer == "" {
		cfg.Issuer = "Plaza"
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = 30 * 24 * time.Hour
	}
	if cfg.VerificationTTL <= 0 {
		cfg.VerificationTTL = 24 * time.Hour
	}
	if cfg.ResetTTL <= 0 {
		cfg.ResetTTL = time.Hour
	}
	if cfg.MaxCodeAttempts <= 0 {
		cfg.MaxCodeAttempts = 5
	}
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	dummy, err := d.Hasher.Hash(context.Background(), newToken())
	if err != nil {
		return nil, err
	}
	return &Service{cfg: cfg, store: d.Store, hasher: d.Hasher, jobs: d.Jobs, failures: d.Failures, ipFailures: d.IPFailures,
		cache: d.Cache, events: d.Events, assetURL: d.AssetURL, now: d.Now, log: d.Log, dummyHash: dummy}, nil
}

// changed invalidates what is cached about user id, after a write to it.
func (s *Service) changed(ctx context.Context, id int64) {
	s.cache.InvalidateTag(ctx, UserTag(id), AccountTag(id))
}

// revoked tells the user's open connections that sessions ended. reason is
// one of logout, revoked, password_reset; sessionID is 0 when all ended.
func (s *Service) revoked(ctx context.Context, userID, sessionID int64, reason string) {
	s.changed(ctx, userID)
	if s.events == nil {
		return
	}
	data := map[string]any{"reason": reason}
	if sessionID != 0 {
		data["sessionId"] = sessionID
	}
	if err := s.events.Publish(ctx, UserRoom(userID), SessionRevoked, data); err != nil {
		// The connections still learn it when they next re-check (at
		// expiry) or reconnect; the revocation itself has been committed.
		s.log.Warn("session revocation not announced", "user", userID, "err", err)
	}
}

// RegisterInput is POST /api/auth/register's body.
type RegisterInput struct {
	Email    string `json:"email"`
	Username string `json:"username"`
	Password string `json:"password"`
}

// Register creates an unverified user and mails a verification code and
// link. Staff names (see reservedNames) are refused.
func (s *Service) Register(ctx context.Context, in RegisterInput) (User, error) {
	return s.create(ctx, in, RoleUser, false)
}

// CreateAdmin creates a verified admin (plaza admin create); an admin may
// take a staff name.
func (s *Service) CreateAdmin(ctx context.Context, in RegisterInput) (User, error) {
	return s.create(ctx, in, RoleAdmin, true)
}

func (s *Service) create(ctx context.Context, in RegisterInput, role Role, verified bool) (User, error) {
	email := normalizeEmail(in.Email)
	username := normalizeUsername(in.Username)
	fe := apperr.FieldErrors{}
	checkEmail(fe, email)
	checkUsername(fe, username, role.AtLeast(RoleModerator))
	checkPassword(fe, "password", in.Password, username, email)
	if err := fe.Err(); err != nil {
		return User{}, err
	}
	hash, err := s.hasher.Hash(ctx, in.Password)
	if err != nil {
		return User{}, err
	}
	now := s.now()
	var v *Verification
	var code, token string
	if !verified {
		code, token = newCode(6), newToken()
		v = &Verification{CodeHash: hashSecret(code), TokenHash: hashSecret(token), ExpiresAt: now.Add(s.cfg.VerificationTTL)}
	}
	nu := NewUser{Email: email, Username: username, PasswordHash: hash, Role: role, Verified: verified}
	var outbox []jobs.Job
	if v != nil {
		outbox = append(outbox, mailJob(s.verificationMail(User{Email: email, Username: username}, code, token)))
	}
	u, err := s.store.CreateUser(ctx, nu, v, now, outbox...)
	if err != nil {
		return User{}, err
	}
	if len(outbox) > 0 {
		s.jobs.Notify(ctx)
	}
	return u, nil
}

func (s *Service) verificationMail(u User, code, token string) mail.Message {
	link := s.cfg.BaseURL + "/verify-email?" + url.Values{"email": {u.Email}, "token": {token}}.Encode()
	return mail.Message{
		To:      u.Email,
		Subject: "Your " + s.cfg.Issuer + " verification code: " + code,
		Text: fmt.Sprintf("Hello %s,\n\nyour verification code is %s\n\nor open this link to verify your address:\n%s\n\n"+
			"The code and the link expire in %s. If you did not sign up, ignore this mail.\n",
			u.Username, code, link, humanDuration(s.cfg.VerificationTTL)),
	}
}

// ResendVerification mails a fresh code if email belongs to an unverified
// account; it says nothing either way.
func (s *Service) ResendVerification(ctx context.Context, email string) error {
	email = normalizeEmail(email)
	fe := apperr.FieldErrors{}
	checkEmail(fe, email)
	if err := fe.Err(); err != nil {
		return err
	}
	c, err := s.store.Credentials(ctx, email)
	if apperr.Is(err, apperr.NotFound) {
		return nil
	}
	if err != nil || c.User.EmailVerified {
		return err
	}
	now := s.now()
	code, token := newCode(6), newToken()
	v := Verification{CodeHash: hashSecret(code), TokenHash: hashSecret(token), ExpiresAt: now.Add(s.cfg.VerificationTTL)}
	if err := s.store.AddVerification(ctx, c.User.ID, v, now, mailJob(s.verificationMail(c.User, code, token))); err != nil {
		return err
	}
	s.jobs.Notify(ctx)
	return nil
}

var errBadCode = apperr.New(apperr.InvalidToken, "the code is wrong or has expired; request a new one")

// VerifySignup marks email verified given the mailed code or link token.
func (s *Service) VerifySignup(ctx context.Context, email, code string) (User, error) {
	email, code = normalizeEmail(email), strings.TrimSpace(code)
	fe := apperr.FieldErrors{}
	checkEmail(fe, email)
	if code == "" {
		fe.Add("code", "is required")
	} else if len(code) > 128 {
		fe.Add("code", "is too long")
	}
	if err := fe.Err(); err != nil {
		return User{}, err
	}
	c, err := s.store.Credentials(ctx, email)
	if apperr.Is(err, apperr.NotFound) {
		return User{}, errBadCode
	}
	if err != nil {
		return User{}, err
	}
	if c.User.EmailVerified {
		return c.User, nil
	}
	isToken := len(code) > 6
	if err := s.store.VerifyEmail(ctx, c.User.ID, hashSecret(code), isToken, s.cfg.MaxCodeAttempts, s.now()); err != nil {
		return User{}, err
	}
	s.changed(ctx, c.User.ID)
	c.User.EmailVerified = true
	return c.User, nil
}

// LoginInput is POST /api/auth/login's body plus the client's address.
type LoginInput struct {
	Login     string `json:"login"`
	Password  string `json:"password"`
	MFACode   string `json:"mfaCode"`
	IP        string `json:"-"`
	UserAgent string `json:"-"`
}

// Login checks credentials (and the MFA code when MFA is on) and opens a
// session. A failed password or MFA code counts against the account
// (whichever of its names was used; for a login that names no account,
// against that login) and against the client IP; successes never count.
func (s *Service) Login(ctx context.Context, in LoginInput) (string, Session, User, error) {
	fe := apperr.FieldErrors{}
	if strings.TrimSpace(in.Login) == "" {
		fe.Add("login", "is required")
	} else if len(in.Login) > 254 {
		fe.Add("login", "is too long")
	}
	if in.Password == "" {
		fe.Add("password", "is required")
	} else if len(in.Password) > 4*MaxPassword {
		fe.Add("password", "is too long")
	}
	if err := fe.Err(); err != nil {
		return "", Session{}, User{}, err
	}
	ipKey := ipFailKey(in.IP)
	if err := checkBlocked(ctx, s.ipFailures, ipKey); err != nil {
		return "", Session{}, User{}, err
	}
	login := loginKey(in.Login)
	c, err := s.store.Credentials(ctx, login)
	known := err == nil
	if err != nil && !apperr.Is(err, apperr.NotFound) {
		return "", Session{}, User{}, err
	}
	key := "login:name:" + login
	if known {
		key = loginFailKey(c.User.ID)
	}
	if err := checkBlocked(ctx, s.failures, key); err != nil {
		return "", Session{}, User{}, err
	}
	hash := s.dummyHash // an unknown login spends the same time as a wrong password
	if known {
		hash = c.PasswordHash
	}
	ok, err := s.hasher.Verify(ctx, hash, in.Password)
	if err != nil {
		return "", Session{}, User{}, err
	}
	if !ok || !known {
		s.fail(ctx, key, ipKey)
		return "", Session{}, User{}, apperr.New(apperr.InvalidLogin, "wrong login or password")
	}
	if c.User.BannedAt(s.now()) {
		return "", Session{}, User{}, BanError(c.User)
	}
	if c.User.MFAEnabled {
		if strings.TrimSpace(in.MFACode) == "" {
			return "", Session{}, User{}, apperr.New(apperr.MFARequired, "enter the code from your authenticator app (or a recovery code) as mfaCode")
		}
		ok, err := s.checkMFACode(ctx, c, in.MFACode)
		if err != nil {
			return "", Session{}, User{}, err
		}
		if !ok {
			s.fail(ctx, key, ipKey)
			return "", Session{}, User{}, apperr.New(apperr.InvalidMFACode, "the MFA code is wrong or was already used")
		}
	}
	token, sess, err := s.openSession(ctx, c.User.ID, in.IP, in.UserAgent)
	return token, sess, c.User, err
}

// The keys failures are counted under: per account (by id, so its
// username and email share one budget), per account for MFA changes, and
// per client IP.
func loginFailKey(userID int64) string { return "login:user:" + strconv.FormatInt(userID, 10) }
func mfaFailKey(userID int64) string   { return "mfa:user:" + strconv.FormatInt(userID, 10) }
func ipFailKey(ip string) string       { return "login:ip:" + ip }

// checkBlocked answers 429 (the login tier) if key has failed too often.
func checkBlocked(ctx context.Context, l FailureLimiter, key string) error {
	if wait, blocked := l.Blocked(ctx, key); blocked {
		return &apperr.Error{Code: apperr.RateLimited, Message: "too many failed attempts; try again later", RetryAfter: wait}
	}
	return nil
}

// fail counts one failure against an account key and a client IP key.
func (s *Service) fail(ctx context.Context, accountKey, ipKey string) {
	s.failures.Fail(ctx, accountKey)
	s.ipFailures.Fail(ctx, ipKey)
}

// checkMFACode accepts an unspent TOTP code or an unspent recovery code.
func (s *Service) checkMFACode(ctx context.Context, c Credentials, code string) (bool, error) {
	code = strings.ReplaceAll(strings.TrimSpace(code), " ", "")
	if len(code) == 6 && strings.Trim(code, "0123456789") == "" {
		step := matchTOTP(c.MFASecret, code, s.now())
		if step == 0 || step <= c.MFALastStep {
			return false, nil
		}
		return s.store.UseTOTPStep(ctx, c.User.ID, step)
	}
	if len(code) > 32 {
		return false, nil
	}
	return s.store.UseRecoveryCode(ctx, c.User.ID, hashSecret(normalizeRecoveryCode(code)), s.now())
}

func (s *Service) openSession(ctx context.Context, userID int64, ip, ua string) (string, Session, error) {
	now := s.now()
	if len(ua) > 255 {
		ua = ua[:255]
	}
	token := newSessionToken(userID)
	sess, err := s.store.CreateSession(ctx, Session{UserID: userID, IP: ip, UserAgent: ua, CreatedAt: now, LastSeenAt: now,
		ExpiresAt: now.Add(s.cfg.SessionTTL)}, hashSecret(token))
	if err != nil {
		return "", Session{}, err
	}
	sess.Current = true
	return token, sess, nil
}

var errNoSession = apperr.New(apperr.Unauthorized, "sign in first: the session is missing, expired or revoked")

// cachedSession is what the session cache holds per token.
type cachedSession struct {
	Session Session `json:"s"`
	User    User    `json:"u"`
}

// Authenticate resolves a session token to its session and user. The
// lookup is cached (long tier) under the user's tag, so a warm request
// costs no query; every change to the user or their sessions drops it.
func (s *Service) Authenticate(ctx context.Context, token string) (Session, User, error) {
	now := s.now()
	sess, u, err := s.cachedSession(ctx, token, now)
	if err != nil {
		return Session{}, User{}, err
	}
	// Writing last_seen_at on every request would turn every read into a
	// write; a few minutes of precision is all the session list needs.
	if now.Sub(sess.LastSeenAt) > 5*time.Minute {
		if err := s.store.TouchSession(ctx, sess.ID, now); err != nil {
			s.log.Warn("session touch failed", "session", sess.ID, "err", err)
		} else {
			s.changed(ctx, u.ID)
		}
	}
	sess.Current = true
	return sess, u, nil
}

// ValidSession is Authenticate without touching the session: a long-lived
// connection asks it before each subscribe whether its session still
// holds. It answers from the same cache, which ending a session drops (on
// this instance at once, on the others when the invalidation arrives), so
// the check costs no query when warm.
func (s *Service) ValidSession(ctx context.Context, token string) (Session, error) {
	sess, _, err := s.cachedSession(ctx, token, s.now())
	return sess, err
}

// cachedSession is the cached lookup behind Authenticate and ValidSession.
func (s *Service) cachedSession(ctx context.Context, token string, now time.Time) (Session, User, error) {
	uid, ok := tokenUserID(token)
	if !ok {
		return Session{}, User{}, errNoSession
	}
	hash := hashSecret(token)
	b, err := s.cache.Get(ctx, cache.Sessions, "session:"+hash, AccountTag(uid), func(ctx context.Context) ([]byte, error) {
		sess, u, err := s.store.SessionByToken(ctx, hash, now)
		if err != nil {
			return nil, err
		}
		return json.Marshal(cachedSession{sess, u})
	})
	if apperr.Is(err, apperr.NotFound) {
		return Session{}, User{}, errNoSession
	}
	if err != nil {
		return Session{}, User{}, err
	}
	cs, err := s.sessions.decode(hash, b)
	if err != nil {
		return Session{}, User{}, err
	}
	sess, u := cs.Session, cs.User
	sess.UserID = u.ID // not in the JSON form
	if err := live(sess, u, uid, now); err != nil {
		return Session{}, User{}, err
	}
	return sess, u, nil
}

// live says whether a session found for a token of user uid may be used.
func live(sess Session, u User, uid int64, now time.Time) error {
	if !now.Before(sess.ExpiresAt) || u.ID != uid {
		return errNoSession
	}
	if u.BannedAt(now) {
		return BanError(u)
	}
	return nil
}

// CheckSession is Authenticate without the cache and without touching the
// session: a long-lived connection asks it whether the session it opened
// with still holds, right after a revocation was announced, when a cached
// answer could still be the old one.
func (s *Service) CheckSession(ctx context.Context, token string) (Session, error) {
	uid, ok := tokenUserID(token)
	if !ok {
		return Session{}, errNoSession
	}
	now := s.now()
	sess, u, err := s.store.SessionByToken(ctx, hashSecret(token), now)
	if apperr.Is(err, apperr.NotFound) {
		return Session{}, errNoSession
	}
	if err != nil {
		return Session{}, err
	}
	sess.UserID = u.ID
	return sess, live(sess, u, uid, now)
}

// Logout revokes the current session.
func (s *Service) Logout(ctx context.Context, sess Session) error {
	if err := s.store.RevokeSession(ctx, sess.UserID, sess.ID, s.now()); err != nil {
		return err
	}
	s.revoked(ctx, sess.UserID, sess.ID, "logout")
	return nil
}

// Sessions lists the user's live sessions, marking the current one.
func (s *Service) Sessions(ctx context.Context, current Session) ([]Session, error) {
	list, err := s.store.ListSessions(ctx, current.UserID, s.now())
	for i := range list {
		list[i].Current = list[i].ID == current.ID
	}
	return list, err
}

// RevokeSession revokes one of the user's own sessions.
func (s *Service) RevokeSession(ctx context.Context, userID, sessionID int64) error {
	if err := s.store.RevokeSession(ctx, userID, sessionID, s.now()); err != nil {
		return err
	}
	s.revoked(ctx, userID, sessionID, "revoked")
	return nil
}

type passwordResetJob struct {
	Email string `json:"email"`
}

// RequestPasswordReset mails a reset link if email has an account. It
// returns nil for unknown addresses too, so the answer tells nothing; and
// so that its time tells nothing either, it does the same work for every
// address: it only enqueues a job, which looks the address up later
// (PasswordResetJobKind).
func (s *Service) RequestPasswordReset(ctx context.Context, email string) error {
	email = normalizeEmail(email)
	fe := apperr.FieldErrors{}
	checkEmail(fe, email)
	if err := fe.Err(); err != nil {
		return err
	}
	j := jobs.Must(PasswordResetKind, passwordResetJob{Email: email})
	j.Priority = 10 // people wait for these
	return s.jobs.Enqueue(ctx, j)
}

// PasswordResetJobKind runs the jobs RequestPasswordReset enqueues.
func (s *Service) PasswordResetJobKind() jobs.Kind {
	return jobs.Kind{Name: PasswordResetKind, MaxAttempts: 8, Timeout: time.Minute, Handle: func(ctx context.Context, j jobs.Job) error {
		var p passwordResetJob
		if err := json.Unmarshal(j.Payload, &p); err != nil || p.Email == "" {
			return fmt.Errorf("%s payload %s: %w", PasswordResetKind, j.Payload, jobs.ErrPermanent)
		}
		return s.sendPasswordReset(ctx, p.Email)
	}}
}

// sendPasswordReset stores a reset token for email's account, if it has
// one, and mails the link.
func (s *Service) sendPasswordReset(ctx context.Context, email string) error {
	c, err := s.store.Credentials(ctx, email)
	if apperr.Is(err, apperr.NotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	now := s.now()
	token := newToken()
	link := s.cfg.BaseURL + "/reset-password?" + url.Values{"token": {token}}.Encode()
	msg := mail.Message{
		To:      c.User.Email,
		Subject: "Reset your " + s.cfg.Issuer + " password",
		Text: fmt.Sprintf("Hello %s,\n\nsomebody asked to reset your password. To choose a new one, open:\n%s\n\n"+
			"or send this token with your new password: %s\n\nThe link expires in %s and works once. "+
			"If it was not you, ignore this mail: your password stays as it is.\n",
			c.User.Username, link, token, humanDuration(s.cfg.ResetTTL)),
	}
	if err := s.store.AddPasswordReset(ctx, c.User.ID, hashSecret(token), now.Add(s.cfg.ResetTTL), now, mailJob(msg)); err != nil {
		return err
	}
	s.jobs.Notify(ctx)
	return nil
}

// ConfirmPasswordReset spends a reset token, sets the new password and
// signs every existing session out.
func (s *Service) ConfirmPasswordReset(ctx context.Context, token, password string) error {
	token = strings.TrimSpace(token)
	fe := apperr.FieldErrors{}
	if token == "" {
		fe.Add("token", "is required")
	} else if len(token) > 128 {
		fe.Add("token", "is too long")
	}
	checkPassword(fe, "password", password, "", "")
	if err := fe.Err(); err != nil {
		return err
	}
	hash, err := s.hasher.Hash(ctx, password)
	if err != nil {
		return err
	}
	id, err := s.store.ResetPassword(ctx, hashSecret(token), hash, s.now())
	if err != nil {
		return err
	}
	s.revoked(ctx, id, 0, "password_reset")
	return nil
}

// MFASetup is what an authenticator app needs.
type MFASetup struct {
	Secret     string `json:"secret"`
	OTPAuthURL string `json:"otpauthUrl"`
}

// SetupMFA creates a pending TOTP secret; EnableMFA confirms it.
func (s *Service) SetupMFA(ctx context.Context, u User) (MFASetup, error) {
	if u.MFAEnabled {
		return MFASetup{}, apperr.New(apperr.Conflict, "MFA is already enabled; disable it first to set up a new authenticator")
	}
	key, err := totp.Generate(totp.GenerateOpts{Issuer: s.cfg.Issuer, AccountName: u.Email, Period: totpPeriod})
	if err != nil {
		return MFASetup{}, err
	}
	if err := s.store.SetMFASecret(ctx, u.ID, key.Secret(), s.now()); err != nil {
		return MFASetup{}, err
	}
	return MFASetup{Secret: key.Secret(), OTPAuthURL: key.URL()}, nil
}

// checkMFABlocked refuses an MFA change while the account or the client IP
// has failed too often.
func (s *Service) checkMFABlocked(ctx context.Context, userID int64, ip string) error {
	if err := checkBlocked(ctx, s.ipFailures, ipFailKey(ip)); err != nil {
		return err
	}
	return checkBlocked(ctx, s.failures, mfaFailKey(userID))
}

// EnableMFA turns MFA on given a current code for the pending secret and
// returns ten single-use recovery codes, shown this once. Wrong codes count
// against the account and the client IP ip, as at login.
func (s *Service) EnableMFA(ctx context.Context, userID int64, code, ip string) ([]string, error) {
	if err := s.checkMFABlocked(ctx, userID, ip); err != nil {
		return nil, err
	}
	c, err := s.store.CredentialsByID(ctx, userID)
	if err != nil {
		return nil, err
	}
	switch {
	case c.User.MFAEnabled:
		return nil, apperr.New(apperr.Conflict, "MFA is already enabled")
	case c.MFASecret == "":
		return nil, apperr.New(apperr.Conflict, "call POST /api/auth/mfa/setup first")
	}
	step := matchTOTP(c.MFASecret, strings.TrimSpace(code), s.now())
	if step == 0 || step <= c.MFALastStep {
		s.fail(ctx, mfaFailKey(userID), ipFailKey(ip))
		return nil, apperr.New(apperr.InvalidMFACode, "the code is wrong or was already used; check your device's clock")
	}
	codes := make([]string, 10)
	hashes := make([]string, len(codes))
	for i := range codes {
		codes[i] = newRecoveryCode()
		hashes[i] = hashSecret(normalizeRecoveryCode(codes[i]))
	}
	if err := s.store.EnableMFA(ctx, userID, step, hashes, s.now()); err != nil {
		return nil, err
	}
	s.changed(ctx, userID)
	return codes, nil
}

// DisableMFA turns MFA off given a current code or a recovery code; wrong
// codes count as in EnableMFA.
func (s *Service) DisableMFA(ctx context.Context, userID int64, code, ip string) error {
	if err := s.checkMFABlocked(ctx, userID, ip); err != nil {
		return err
	}
	c, err := s.store.CredentialsByID(ctx, userID)
	if err != nil {
		return err
	}
	if !c.User.MFAEnabled {
		return apperr.New(apperr.Conflict, "MFA is not enabled")
	}
	ok, err := s.checkMFACode(ctx, c, code)
	if err != nil {
		return err
	}
	if !ok {
		s.fail(ctx, mfaFailKey(userID), ipFailKey(ip))
		return apperr.New(apperr.InvalidMFACode, "the code is wrong or was already used")
	}
	defer s.changed(ctx, userID)
	return s.store.DisableMFA(ctx, userID, s.now())
}

// UserLoader returns a per-request loader that fetches the users a
// response references in one query (see package batch).
func (s *Service) UserLoader() *batch.Loader[int64, User] {
	return batch.New(s.store.UsersByIDs, 500, time.Millisecond)
}

// User returns a user by id.
func (s *Service) User(ctx context.Context, id int64) (User, error) {
	return s.store.UserByID(ctx, id)
}

// UpdateProfile validates and applies u's PATCH /api/users/me. Display
// names are stored NFKC-normalized; staff names are refused unless u is
// staff; an avatar is one of this server's image uploads (stored as its
// path) or an https URL.
func (s *Service) UpdateProfile(ctx context.Context, u User, p ProfileUpdate) (User, error) {
	fe := apperr.FieldErrors{}
	if p.DisplayName != nil {
		name := norm.NFKC.String(strings.TrimSpace(*p.DisplayName))
		checkDisplayName(fe, name, u.Role.AtLeast(RoleModerator))
		p.DisplayName = &name
	}
	if p.Bio != nil {
		checkText(fe, "bio", *p.Bio, MaxBio)
	}
	if p.AvatarURL != nil {
		avatar := avatarValue(fe, strings.TrimSpace(*p.AvatarURL), s.assetURL)
		p.AvatarURL = &avatar
	}
	checkSettings(fe, p.Settings)
	if err := fe.Err(); err != nil {
		return User{}, err
	}
	defer s.changed(ctx, u.ID)
	return s.store.UpdateProfile(ctx, u.ID, p, s.now())
}

// humanDuration writes d as mails say it: "24 hours", "1 hour", "30 minutes".
func humanDuration(d time.Duration) string {
	unit, n := "minute", int(d/time.Minute)
	if d >= time.Hour && d%time.Hour == 0 {
		unit, n = "hour", int(d/time.Hour)
	}
	if n == 1 {
		return "1 " + unit
	}
	return strconv.Itoa(n) + " " + unit + "s"
}

// MintSession opens a session for userID without a password, for tools
// that prepare accounts in bulk (benchmarks, the load generator, demo
// seeding); it returns the token. Requests never call it.
func MintSession(ctx context.Context, store Store, userID int64, ttl time.Duration, now time.Time) (string, error) {
	token := newSessionToken(userID)
	_, err := store.CreateSession(ctx, Session{UserID: userID, UserAgent: "plaza-tool", CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(ttl)}, hashSecret(token))
	return token, err
}

// Mailer sends one mail.
type Mailer interface {
	Send(ctx context.Context, m mail.Message) error
}

// MailJobKind runs mail.send jobs with sender. A payload that does not
// decode is a permanent failure; a refused or unreachable mail server is
// retried with backoff.
func MailJobKind(sender Mailer) jobs.Kind {
	return jobs.Kind{Name: MailKind, MaxAttempts: 8, Timeout: time.Minute, Handle: func(ctx context.Context, j jobs.Job) error {
		var m mail.Message
		if err := json.Unmarshal(j.Payload, &m); err != nil || m.To == "" {
			return fmt.Errorf("mail.send payload %s: %w", j.Payload, jobs.ErrPermanent)
		}
		return sender.Send(ctx, m)
	}}
}

// SetRole gives user id the role (admins: PATCH /api/admin/users/{id}). The
// user's cached sessions are dropped, so the change holds from their next
// request on every instance.
func (s *Service) SetRole(ctx context.Context, id int64, role Role) (User, error) {
	if !role.Valid() {
		return User{}, apperr.Invalid(map[string]string{"role": "must be one of user, creator, moderator, admin"})
	}
	u, err := s.store.SetRole(ctx, id, role, s.now())
	if err != nil {
		return User{}, err
	}
	s.changed(ctx, id)
	return u, nil
}
