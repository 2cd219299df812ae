package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/plazahq/plaza/internal/account"
	"github.com/plazahq/plaza/internal/apperr"
	"github.com/plazahq/plaza/internal/cache"
)

const sessionCookie = "plaza_session"

type authInfo struct {
	session account.Session
	user    account.User
	token   string // the credential itself: a WebSocket re-checks it
}

func authFrom(r *http.Request) authInfo {
	if st := stateOf(r.Context()); st != nil {
		return st.auth
	}
	return authInfo{}
}

// authenticate resolves the bearer token or the session cookie. A cookie
// sent with a state-changing request from a foreign origin is refused: that
// is what a cross-site request forgery looks like.
func (s *Server) authenticate(r *http.Request) (authInfo, error) {
	token, fromCookie := "", false
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, t, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") {
			return authInfo{}, apperr.New(apperr.Unauthorized, "use Authorization: Bearer <token>")
		}
		token = strings.TrimSpace(t)
	} else if c, err := r.Cookie(sessionCookie); err == nil {
		token, fromCookie = c.Value, true
	} else if r.URL.Path == "/api/ws" {
		token = r.URL.Query().Get("token") // browsers cannot set headers on a WebSocket
	}
	if token == "" {
		return authInfo{}, apperr.New(apperr.Unauthorized, "sign in first: send Authorization: Bearer <token>")
	}
	if fromCookie && r.Method != http.MethodGet && r.Method != http.MethodHead {
		if o := r.Header.Get("Origin"); o != "" && !sameOrigin(r, o) && !s.originAllowed(o) {
			return authInfo{}, apperr.New(apperr.Forbidden, "cross-site request refused")
		}
	}
	sess, u, err := s.accounts.Authenticate(r.Context(), token)
	if err != nil {
		return authInfo{}, err
	}
	return authInfo{session: sess, user: u, token: token}, nil
}

// hasCredentials reports whether the request presents a session at all.
func hasCredentials(r *http.Request) bool {
	if r.Header.Get("Authorization") != "" {
		return true
	}
	_, err := r.Cookie(sessionCookie)
	return err == nil
}

func (s *Server) register(w http.ResponseWriter, r *http.Request) error {
	var in account.RegisterInput
	if err := s.decode(w, r, &in); err != nil {
		return err
	}
	u, err := s.accounts.Register(r.Context(), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, s.present(u))
	return nil
}

func (s *Server) verifySignup(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Email string `json:"email"`
		Code  string `json:"code"`
	}
	if err := s.decode(w, r, &in); err != nil {
		return err
	}
	u, err := s.accounts.VerifySignup(r.Context(), in.Email, in.Code)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.present(u))
	return nil
}

type accepted struct {
	Status string `json:"status"`
}

func (s *Server) resendVerification(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Email string `json:"email"`
	}
	if err := s.decode(w, r, &in); err != nil {
		return err
	}
	if err := s.accounts.ResendVerification(r.Context(), in.Email); err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, accepted{"if the address belongs to an unverified account, a new code is on its way"})
	return nil
}

type loginResponse struct {
	Token   string          `json:"token"`
	User    account.User    `json:"user"`
	Session account.Session `json:"session"`
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) error {
	var in account.LoginInput
	if err := s.decode(w, r, &in); err != nil {
		return err
	}
	in.IP, in.UserAgent = s.proxies.clientIP(r), r.UserAgent()
	token, sess, u, err := s.accounts.Login(r.Context(), in)
	if err != nil {
		return s.countLockout(err)
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: token, Path: "/", Expires: sess.ExpiresAt,
		HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode})
	writeJSON(w, http.StatusOK, loginResponse{Token: token, User: s.present(u), Session: sess})
	return nil
}

