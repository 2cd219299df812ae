package account

import (
	"strings"
	"testing"

	"github.com/plazahq/plaza/internal/apperr"
)

func TestReservedNames(t *testing.T) {
	for _, name := range []string{
		"admin", "ADMIN", "Admin", "аdmin" /* Cyrillic а */, "ａｄｍｉｎ" /* full width */, "𝐚𝐝𝐦𝐢𝐧", "Ⓐⓓⓜⓘⓝ",
		"Ꭺdmin" /* Cherokee */, "ádmin", "adm1n", "admln", "Admin_1", "_admin_", "A d m i n", "admin\u200b",
		"Administrator", "moderator", "mod", "m0d", "rnod", "Mod42", "plaza", "PIaza", "support", "supp0rt",
		"staff", "system", "5ystem", "root", "r00t", "Root ", "sysadmin",
	} {
		if !reserved(name) {
			t.Errorf("%q is not reserved", name)
		}
	}
	for _, name := range []string{"ann", "Jay Z", "modern", "mo_1", "bo_b", "rooted", "administrate", "desk_0", "plazas", "Ada Min", "staffel"} {
		if reserved(name) {
			t.Errorf("%q is reserved", name)
		}
	}
}

func TestCheckUsernameAndDisplayName(t *testing.T) {
	for _, tc := range []struct {
		username string
		staff    bool
		problem  string
	}{
		{"ann_1", false, ""},
		{"admin", false, "is reserved for the site's staff"},
		{"Admin_2", false, "is reserved for the site's staff"},
		{"admin", true, ""}, // plaza admin create may take it
		{"no spaces", false, "must be 3 to 32 letters, digits or underscores"},
	} {
		fe := apperr.FieldErrors{}
		checkUsername(fe, normalizeUsername(tc.username), tc.staff)
		if fe["username"] != tc.problem {
			t.Errorf("username %q (staff %v): %q, want %q", tc.username, tc.staff, fe["username"], tc.problem)
		}
	}
	if got := normalizeUsername(" ｂｏｂ＿１ "); got != "bob_1" {
		t.Errorf("normalizeUsername = %q", got)
	}
	for _, tc := range []struct {
		name    string
		staff   bool
		problem string
	}{
		{"Jay Z", false, ""},
		{"Moderator", false, "is reserved for the site's staff"},
		{"Ｓｕｐｐｏｒｔ", false, "is reserved for the site's staff"},
		{"Moderator", true, ""},
		{"evil\u202Egnp.exe", false, "must not contain text direction controls"},
		{strings.Repeat("n", MaxDisplayName+1), false, "is too long"},
	} {
		fe := apperr.FieldErrors{}
		checkDisplayName(fe, tc.name, tc.staff)
		if fe["displayName"] != tc.problem {
			t.Errorf("display name %q (staff %v): %q, want %q", tc.name, tc.staff, fe["displayName"], tc.problem)
		}
	}
}

func TestAvatarValue(t *testing.T) {
	img := "/uploads/image/ab/ab" + strings.Repeat("0", 62) + ".png"
	cdn := func(p string) string { return "http://cdn.example.com" + p }
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"", "", true},
		{img, img, true},
		{"http://cdn.example.com" + img, img, true}, // this server's URL of it (on the CDN) is stored as the path
		{"https://images.example.org/me.png", "https://images.example.org/me.png", true},
		{"https://elsewhere.example" + img, "https://elsewhere.example" + img, true}, // someone else's https URL, kept as is
		{"http://elsewhere.example" + img, "", false},                                // plain http elsewhere
		{"http://images.example.org/me.png", "", false},
		{"javascript:alert(1)", "", false},
		{"data:image/png;base64,AAAA", "", false},
		{"https://user:pw@images.example.org/me.png", "", false},
		{"https:///me.png", "", false},
		{"//images.example.org/me.png", "", false},
		{"/uploads/audio/ab/ab" + strings.Repeat("0", 62) + ".mp3", "", false},
		{"/uploads/image/cd/ab" + strings.Repeat("0", 62) + ".png", "", false}, // wrong shard
		{"/uploads/image/../../plaza.db", "", false},
		{"/uploads/image/ab/ab" + strings.Repeat("0", 62) + ".svg", "", false},
		{"https://images.example.org/a b.png", "", false},
		{"https://images.example.org/" + strings.Repeat("a", MaxAvatarURL), "", false},
	} {
		fe := apperr.FieldErrors{}
		got := avatarValue(fe, tc.in, cdn)
		if ok := fe["avatarUrl"] == ""; ok != tc.ok || (ok && got != tc.want) {
			t.Errorf("avatarValue(%q) = %q, problem %q; want %q, ok %v", tc.in, got, fe["avatarUrl"], tc.want, tc.ok)
		}
	}
}
