package httpapi_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/plazahq/plaza/internal/account"
	"github.com/plazahq/plaza/internal/sqldb"
	"github.com/plazahq/plaza/internal/sqldb/sqldbtest"
	"github.com/pquerna/otp/totp"
)

func TestSignupLoginProfile(t *testing.T) {
	sqldbtest.ForEach(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		var u account.User
		e.must(201, e.do("POST", "/api/auth/register", map[string]string{"email": " Ann@Example.COM ", "username": "Ann_1", "password": pw}, "")).json(&u)
		if u.Email != "ann@example.com" || u.Username != "Ann_1" || u.EmailVerified || u.Role != account.RoleUser {
			t.Fatalf("registered %+v", u)
		}
		mail := e.waitMail("ann@example.com", "verification code")
		code := match(t, codeRE, mail)
		if !strings.Contains(mail, "https://plaza.test/verify-email?") {
			t.Errorf("mail lacks the verification link:\n%s", mail)
		}
		// Login works before verification; the flag tells the client.
		tok, got := e.login("ann@example.com", pw, "")
		if got.EmailVerified {
			t.Fatal("verified before the code was sent")
		}
		e.must(400, e.do("POST", "/api/auth/signup-verification", map[string]string{"email": "ann@example.com", "code": "000000"}, ""))
		e.must(200, e.do("POST", "/api/auth/signup-verification", map[string]string{"email": "ANN@example.com", "code": code}, ""))

		var me account.User
		e.must(200, e.do("GET", "/api/users/me", nil, tok)).json(&me)
		if !me.EmailVerified || me.ID != u.ID {
			t.Fatalf("me = %+v", me)
		}
		// Login by username, any case.
		tok2, _ := e.login("ANN_1", pw, "")

		e.must(200, e.do("PATCH", "/api/users/me", `{"displayName":"  Ann  ","bio":"hi","settings":{"theme":"dark"}}`, tok)).json(&me)
		if me.DisplayName != "Ann" || me.Bio != "hi" || string(me.Settings) != `{"theme":"dark"}` {
			t.Fatalf("after patch %+v", me)
		}
		var p account.Profile
		e.must(200, e.do("GET", fmt.Sprintf("/api/users/%d", u.ID), nil, "")).json(&p)
		want := account.Profile{ID: u.ID, Username: "Ann_1", DisplayName: "Ann", Bio: "hi", Role: account.RoleUser, Level: 1, CreatedAt: u.CreatedAt}
		if diff := cmp.Diff(want, p); diff != "" {
			t.Errorf("profile (-want +got):\n%s", diff)
		}
		if strings.Contains(string(e.do("GET", fmt.Sprintf("/api/users/%d", u.ID), nil, "").body), "email") {
			t.Error("public profile leaks the email")
		}
		e.must(404, e.do("GET", "/api/users/999999", nil, ""))

		// Sessions: two live; revoke the other; logout the current.
		var sessions struct{ Items []account.Session }
		e.must(200, e.do("GET", "/api/auth/sessions", nil, tok)).json(&sessions)
		if len(sessions.Items) != 2 {
			t.Fatalf("sessions = %+v", sessions.Items)
		}
		var other int64
		for _, s := range sessions.Items {
			if !s.Current {
				other = s.ID
			}
		}
		e.must(204, e.do("DELETE", fmt.Sprintf("/api/auth/sessions/%d", other), nil, tok))
		e.must(401, e.do("GET", "/api/users/me", nil, tok2))
		e.must(404, e.do("DELETE", fmt.Sprintf("/api/auth/sessions/%d", other), nil, tok))
		e.must(204, e.do("POST", "/api/auth/logout", nil, tok))
		if r := e.do("GET", "/api/users/me", nil, tok); r.status != 401 || r.code() != "unauthorized" {
			t.Fatalf("after logout: %d %s", r.status, r.body)
		}
	})
}

