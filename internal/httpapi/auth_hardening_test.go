package httpapi_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/plazahq/plaza/internal/account"
	"github.com/plazahq/plaza/internal/sqldb"
	"github.com/plazahq/plaza/internal/sqldb/sqldbtest"
	"github.com/pquerna/otp/totp"
)

// One client IP gets 50 failed sign-ins per 15 minutes, spread over any
// accounts, before it is refused: failures on a few accounts behind one
// NAT do not lock everybody else behind it out.
func TestLoginIPBudget(t *testing.T) {
	e := newEnv(t, sqldbtest.OpenSQLite(t, sqldb.Config{}), withEnv("PLAZA_TRUSTED_PROXIES", "127.0.0.1"))
	office := []string{"X-Forwarded-For", "192.0.2.10"}
	var names []string
	for i := range 7 {
		names = append(names, fmt.Sprintf("desk_%d", i))
		e.signup(names[i])
	}
	for _, n := range names[:6] {
		e.must(401, e.do("POST", "/api/auth/login", map[string]string{"login": n, "password": "not my password"}, "", office...))
	}
	e.must(200, e.do("POST", "/api/auth/login", map[string]string{"login": names[6], "password": pw}, "", office...))
	e.must(200, e.do("POST", "/api/auth/login", map[string]string{"login": names[0], "password": pw}, "", office...))
	for i := range 44 { // 50 failures in all, most on logins that name no account
		e.must(401, e.do("POST", "/api/auth/login", map[string]string{"login": fmt.Sprint("ghost_", i), "password": "not my password"}, "", office...))
	}
	r := e.do("POST", "/api/auth/login", map[string]string{"login": names[6], "password": pw}, "", office...)
	if r.status != 429 || r.header.Get("Retry-After") == "" {
		t.Fatalf("51st attempt from the IP: %d %s", r.status, r.body)
	}
	// The accounts themselves are not locked: each failed once.
	e.must(200, e.do("POST", "/api/auth/login", map[string]string{"login": names[6], "password": pw}, "", "X-Forwarded-For", "198.51.100.7"))
}

// PLAZA_RATE_LOGIN_IP sets the per-IP budget.
func TestLoginIPBudgetConfigured(t *testing.T) {
	e := newEnv(t, sqldbtest.OpenSQLite(t, sqldb.Config{}), withEnv("PLAZA_RATE_LOGIN_IP", "3/1h"))
	for i := range 3 {
		e.must(401, e.do("POST", "/api/auth/login", map[string]string{"login": fmt.Sprint("ghost_", i), "password": "not my password"}, ""))
	}
	e.must(429, e.do("POST", "/api/auth/login", map[string]string{"login": "ghost_9", "password": "not my password"}, ""))
	e.clock.Advance(61 * time.Minute)
	e.must(401, e.do("POST", "/api/auth/login", map[string]string{"login": "ghost_9", "password": "not my password"}, ""))
}

// Probing a name that has no account is limited like guessing a password,
// under the name however it is written.
func TestUnknownLoginFailuresAreLimited(t *testing.T) {
	e := newEnv(t, sqldbtest.OpenSQLite(t, sqldb.Config{}), withEnv("PLAZA_TRUSTED_PROXIES", "127.0.0.1"))
	for i, login := range []string{"nobody", "NOBODY", " nobody ", "ｎｏｂｏｄｙ", "Nobody"} {
		e.must(401, e.do("POST", "/api/auth/login", map[string]string{"login": login, "password": "guess"}, "", "X-Forwarded-For", fmt.Sprint("10.1.0.", i)))
	}
	e.must(429, e.do("POST", "/api/auth/login", map[string]string{"login": "nobody", "password": "guess"}, "", "X-Forwarded-For", "10.1.0.99"))
}

