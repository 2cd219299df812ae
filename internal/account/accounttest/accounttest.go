// Package accounttest is the conformance suite every account.Store passes,
// run against each real engine by the store's own tests.
package accounttest

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/plazahq/plaza/internal/account"
	"github.com/plazahq/plaza/internal/apperr"
)

var seq atomic.Int64

// now is a fixed instant on a whole millisecond, as stores keep milliseconds.
var now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func newUser(t *testing.T, s account.Store, v *account.Verification) account.User {
	t.Helper()
	n := seq.Add(1)
	u, err := s.CreateUser(context.Background(), account.NewUser{
		Email: fmt.Sprintf("user%d@example.com", n), Username: fmt.Sprintf("User_%d", n),
		PasswordHash: "hash", Role: account.RoleUser,
	}, v, now)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func wantCode(t *testing.T, err error, code apperr.Code) {
	t.Helper()
	if !apperr.Is(err, code) {
		t.Fatalf("got error %v, want code %s", err, code)
	}
}

// Exercise runs every conformance test against s. s must be empty of the
// users this suite creates (a fresh database).
func Exercise(t *testing.T, s account.Store) {
	ctx := context.Background()

	t.Run("CreateAndRead", func(t *testing.T) {
		u := newUser(t, s, nil)
		got, err := s.UserByID(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(u, got); diff != "" {
			t.Errorf("UserByID (-want +got):\n%s", diff)
		}
		byEmail, err := s.Credentials(ctx, u.Email)
		if err != nil || byEmail.User.ID != u.ID || byEmail.PasswordHash != "hash" {
			t.Fatalf("Credentials(email) = %+v, %v", byEmail, err)
		}
		byName, err := s.Credentials(ctx, "user_"+u.Username[5:])
		if err != nil || byName.User.ID != u.ID {
			t.Fatalf("Credentials(lowercased username) = %+v, %v", byName, err)
		}
		_, err = s.UserByID(ctx, 1<<40)
		wantCode(t, err, apperr.NotFound)
		_, err = s.Credentials(ctx, "nobody@example.com")
		wantCode(t, err, apperr.NotFound)
	})

	t.Run("Duplicates", func(t *testing.T) {
		u := newUser(t, s, nil)
		for _, tc := range []struct{ email, username, field string }{
			{u.Email, "fresh_name_x", "email"},
			{"fresh@example.com", u.Username, "username"},
			{"fresh2@example.com", "USER_" + u.Username[5:], "username"}, // case-insensitive
		} {
			_, err := s.CreateUser(ctx, account.NewUser{Email: tc.email, Username: tc.username, PasswordHash: "h", Role: account.RoleUser}, nil, now)
			e := apperr.From(err)
			if e.Code != apperr.Conflict || e.Fields[tc.field] == "" {
				t.Errorf("duplicate %s: got %v (fields %v), want conflict on %s", tc.field, err, e.Fields, tc.field)
			}
		}
	})

	t.Run("UsersByIDs", func(t *testing.T) {
		a, b := newUser(t, s, nil), newUser(t, s, nil)
		got, err := s.UsersByIDs(ctx, []int64{a.ID, b.ID, 1 << 40})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got[a.ID].Username != a.Username || got[b.ID].Username != b.Username {
			t.Fatalf("UsersByIDs = %v", got)
		}
		empty, err := s.UsersByIDs(ctx, nil)
		if err != nil || len(empty) != 0 {
			t.Fatalf("UsersByIDs(nil) = %v, %v", empty, err)
		}
	})

	t.Run("UpdateProfile", func(t *testing.T) {
		u := newUser(t, s, nil)
		name, bio := "Dee Jay", "plays records"
		later := now.Add(time.Minute)
		got, err := s.UpdateProfile(ctx, u.ID, account.ProfileUpdate{DisplayName: &name, Bio: &bio, Settings: json.RawMessage(`{"theme":"dark"}`)}, later)
		if err != nil {
			t.Fatal(err)
		}
		if got.DisplayName != name || got.Bio != bio || string(got.Settings) != `{"theme":"dark"}` || !got.UpdatedAt.Equal(later) || got.AvatarURL != "" {
			t.Fatalf("UpdateProfile = %+v", got)
		}
		_, err = s.UpdateProfile(ctx, 1<<40, account.ProfileUpdate{Bio: &bio}, later)
		wantCode(t, err, apperr.NotFound)
	})

	t.Run("VerifyEmail", func(t *testing.T) {
		v := &account.Verification{CodeHash: "code1", TokenHash: fmt.Sprintf("token-%d", seq.Add(1)), ExpiresAt: now.Add(time.Hour)}
		u := newUser(t, s, v)
		if u.EmailVerified {
			t.Fatal("new user is verified")
		}
		wantCode(t, s.VerifyEmail(ctx, u.ID, "wrong", false, 3, now), apperr.InvalidToken)
		if err := s.VerifyEmail(ctx, u.ID, "code1", false, 3, now); err != nil {
			t.Fatalf("right code after one wrong: %v", err)
		}
		got, _ := s.UserByID(ctx, u.ID)
		if !got.EmailVerified {
			t.Fatal("not verified after the right code")
		}
		wantCode(t, s.VerifyEmail(ctx, u.ID, "code1", false, 3, now), apperr.InvalidToken) // spent

		// A code still pending for an account verified meanwhile (the link
		// and the code used at once) is spent but changes nothing else.
		tok := fmt.Sprintf("token-%d", seq.Add(1))
		if err := s.AddVerification(ctx, u.ID, account.Verification{CodeHash: "code2", TokenHash: tok, ExpiresAt: now.Add(time.Hour)}, now); err != nil {
			t.Fatal(err)
		}
		if err := s.VerifyEmail(ctx, u.ID, "code2", false, 3, now.Add(time.Minute)); err != nil {
			t.Fatalf("second verification: %v", err)
		}
		again, _ := s.UserByID(ctx, u.ID)
		if diff := cmp.Diff(got, again); diff != "" {
			t.Errorf("verifying a verified account changed it (-before +after):\n%s", diff)
		}
	})

	t.Run("VerifyEmailAttemptsAndExpiry", func(t *testing.T) {
		tok := fmt.Sprintf("token-%d", seq.Add(1))
		u := newUser(t, s, &account.Verification{CodeHash: "c", TokenHash: tok, ExpiresAt: now.Add(time.Hour)})
		for range 3 {
			wantCode(t, s.VerifyEmail(ctx, u.ID, "bad", false, 3, now), apperr.InvalidToken)
		}
		wantCode(t, s.VerifyEmail(ctx, u.ID, "c", false, 3, now), apperr.InvalidToken) // locked after 3
		// The link token is 256 bits and not attempt-limited.
		if err := s.VerifyEmail(ctx, u.ID, tok, true, 3, now); err != nil {
			t.Fatalf("token: %v", err)
		}

		tok2 := fmt.Sprintf("token-%d", seq.Add(1))
		u2 := newUser(t, s, &account.Verification{CodeHash: "c", TokenHash: tok2, ExpiresAt: now.Add(time.Hour)})
		wantCode(t, s.VerifyEmail(ctx, u2.ID, "c", false, 3, now.Add(2*time.Hour)), apperr.InvalidToken)

		// A new verification replaces the old one.
		tok3 := fmt.Sprintf("token-%d", seq.Add(1))
		if err := s.AddVerification(ctx, u2.ID, account.Verification{CodeHash: "d", TokenHash: tok3, ExpiresAt: now.Add(3 * time.Hour)}, now); err != nil {
			t.Fatal(err)
		}
		wantCode(t, s.VerifyEmail(ctx, u2.ID, tok2, true, 3, now), apperr.InvalidToken)
		if err := s.VerifyEmail(ctx, u2.ID, "d", false, 3, now.Add(2*time.Hour)); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("Sessions", func(t *testing.T) {
		u := newUser(t, s, nil)
		other := newUser(t, s, nil)
		mk := func(hash string, expires time.Time) account.Session {
			sess, err := s.CreateSession(ctx, account.Session{UserID: u.ID, IP: "10.0.0.1", UserAgent: "test", CreatedAt: now, LastSeenAt: now, ExpiresAt: expires}, hash)
			if err != nil {
				t.Fatal(err)
			}
			return sess
		}
		base := fmt.Sprintf("sess-%d-", seq.Add(1))
		a := mk(base+"a", now.Add(time.Hour))
		b := mk(base+"b", now.Add(time.Hour))
		mk(base+"old", now.Add(-time.Second))

		got, gu, err := s.SessionByToken(ctx, base+"a", now)
		if err != nil || got.ID != a.ID || gu.ID != u.ID {
			t.Fatalf("SessionByToken = %+v %+v %v", got, gu, err)
		}
		if diff := cmp.Diff(a, got); diff != "" {
			t.Errorf("SessionByToken (-want +got):\n%s", diff)
		}
		_, _, err = s.SessionByToken(ctx, base+"old", now)
		wantCode(t, err, apperr.NotFound)

		list, err := s.ListSessions(ctx, u.ID, now)
		if err != nil || len(list) != 2 {
			t.Fatalf("ListSessions = %v, %v (want the 2 live ones)", list, err)
		}
		wantCode(t, s.RevokeSession(ctx, other.ID, a.ID, now), apperr.NotFound) // not theirs
		if err := s.RevokeSession(ctx, u.ID, a.ID, now); err != nil {
			t.Fatal(err)
		}
		wantCode(t, s.RevokeSession(ctx, u.ID, a.ID, now), apperr.NotFound) // already revoked
		_, _, err = s.SessionByToken(ctx, base+"a", now)
		wantCode(t, err, apperr.NotFound)
		if err := s.TouchSession(ctx, b.ID, now.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		got, _, _ = s.SessionByToken(ctx, base+"b", now)
		if !got.LastSeenAt.Equal(now.Add(time.Minute)) {
			t.Errorf("LastSeenAt = %v after touch", got.LastSeenAt)
		}
	})

	t.Run("PasswordReset", func(t *testing.T) {
		u := newUser(t, s, nil)
		tok := fmt.Sprintf("reset-%d", seq.Add(1))
		if err := s.AddPasswordReset(ctx, u.ID, tok, now.Add(time.Hour), now); err != nil {
			t.Fatal(err)
		}
		sessHash := fmt.Sprintf("rs-%d", seq.Add(1))
		if _, err := s.CreateSession(ctx, account.Session{UserID: u.ID, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour)}, sessHash); err != nil {
			t.Fatal(err)
		}
		_, err := s.ResetPassword(ctx, "no-such-token", "new", now)
		wantCode(t, err, apperr.InvalidToken)
		id, err := s.ResetPassword(ctx, tok, "newhash", now)
		if err != nil || id != u.ID {
			t.Fatalf("ResetPassword = %d, %v", id, err)
		}
		c, _ := s.CredentialsByID(ctx, u.ID)
		if c.PasswordHash != "newhash" {
			t.Errorf("password hash = %q", c.PasswordHash)
		}
		_, _, err = s.SessionByToken(ctx, sessHash, now)
		wantCode(t, err, apperr.NotFound) // revoked by the reset
		_, err = s.ResetPassword(ctx, tok, "again", now)
		wantCode(t, err, apperr.InvalidToken) // single use

		tok2 := fmt.Sprintf("reset-%d", seq.Add(1))
		s.AddPasswordReset(ctx, u.ID, tok2, now.Add(time.Hour), now)
		_, err = s.ResetPassword(ctx, tok2, "late", now.Add(2*time.Hour))
		wantCode(t, err, apperr.InvalidToken) // expired
	})

	t.Run("MFA", func(t *testing.T) {
		u := newUser(t, s, nil)
		wantCode(t, s.EnableMFA(ctx, u.ID, 10, nil, now), apperr.Conflict) // no secret yet
		if err := s.SetMFASecret(ctx, u.ID, "SECRET", now); err != nil {
			t.Fatal(err)
		}
		if err := s.EnableMFA(ctx, u.ID, 100, []string{"r1", "r2"}, now); err != nil {
			t.Fatal(err)
		}
		c, _ := s.CredentialsByID(ctx, u.ID)
		if !c.User.MFAEnabled || c.MFASecret != "SECRET" || c.MFALastStep != 100 {
			t.Fatalf("after enable: %+v", c)
		}
		wantCode(t, s.SetMFASecret(ctx, u.ID, "OTHER", now), apperr.Conflict)
		wantCode(t, s.SetMFASecret(ctx, 1<<40, "X", now), apperr.NotFound)

		for _, tc := range []struct {
			step int64
			want bool
		}{{100, false}, {99, false}, {101, true}, {101, false}} {
			if ok, err := s.UseTOTPStep(ctx, u.ID, tc.step); err != nil || ok != tc.want {
				t.Errorf("UseTOTPStep(%d) = %v, %v; want %v", tc.step, ok, err, tc.want)
			}
		}
		for _, tc := range []struct {
			code string
			want bool
		}{{"r1", true}, {"r1", false}, {"nope", false}, {"r2", true}} {
			if ok, err := s.UseRecoveryCode(ctx, u.ID, tc.code, now); err != nil || ok != tc.want {
				t.Errorf("UseRecoveryCode(%s) = %v, %v; want %v", tc.code, ok, err, tc.want)
			}
		}
		if err := s.DisableMFA(ctx, u.ID, now); err != nil {
			t.Fatal(err)
		}
		c, _ = s.CredentialsByID(ctx, u.ID)
		if c.User.MFAEnabled || c.MFASecret != "" || c.MFALastStep != 101 {
			t.Fatalf("after disable: %+v", c)
		}
	})

	t.Run("ConcurrentTOTPStepSpentOnce", func(t *testing.T) {
		u := newUser(t, s, nil)
		var wins atomic.Int64
		var wg sync.WaitGroup
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ok, err := s.UseTOTPStep(ctx, u.ID, 5000)
				if err != nil {
					t.Error(err)
				}
				if ok {
					wins.Add(1)
				}
			}()
		}
		wg.Wait()
		if wins.Load() != 1 {
			t.Fatalf("step spent %d times, want once", wins.Load())
		}
	})
	t.Run("SetRoleKeepsAnAdmin", func(t *testing.T) {
		a, b, c := newUser(t, s, nil), newUser(t, s, nil), newUser(t, s, nil)
		later := now.Add(time.Hour)
		got, err := s.SetRole(ctx, c.ID, account.RoleCreator, later)
		if err != nil || got.Role != account.RoleCreator || got.ID != c.ID || !got.UpdatedAt.Equal(later) {
			t.Fatalf("SetRole(creator) = %+v, %v", got, err)
		}
		for _, u := range []account.User{a, b} {
			if _, err := s.SetRole(ctx, u.ID, account.RoleAdmin, later); err != nil {
				t.Fatal(err)
			}
		}
		// Two admins demote each other at once: one wins, the other finds
		// itself the last admin.
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, u := range []account.User{a, b} {
			wg.Go(func() { _, errs[i] = s.SetRole(ctx, u.ID, account.RoleUser, later) })
		}
		wg.Wait()
		if (errs[0] == nil) == (errs[1] == nil) {
			t.Fatalf("concurrent demotions: %v / %v; want exactly one refused", errs[0], errs[1])
		}
		for _, err := range errs {
			if err != nil {
				wantCode(t, err, apperr.Conflict)
			}
		}
		last := a // the one whose demotion was refused
		if errs[0] == nil {
			last = b
		}
		_, err = s.SetRole(ctx, last.ID, account.RoleModerator, later)
		wantCode(t, err, apperr.Conflict)
		if got, _ := s.UserByID(ctx, last.ID); got.Role != account.RoleAdmin {
			t.Fatalf("refused demotion changed the role to %s", got.Role)
		}
		if _, err := s.SetRole(ctx, last.ID, account.RoleAdmin, later); err != nil {
			t.Fatalf("an admin staying admin: %v", err)
		}
		_, err = s.SetRole(ctx, 1<<40, account.RoleUser, later)
		wantCode(t, err, apperr.NotFound)
	})
}