func TestVerifyByLinkTokenAndResend(t *testing.T) {
	e := newEnv(t, sqldbtest.OpenSQLite(t, sqldb.Config{}))
	e.must(201, e.do("POST", "/api/auth/register", map[string]string{"email": "bob@example.com", "username": "bob", "password": pw}, ""))
	first := match(t, tokenRE, e.waitMail("bob@example.com", "verification code"))
	e.must(202, e.do("POST", "/api/auth/signup-verification/resend", map[string]string{"email": "bob@example.com"}, ""))
	for e.mailCount("bob@example.com") < 2 {
		time.Sleep(10 * time.Millisecond)
	}
	// The resend replaced the first code.
	e.must(400, e.do("POST", "/api/auth/signup-verification", map[string]string{"email": "bob@example.com", "code": first}, ""))
	second := match(t, tokenRE, e.waitMail("bob@example.com", "verification code"))
	if second == first {
		t.Fatal("resend mailed the same token")
	}
	var u account.User
	e.must(200, e.do("POST", "/api/auth/signup-verification", map[string]string{"email": "bob@example.com", "code": second}, "")).json(&u)
	if !u.EmailVerified {
		t.Fatal("not verified by the link token")
	}
	// Unknown addresses get the same 202 and no mail.
	e.must(202, e.do("POST", "/api/auth/signup-verification/resend", map[string]string{"email": "ghost@example.com"}, ""))
	if e.mailCount("ghost@example.com") != 0 {
		t.Fatal("mail sent to an unknown address")
	}
}

func TestVerificationCodeAttemptsAreLimited(t *testing.T) {
	e := newEnv(t, sqldbtest.OpenSQLite(t, sqldb.Config{}))
	e.must(201, e.do("POST", "/api/auth/register", map[string]string{"email": "cyd@example.com", "username": "cyd", "password": pw}, ""))
	code := match(t, codeRE, e.waitMail("cyd@example.com", "verification code"))
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	for range 5 {
		e.must(400, e.do("POST", "/api/auth/signup-verification", map[string]string{"email": "cyd@example.com", "code": wrong}, ""))
	}
	r := e.must(400, e.do("POST", "/api/auth/signup-verification", map[string]string{"email": "cyd@example.com", "code": code}, ""))
	if !strings.Contains(string(r.body), "too many") {
		t.Fatalf("right code after 5 wrong ones: %s", r.body)
	}
}

// Failed sign-ins count on the account, whichever of its names is used and
// from whichever IP; the right password is then refused from anywhere until
// the oldest failure ages out.
func TestLoginFailuresAreLimited(t *testing.T) {
	e := newEnv(t, sqldbtest.OpenSQLite(t, sqldb.Config{}), withEnv("PLAZA_TRUSTED_PROXIES", "127.0.0.1"))
	from := func(ip string) []string { return []string{"X-Forwarded-For", ip} }
	e.signup("dan")
	// Successful logins never count.
	for range 8 {
		e.login("dan", pw, "")
	}
	for i, login := range []string{"dan", "DAN", "dan", "dan@example.com", "Dan@Example.com"} {
		r := e.do("POST", "/api/auth/login", map[string]string{"login": login, "password": "wrong password " + fmt.Sprint(i)}, "", from(fmt.Sprintf("10.0.0.%d", i+1))...)
		if r.status != 401 || r.code() != "invalid_credentials" {
			t.Fatalf("attempt %d: %d %s", i, r.status, r.body)
		}
	}
	for _, login := range []string{"dan", "dan@example.com"} {
		r := e.do("POST", "/api/auth/login", map[string]string{"login": login, "password": pw}, "", from("10.9.9.9")...)
		if r.status != 429 || r.code() != "rate_limited" || r.header.Get("Retry-After") == "" {
			t.Fatalf("right password as %s from a fresh IP after 5 failures: %d %s (Retry-After %q)", login, r.status, r.body, r.header.Get("Retry-After"))
		}
	}
	// The IPs the guesses came from may still sign in to other accounts.
	e.signup("dee")
	e.must(200, e.do("POST", "/api/auth/login", map[string]string{"login": "dee", "password": pw}, "", from("10.0.0.1")...))
	e.clock.Advance(15*time.Minute + time.Second)
	e.login("dan", pw, "")
}

func TestUnknownLoginLooksLikeWrongPassword(t *testing.T) {
	e := newEnv(t, sqldbtest.OpenSQLite(t, sqldb.Config{}))
	e.signup("eve")
	a := e.do("POST", "/api/auth/login", map[string]string{"login": "nobody", "password": pw}, "")
	b := e.do("POST", "/api/auth/login", map[string]string{"login": "eve", "password": "not the password"}, "")
	if a.status != 401 || b.status != 401 || string(a.body) != string(b.body) {
		t.Fatalf("unknown user %d %s vs wrong password %d %s", a.status, a.body, b.status, b.body)
	}
}