// Wrong MFA codes at sign-in count on the account like wrong passwords,
// whichever name is used; so do wrong codes to enable or disable MFA.
// Lockouts are counted in the login tier of the rate-limit metric.
func TestMFAFailuresCountOnTheAccount(t *testing.T) {
	e := newEnv(t, sqldbtest.OpenSQLite(t, sqldb.Config{}), withEnv("PLAZA_TRUSTED_PROXIES", "127.0.0.1", "PLAZA_METRICS_TOKEN", metricsToken))
	tok, _ := e.signup("kai")
	var setup account.MFASetup
	e.must(200, e.do("POST", "/api/auth/mfa/setup", nil, tok)).json(&setup)
	code := func() string {
		c, err := totp.GenerateCode(setup.Secret, e.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	e.must(200, e.do("POST", "/api/auth/mfa/enable", map[string]string{"code": code()}, tok))
	e.clock.Advance(30 * time.Second)
	for i, login := range []string{"kai", "kai@example.com", "KAI", "kai", "kai@example.com"} {
		r := e.do("POST", "/api/auth/login", map[string]string{"login": login, "password": pw, "mfaCode": "000000"}, "", "X-Forwarded-For", fmt.Sprint("10.2.0.", i))
		if r.code() != "invalid_mfa_code" {
			t.Fatalf("wrong code %d: %d %s", i, r.status, r.body)
		}
	}
	r := e.do("POST", "/api/auth/login", map[string]string{"login": "kai", "password": pw, "mfaCode": code()}, "", "X-Forwarded-For", "10.2.0.99")
	if r.status != 429 {
		t.Fatalf("right code after 5 wrong ones: %d %s", r.status, r.body)
	}
	for range 5 {
		e.must(401, e.do("POST", "/api/auth/mfa/disable", map[string]string{"code": "000000"}, tok))
	}
	e.must(429, e.do("POST", "/api/auth/mfa/disable", map[string]string{"code": code()}, tok))

	metrics := string(e.must(200, e.do("GET", "/metrics", nil, metricsToken)).body)
	if !strings.Contains(metrics, `plaza_ratelimit_rejections_total{tier="login"} 2`) {
		t.Fatalf("login lockouts not in metrics:\n%s", grep(metrics, "ratelimit"))
	}
}

// registerOnly registers name@example.com without verifying it and signs in.
func (e *env) registerOnly(name string) (string, account.User) {
	e.t.Helper()
	e.must(201, e.do("POST", "/api/auth/register", map[string]string{"email": name + "@example.com", "username": name, "password": pw}, ""))
	return e.login(name, pw, "")
}

// An unverified account may sign in and read, but posting waits for the
// verified email (PLAZA_REQUIRE_VERIFIED, on by default); nothing it tried
// to post exists.
func TestUnverifiedMayReadButNotPost(t *testing.T) {
	sqldbtest.ForEach(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		adminTok, _ := e.admin("boss")
		var ch channel
		e.must(201, e.do("POST", "/api/community/channels", map[string]any{"name": "General"}, adminTok)).json(&ch)
		friendTok, friend := e.signup("amy")
		tok, u := e.registerOnly("newbie")
		if u.EmailVerified {
			t.Fatal("verified without the code")
		}
		var th struct{ ID int64 }
		e.must(201, e.do("POST", "/api/messages/threads", map[string]int64{"userId": u.ID}, friendTok)).json(&th)

		messages := fmt.Sprintf("/api/community/channels/%d/messages", ch.ID)
		dm := fmt.Sprintf("/api/messages/threads/%d/messages", th.ID)
		for _, read := range []string{"/api/users/me", "/api/community/channels", messages, "/api/shouts", "/api/messages/threads", dm} {
			e.must(200, e.do("GET", read, nil, tok))
		}
		e.must(200, e.do("PATCH", "/api/users/me", map[string]string{"bio": "hello"}, tok))
		for _, write := range []struct {
			path string
			body any
		}{
			{messages, map[string]string{"body": "hi all"}},
			{"/api/shouts", map[string]string{"body": "hi all"}},
			{"/api/messages/threads", map[string]int64{"userId": friend.ID}},
			{dm, map[string]string{"body": "hi friend"}},
		} {
			r := e.do("POST", write.path, write.body, tok)
			if r.status != 403 || r.code() != "verification_required" || !strings.Contains(string(r.body), "verify your email") {
				t.Fatalf("POST %s unverified: %d %s", write.path, r.status, r.body)
			}
		}
		var shouts, msgs struct{ Items []any }
		e.must(200, e.do("GET", "/api/shouts", nil, "")).json(&shouts)
		e.must(200, e.do("GET", messages, nil, "")).json(&msgs)
		if len(shouts.Items) != 0 || len(msgs.Items) != 0 {
			t.Fatalf("refused posts were stored: %v %v", shouts.Items, msgs.Items)
		}

		// Verifying lets the same session post at once.
		code := match(t, codeRE, e.waitMail("newbie@example.com", "verification code"))
		e.must(200, e.do("POST", "/api/auth/signup-verification", map[string]string{"email": "newbie@example.com", "code": code}, ""))
		e.must(201, e.do("POST", "/api/shouts", map[string]string{"body": "verified now"}, tok))
		e.must(201, e.do("POST", messages, map[string]string{"body": "hi all"}, tok))
		e.must(201, e.do("POST", dm, map[string]string{"body": "hi friend"}, tok))
	})
}

// PLAZA_REQUIRE_VERIFIED=false lets unverified accounts post.
func TestRequireVerifiedOff(t *testing.T) {
	e := newEnv(t, sqldbtest.OpenSQLite(t, sqldb.Config{}), withEnv("PLAZA_REQUIRE_VERIFIED", "false"))
	_, friend := e.signup("amy")
	tok, _ := e.registerOnly("newbie")
	e.must(201, e.do("POST", "/api/shouts", map[string]string{"body": "hi all"}, tok))
	var th struct{ ID int64 }
	e.must(201, e.do("POST", "/api/messages/threads", map[string]int64{"userId": friend.ID}, tok)).json(&th)
	e.must(201, e.do("POST", fmt.Sprintf("/api/messages/threads/%d/messages", th.ID), map[string]string{"body": "hi"}, tok))
}

// Staff names and their lookalikes are refused as usernames and display
// names, except to staff; names are stored NFKC-normalized.
func TestStaffNamesAreReserved(t *testing.T) {
	e := newEnv(t, sqldbtest.OpenSQLite(t, sqldb.Config{}))
	before := e.userCount()
	for i, name := range []string{"admin", "ADMIN", "ａｄｍｉｎ", "аdmin", "adm1n", "Admin_1", "moderator", "m0d", "support", "r00t", "plaza"} {
		r := e.do("POST", "/api/auth/register", map[string]string{"email": fmt.Sprintf("spoof%d@example.com", i), "username": name, "password": pw}, "")
		// Cyrillic letters never pass the username rules; the rest read as staff names.
		if r.status != 422 || (name != "аdmin" && !strings.Contains(string(r.body), "reserved for the site's staff")) {
			t.Errorf("register %q: %d %s", name, r.status, r.body)
		}
	}
	if n := e.userCount(); n != before {
		t.Fatalf("%d accounts created with staff names", n-before)
	}
	var u account.User
	e.must(201, e.do("POST", "/api/auth/register", map[string]string{"email": "wide@example.com", "username": "ｗｉｄｅ＿１", "password": pw}, "")).json(&u)
	if u.Username != "wide_1" {
		t.Fatalf("username stored as %q", u.Username)
	}
	e.login("WIDE_1", pw, "")
	e.login("ｗｉｄｅ＿１", pw, "")

	tok, _ := e.signup("zed")
	for _, name := range []string{"Admin", "Ａｄｍｉｎ", "A d m i n", "Ꭺdmin", "Moderator ", "Plaza Support", "S U P P O R T"} {
		r := e.do("PATCH", "/api/users/me", map[string]string{"displayName": name}, tok)
		if name == "Plaza Support" { // two words, neither alone: allowed
			e.must(200, r)
			continue
		}
		if r.status != 422 || !strings.Contains(string(r.body), "reserved") {
			t.Errorf("display name %q: %d %s", name, r.status, r.body)
		}
	}
	var me account.User
	e.must(200, e.do("PATCH", "/api/users/me", map[string]string{"displayName": "Ｚｅｄ ｉｓ ｈｅｒｅ"}, tok)).json(&me)
	if me.DisplayName != "Zed is here" {
		t.Fatalf("display name stored as %q", me.DisplayName)
	}
	adminTok, _ := e.admin("boss")
	e.must(200, e.do("PATCH", "/api/users/me", map[string]string{"displayName": "Admin"}, adminTok)).json(&me)
	if me.DisplayName != "Admin" {
		t.Fatalf("admin's display name %q", me.DisplayName)
	}
}

// An avatar is an image uploaded here, sent as its path or its URL, or an
// https URL; nothing else.
func TestAvatarURLs(t *testing.T) {
	e := newEnv(t, sqldbtest.OpenSQLite(t, sqldb.Config{}), withEnv("CDN_BASE_URL", "https://cdn.example.com"))
	tok, me := e.signup("ivy")
	var up struct{ URL, Path string }
	e.must(201, e.upload(tok, "file", "a.png", pngBytes)).json(&up)
	if up.URL != "https://cdn.example.com"+up.Path {
		t.Fatalf("upload URL %q", up.URL)
	}
	for _, ok := range []string{up.Path, up.URL, "https://images.example.org/ivy.png", ""} {
		var u account.User
		e.must(200, e.do("PATCH", "/api/users/me", map[string]string{"avatarUrl": ok}, tok)).json(&u)
		want := ok
		if ok == up.Path {
			want = up.URL // answered through the CDN function
		}
		if u.AvatarURL != want {
			t.Errorf("avatar %q answered as %q, want %q", ok, u.AvatarURL, want)
		}
	}
	// The CDN URL was stored as the path: a new CDN base would apply to it.
	e.must(200, e.do("PATCH", "/api/users/me", map[string]string{"avatarUrl": up.URL}, tok))
	var stored string
	if err := e.db.Write().QueryRow(context.Background(), []any{&stored}, "SELECT avatar_url FROM users WHERE id = ?", me.ID); err != nil || stored != up.Path {
		t.Fatalf("stored %q, %v; want %q", stored, err, up.Path)
	}
	for _, bad := range []string{"http://images.example.org/ivy.png", "javascript:alert(1)", "data:image/png;base64,iVBORw0KGgo=",
		"https://user:secret@images.example.org/ivy.png", "/uploads/image/../../plaza.db", "ftp://images.example.org/ivy.png",
		"http://cdn.example.com" + up.Path} {
		r := e.do("PATCH", "/api/users/me", map[string]string{"avatarUrl": bad}, tok)
		if r.status != 422 || r.code() != "validation_failed" {
			t.Errorf("avatar %q: %d %s", bad, r.status, r.body)
		}
	}
}