// countLockout counts a refusal by the failure windows of login and MFA
// (account.Service) among the rate-limit rejections, in the login tier.
func (s *Server) countLockout(err error) error {
	if apperr.Is(err, apperr.RateLimited) {
		s.metrics.RateLimited("login")
	}
	return err
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) error {
	if err := s.accounts.Logout(r.Context(), authFrom(r).session); err != nil && !apperr.Is(err, apperr.NotFound) {
		return err
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode})
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type list[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"nextCursor,omitempty"`
}

func (s *Server) listSessions(w http.ResponseWriter, r *http.Request) error {
	sessions, err := s.accounts.Sessions(r.Context(), authFrom(r).session)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, list[account.Session]{Items: sessions})
	return nil
}

func (s *Server) revokeSession(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.accounts.RevokeSession(r.Context(), authFrom(r).user.ID, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) requestPasswordReset(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Email string `json:"email"`
	}
	if err := s.decode(w, r, &in); err != nil {
		return err
	}
	if err := s.accounts.RequestPasswordReset(r.Context(), in.Email); err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, accepted{"if the address has an account, a reset link is on its way"})
	return nil
}

func (s *Server) confirmPasswordReset(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Token    string `json:"token"`
		Password string `json:"password"`
	}
	if err := s.decode(w, r, &in); err != nil {
		return err
	}
	if err := s.accounts.ConfirmPasswordReset(r.Context(), in.Token, in.Password); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) mfaSetup(w http.ResponseWriter, r *http.Request) error {
	setup, err := s.accounts.SetupMFA(r.Context(), authFrom(r).user)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, setup)
	return nil
}

type mfaCode struct {
	Code string `json:"code"`
}

func (s *Server) mfaEnable(w http.ResponseWriter, r *http.Request) error {
	var in mfaCode
	if err := s.decode(w, r, &in); err != nil {
		return err
	}
	codes, err := s.accounts.EnableMFA(r.Context(), authFrom(r).user.ID, in.Code, s.proxies.clientIP(r))
	if err != nil {
		return s.countLockout(err)
	}
	writeJSON(w, http.StatusOK, struct {
		RecoveryCodes []string `json:"recoveryCodes"`
	}{codes})
	return nil
}

func (s *Server) mfaDisable(w http.ResponseWriter, r *http.Request) error {
	var in mfaCode
	if err := s.decode(w, r, &in); err != nil {
		return err
	}
	if err := s.accounts.DisableMFA(r.Context(), authFrom(r).user.ID, in.Code, s.proxies.clientIP(r)); err != nil {
		return s.countLockout(err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// me answers with the user's record, cached under the user's tag. It is
// read afresh on a miss, not taken from the session: a cached session keeps
// its xp while awards that leave the level alone come and go
// (account.XPTags).
func (s *Server) me(w http.ResponseWriter, r *http.Request) error {
	id := authFrom(r).user.ID
	b, err := s.cache.Get(r.Context(), cache.Long, "me:"+strconv.FormatInt(id, 10), account.UserTag(id),
		func(ctx context.Context) ([]byte, error) {
			u, err := s.accounts.User(ctx, id)
			if err != nil {
				return nil, err
			}
			return json.Marshal(s.present(u))
		})
	if err != nil {
		return err
	}
	writeRaw(w, http.StatusOK, b)
	return nil
}

func (s *Server) updateMe(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		DisplayName *string         `json:"displayName"`
		Bio         *string         `json:"bio"`
		AvatarURL   *string         `json:"avatarUrl"`
		Settings    json.RawMessage `json:"settings"`
	}
	if err := s.decode(w, r, &in); err != nil {
		return err
	}
	u, err := s.accounts.UpdateProfile(r.Context(), authFrom(r).user,
		account.ProfileUpdate{DisplayName: in.DisplayName, Bio: in.Bio, AvatarURL: in.AvatarURL, Settings: in.Settings})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.present(u))
	return nil
}

func (s *Server) userProfile(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	b, err := s.cache.Get(r.Context(), cache.Long, "profile:"+strconv.FormatInt(id, 10), account.UserTag(id),
		func(ctx context.Context) ([]byte, error) {
			u, err := s.accounts.User(ctx, id)
			if err != nil {
				return nil, err
			}
			return json.Marshal(s.present(u).Profile())
		})
	if err != nil {
		return err
	}
	writeRaw(w, http.StatusOK, b)
	return nil
}