func TestPasswordReset(t *testing.T) {
	sqldbtest.ForEach(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		tok, _ := e.signup("fay")
		e.must(202, e.do("POST", "/api/auth/password-reset", map[string]string{"email": "ghost@example.com"}, ""))
		e.must(202, e.do("POST", "/api/auth/password-reset", map[string]string{"email": "FAY@example.com"}, ""))
		reset := match(t, resetRE, e.waitMail("fay@example.com", "Reset your"))
		if e.mailCount("ghost@example.com") != 0 {
			t.Fatal("reset mail sent to an unknown address")
		}
		e.must(422, e.do("POST", "/api/auth/password-reset/confirm", map[string]string{"token": reset, "password": "short"}, ""))
		e.must(400, e.do("POST", "/api/auth/password-reset/confirm", map[string]string{"token": "not-a-token", "password": "a new long secret"}, ""))
		e.must(204, e.do("POST", "/api/auth/password-reset/confirm", map[string]string{"token": reset, "password": "a new long secret"}, ""))
		e.must(401, e.do("GET", "/api/users/me", nil, tok)) // sessions revoked
		e.must(401, e.do("POST", "/api/auth/login", map[string]string{"login": "fay", "password": pw}, ""))
		e.login("fay", "a new long secret", "")
		r := e.do("POST", "/api/auth/password-reset/confirm", map[string]string{"token": reset, "password": "yet another secret"}, "")
		if r.status != 400 || r.code() != "invalid_token" {
			t.Fatalf("reused token: %d %s", r.status, r.body)
		}
		// Expiry: an hour.
		e.must(202, e.do("POST", "/api/auth/password-reset", map[string]string{"email": "fay@example.com"}, ""))
		for e.mailCount("fay@example.com") < 3 {
			time.Sleep(10 * time.Millisecond)
		}
		late := match(t, resetRE, e.waitMail("fay@example.com", "Reset your"))
		if late == reset {
			t.Fatal("same reset token twice")
		}
		e.clock.Advance(61 * time.Minute)
		e.must(400, e.do("POST", "/api/auth/password-reset/confirm", map[string]string{"token": late, "password": "yet another secret"}, ""))
	})
}

func TestMFA(t *testing.T) {
	sqldbtest.ForEach(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		tok, _ := e.signup("gus")
		var setup account.MFASetup
		e.must(200, e.do("POST", "/api/auth/mfa/setup", nil, tok)).json(&setup)
		if setup.Secret == "" || !strings.HasPrefix(setup.OTPAuthURL, "otpauth://totp/") {
			t.Fatalf("setup = %+v", setup)
		}
		code := func() string {
			c, err := totp.GenerateCode(setup.Secret, e.clock.Now())
			if err != nil {
				t.Fatal(err)
			}
			return c
		}
		e.must(401, e.do("POST", "/api/auth/mfa/enable", map[string]string{"code": "000000"}, tok))
		var rec struct{ RecoveryCodes []string }
		e.must(200, e.do("POST", "/api/auth/mfa/enable", map[string]string{"code": code()}, tok)).json(&rec)
		if len(rec.RecoveryCodes) != 10 {
			t.Fatalf("recovery codes = %v", rec.RecoveryCodes)
		}
		e.must(409, e.do("POST", "/api/auth/mfa/setup", nil, tok))

		r := e.do("POST", "/api/auth/login", map[string]string{"login": "gus", "password": pw}, "")
		if r.status != 401 || r.code() != "mfa_required" {
			t.Fatalf("login without code: %d %s", r.status, r.body)
		}
		// The code that enabled MFA is spent: replay is refused.
		r = e.do("POST", "/api/auth/login", map[string]string{"login": "gus", "password": pw, "mfaCode": code()}, "")
		if r.status != 401 || r.code() != "invalid_mfa_code" {
			t.Fatalf("replayed code: %d %s", r.status, r.body)
		}
		e.clock.Advance(30 * time.Second)
		c := code()
		e.login("gus", pw, c)
		if r := e.do("POST", "/api/auth/login", map[string]string{"login": "gus", "password": pw, "mfaCode": c}, ""); r.code() != "invalid_mfa_code" {
			t.Fatalf("same code twice: %d %s", r.status, r.body)
		}
		// A recovery code works once, with or without its dash, any case.
		rc := strings.ToUpper(strings.ReplaceAll(rec.RecoveryCodes[0], "-", ""))
		e.login("gus", pw, rc)
		e.must(401, e.do("POST", "/api/auth/login", map[string]string{"login": "gus", "password": pw, "mfaCode": rec.RecoveryCodes[0]}, ""))

		e.must(401, e.do("POST", "/api/auth/mfa/disable", map[string]string{"code": "123"}, tok))
		e.must(204, e.do("POST", "/api/auth/mfa/disable", map[string]string{"code": rec.RecoveryCodes[1]}, tok))
		e.login("gus", pw, "")
		e.must(409, e.do("POST", "/api/auth/mfa/disable", map[string]string{"code": rec.RecoveryCodes[2]}, tok))
	})
}

