package account

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/plazahq/plaza/internal/apperr"
	"github.com/pquerna/otp/totp"
)

var testParams = HashParams{Memory: 64, Time: 1, Threads: 1}

func TestHashVerify(t *testing.T) {
	h := NewHasher(testParams, 2)
	ctx := context.Background()
	enc, err := h.Hash(ctx, "s3cret pass")
	if err != nil || !strings.HasPrefix(enc, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Fatalf("Hash = %q, %v", enc, err)
	}
	enc2, _ := h.Hash(ctx, "s3cret pass")
	if enc == enc2 {
		t.Fatal("same salt twice")
	}
	for pw, want := range map[string]bool{"s3cret pass": true, "s3cret pas": false, "": false} {
		if ok, err := h.Verify(ctx, enc, pw); err != nil || ok != want {
			t.Errorf("Verify(%q) = %v, %v", pw, ok, err)
		}
	}
	// Hashes made with other parameters still verify.
	old := NewHasher(HashParams{Memory: 128, Time: 2, Threads: 1}, 1)
	enc3, _ := old.Hash(ctx, "older")
	if ok, _ := h.Verify(ctx, enc3, "older"); !ok {
		t.Fatal("hash with other parameters does not verify")
	}
}

func TestHasherRefusesFloods(t *testing.T) {
	h := NewHasher(testParams, 1)
	h.sem <- struct{}{} // the one slot is busy
	h.waiting.Store(h.maxWaiting)
	_, err := h.Hash(context.Background(), "x")
	if !apperr.Is(err, apperr.Overloaded) {
		t.Fatalf("got %v, want overloaded", err)
	}
	h.waiting.Store(0)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if _, err := h.Hash(ctx, "x"); err != context.DeadlineExceeded {
		t.Fatalf("got %v, want deadline", err)
	}
}

func TestDecodeHashRejectsGarbage(t *testing.T) {
	for _, s := range []string{"", "$argon2id$", "$argon2i$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=99999999,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", "$argon2id$v=19$m=64,t=1,p=1$!!$aGFzaA"} {
		if _, _, _, err := decodeHash(s); err == nil {
			t.Errorf("decodeHash(%q) accepted", s)
		}
	}
}

func FuzzDecodeHash(f *testing.F) {
	f.Add("$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA")
	f.Add("$argon2id$v=19$m=0,t=0,p=0$$")
	f.Fuzz(func(t *testing.T, s string) {
		p, salt, key, err := decodeHash(s)
		if err == nil && (p.Memory == 0 || p.Memory > 1<<21 || p.Time == 0 || p.Threads == 0 || len(salt) < 8 || len(key) < 16) {
			t.Fatalf("accepted unsafe parameters %+v", p)
		}
	})
}

func TestMatchTOTP(t *testing.T) {
	secret := "JBSWY3DPEHPK3PXP"
	now := time.Unix(1_700_000_000, 0)
	step := now.Unix() / 30
	for _, tc := range []struct {
		at   time.Time
		want int64
	}{
		{now, step}, {now.Add(-30 * time.Second), step - 1}, {now.Add(30 * time.Second), step + 1}, {now.Add(-90 * time.Second), 0},
	} {
		code, _ := totp.GenerateCode(secret, tc.at)
		if got := matchTOTP(secret, code, now); got != tc.want {
			t.Errorf("code from %v: step %d, want %d", tc.at.Sub(now), got, tc.want)
		}
	}
	if matchTOTP(secret, "12345", now) != 0 || matchTOTP(secret, "abcdef", now) != 0 {
		t.Error("accepted malformed code")
	}
}

func TestPasswordRules(t *testing.T) {
	for pw, ok := range map[string]bool{
		"correct horse battery": true, "Tr0ub4dor&3": true, "short": false, "password1": false,
		"aaaaaaaaaaaa": false, "abababababab": false, "xx-alice-xx-1": false, "mail-bob@x": true,
		strings.Repeat("ab1!", 33): false,
	} {
		fe := apperr.FieldErrors{}
		checkPassword(fe, "password", pw, "alice", "alice@example.com")
		if (fe.Err() == nil) != ok {
			t.Errorf("password %q: accepted=%v, want %v (%v)", pw, fe.Err() == nil, ok, fe)
		}
	}
}

func TestRoles(t *testing.T) {
	if !RoleAdmin.AtLeast(RoleModerator) || RoleUser.AtLeast(RoleModerator) || !RoleModerator.AtLeast(RoleUser) || Role("root").Valid() {
		t.Fatal("role order wrong")
	}
}

func TestRecoveryCodeShape(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		c := newRecoveryCode()
		if len(c) != 11 || c[5] != '-' || seen[c] {
			t.Fatalf("code %q", c)
		}
		seen[c] = true
		if normalizeRecoveryCode(strings.ToUpper(c)) != strings.ReplaceAll(c, "-", "") {
			t.Fatal("normalize")
		}
	}
}

func TestHumanDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{time.Hour: "1 hour", 24 * time.Hour: "24 hours", 30 * time.Minute: "30 minutes", 90 * time.Minute: "90 minutes"} {
		if got := humanDuration(d); got != want {
			t.Errorf("%v -> %q", d, got)
		}
	}
}