func TestMFACodeGuessingIsLimited(t *testing.T) {
	e := newEnv(t, sqldbtest.OpenSQLite(t, sqldb.Config{}))
	tok, _ := e.signup("hal")
	e.must(200, e.do("POST", "/api/auth/mfa/setup", nil, tok))
	for range 5 {
		e.must(401, e.do("POST", "/api/auth/mfa/enable", map[string]string{"code": "000000"}, tok))
	}
	e.must(429, e.do("POST", "/api/auth/mfa/enable", map[string]string{"code": "000000"}, tok))
}

func TestBadInputChangesNothing(t *testing.T) {
	sqldbtest.ForEach(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		tok, ida := e.signup("ida")
		before := e.userCount()
		reg := func(email, username, password string) string {
			return fmt.Sprintf(`{"email":%q,"username":%q,"password":%q}`, email, username, password)
		}
		for _, tc := range []struct {
			name, method, path, body, ctype, token string
			status                                 int
			code                                   string
		}{
			{"malformed json", "POST", "/api/auth/register", `{"email":`, "application/json", "", 400, "bad_request"},
			{"not an object", "POST", "/api/auth/register", `[1,2]`, "application/json", "", 400, "bad_request"},
			{"two objects", "POST", "/api/auth/register", reg("x@example.com", "xx_1", pw) + `{}`, "application/json", "", 400, "bad_request"},
			{"empty body", "POST", "/api/auth/register", ``, "application/json", "", 400, "bad_request"},
			{"wrong content type", "POST", "/api/auth/register", reg("x@example.com", "xx_1", pw), "text/plain", "", 415, "unsupported_media_type"},
			{"no content type", "POST", "/api/auth/register", reg("x@example.com", "xx_1", pw), "", "", 415, "unsupported_media_type"},
			{"oversized", "POST", "/api/auth/register", `{"email":"` + strings.Repeat("a", 70<<10) + `"}`, "application/json", "", 413, "payload_too_large"},
			{"unknown field", "POST", "/api/auth/register", `{"email":"x@example.com","admin":true}`, "application/json", "", 400, "bad_request"},
			{"wrong type", "POST", "/api/auth/register", `{"email":1}`, "application/json", "", 422, "validation_failed"},
			// Names match the documented fields exactly; encoding/json v1 took
			// these as bio and displayName.
			{"upper-case names", "PATCH", "/api/users/me", `{"BIO":"changed","DisplayName":"Changed"}`, "application/json", tok, 400, "bad_request"},
			{"duplicate names", "PATCH", "/api/users/me", `{"bio":"changed","bio":"twice"}`, "application/json", tok, 400, "bad_request"},
			// Invalid UTF-8 is refused, not turned into U+FFFD and stored.
			{"invalid utf-8", "PATCH", "/api/users/me", "{\"bio\":\"caf\xe9\"}", "application/json", tok, 422, "validation_failed"},
			{"lone surrogate", "PATCH", "/api/users/me", `{"displayName":"a\ud800b"}`, "application/json", tok, 422, "validation_failed"},
			{"invalid utf-8 in settings", "PATCH", "/api/users/me", "{\"settings\":{\"theme\":\"\xc3\"}}", "application/json", tok, 422, "validation_failed"},
			{"duplicate email", "POST", "/api/auth/register", reg("IDA@example.com", "other_1", pw), "application/json", "", 409, "conflict"},
			{"duplicate username", "POST", "/api/auth/register", reg("new@example.com", "IDA", pw), "application/json", "", 409, "conflict"},
			{"weak password", "POST", "/api/auth/register", reg("new@example.com", "new_1", "password1"), "application/json", "", 422, "validation_failed"},
			{"short password", "POST", "/api/auth/register", reg("new@example.com", "new_1", "abc"), "application/json", "", 422, "validation_failed"},
			{"password has username", "POST", "/api/auth/register", reg("new@example.com", "new_1", "new_1-is-great"), "application/json", "", 422, "validation_failed"},
			{"bad email", "POST", "/api/auth/register", reg("not-an-email", "new_1", pw), "application/json", "", 422, "validation_failed"},
			{"bad username", "POST", "/api/auth/register", reg("new@example.com", "no spaces", pw), "application/json", "", 422, "validation_failed"},
			{"login empty", "POST", "/api/auth/login", `{}`, "application/json", "", 422, "validation_failed"},
			{"wrong password", "POST", "/api/auth/login", `{"login":"ida","password":"nope nope nope"}`, "application/json", "", 401, "invalid_credentials"},
			{"bad token", "GET", "/api/users/me", "", "", "plz_forged", 401, "unauthorized"},
			{"not a bearer", "GET", "/api/users/me", "", "", "", 401, "unauthorized"},
			{"long bio", "PATCH", "/api/users/me", `{"bio":"` + strings.Repeat("b", 501) + `"}`, "application/json", tok, 422, "validation_failed"},
			{"bad avatar", "PATCH", "/api/users/me", `{"avatarUrl":"javascript:alert(1)"}`, "application/json", tok, 422, "validation_failed"},
			{"settings not object", "PATCH", "/api/users/me", `{"settings":[1]}`, "application/json", tok, 422, "validation_failed"},
			{"settings null", "PATCH", "/api/users/me", `{"settings":null}`, "application/json", tok, 422, "validation_failed"},
			{"control chars", "PATCH", "/api/users/me", `{"displayName":"a\u0000b"}`, "application/json", tok, 422, "validation_failed"},
			{"wrong method", "PUT", "/api/users/me", "", "", tok, 405, "method_not_allowed"},
			{"unknown route", "GET", "/api/nothing", "", "", "", 404, "not_found"},
			{"bad id", "GET", "/api/users/-3", "", "", "", 404, "not_found"},
			{"huge id", "GET", "/api/users/99999999999999999999999", "", "", "", 404, "not_found"},
			{"revoke bad id", "DELETE", "/api/auth/sessions/x", "", "", tok, 404, "not_found"},
			// Only the canonical spelling of an id names a resource.
			{"id with plus", "GET", fmt.Sprintf("/api/users/+%d", ida.ID), "", "", "", 404, "not_found"},
			{"id with leading zero", "GET", fmt.Sprintf("/api/users/0%d", ida.ID), "", "", "", 404, "not_found"},
			{"zero id", "GET", "/api/users/0", "", "", "", 404, "not_found"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				req, _ := http.NewRequest(tc.method, e.srv.URL+tc.path, strings.NewReader(tc.body))
				if tc.ctype != "" {
					req.Header.Set("Content-Type", tc.ctype)
				}
				if tc.token != "" {
					req.Header.Set("Authorization", "Bearer "+tc.token)
				}
				if tc.name == "not a bearer" {
					req.Header.Set("Authorization", "Basic abc")
				}
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				var r resp
				r.status = res.StatusCode
				r.body = make([]byte, 4096)
				n, _ := res.Body.Read(r.body)
				r.body = r.body[:n]
				res.Body.Close()
				if r.status != tc.status || r.code() != tc.code {
					t.Fatalf("got %d %s, want %d %s", r.status, r.body, tc.status, tc.code)
				}
				if res.Header.Get("X-Request-Id") == "" {
					t.Error("no X-Request-Id")
				}
			})
		}
		if after := e.userCount(); after != before {
			t.Fatalf("users %d -> %d after bad input", before, after)
		}
		e.must(200, e.do("GET", fmt.Sprintf("/api/users/%d", ida.ID), nil, ""))
		var me account.User
		e.must(200, e.do("GET", "/api/users/me", nil, tok)).json(&me)
		if me.Bio != "" || me.DisplayName != "" || me.AvatarURL != "" || string(me.Settings) != "{}" {
			t.Fatalf("profile changed by rejected patches: %+v", me)
		}
	})
}
