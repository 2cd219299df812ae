package account

import (
	"encoding/json"
	"net/mail"
	"net/url"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/plazahq/plaza/internal/apperr"
)

// Limits on what users may store.
const (
	MaxDisplayName = 64
	MaxBio         = 500
	MaxAvatarURL   = 512
	MaxSettings    = 8 << 10
	MinPassword    = 8
	MaxPassword    = 128
)

var usernameRE = regexp.MustCompile(`^[A-Za-z0-9_]{3,32}$`)

// normalizeEmail trims and lowercases: Plaza treats addresses as
// case-insensitive, as every mail provider users meet does.
func normalizeEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// loginKey is what Credentials looks up: an email or a username, lowercased.
func loginKey(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

func checkEmail(fe apperr.FieldErrors, email string) {
	switch {
	case email == "":
		fe.Add("email", "is required")
	case len(email) > 254:
		fe.Add("email", "must be at most 254 characters")
	default:
		a, err := mail.ParseAddress(email)
		if err != nil || a.Address != email || a.Name != "" || !strings.Contains(email[strings.LastIndexByte(email, '@'):], ".") {
			fe.Add("email", "is not a valid email address")
		}
	}
}

func checkUsername(fe apperr.FieldErrors, username string) {
	if !usernameRE.MatchString(username) {
		fe.Add("username", "must be 3 to 32 letters, digits or underscores")
	}
}

var commonPasswords = map[string]bool{
	"password": true, "password1": true, "password123": true, "12345678": true, "123456789": true,
	"1234567890": true, "qwertyui": true, "qwerty123": true, "iloveyou": true, "11111111": true,
	"abcdefgh": true, "abc12345": true, "letmein1": true, "welcome1": true, "sunshine": true,
	"football": true, "baseball": true, "superman": true, "trustno1": true, "passw0rd": true,
	"admin123": true, "changeme": true, "00000000": true, "87654321": true, "qwertyuiop": true,
}

// checkPassword rejects passwords that are short, very common, made of few
// distinct characters, or built from the user's own name or address.
func checkPassword(fe apperr.FieldErrors, field, password, username, email string) {
	n := utf8.RuneCountInString(password)
	lower := strings.ToLower(password)
	distinct := map[rune]bool{}
	for _, r := range password {
		distinct[r] = true
	}
	local, _, _ := strings.Cut(email, "@")
	switch {
	case password == "":
		fe.Add(field, "is required")
	case n < MinPassword:
		fe.Add(field, "must be at least 8 characters")
	case n > MaxPassword:
		fe.Add(field, "must be at most 128 characters")
	case commonPasswords[lower]:
		fe.Add(field, "is too common")
	case len(distinct) < 4:
		fe.Add(field, "must use at least 4 different characters")
	case len(username) >= 3 && strings.Contains(lower, strings.ToLower(username)),
		len(local) >= 4 && strings.Contains(lower, local):
		fe.Add(field, "must not contain your username or email")
	}
}

func checkText(fe apperr.FieldErrors, field, s string, max int) {
	if utf8.RuneCountInString(s) > max {
		fe.Add(field, "is too long")
		return
	}
	if !utf8.ValidString(s) {
		fe.Add(field, "is not valid UTF-8")
		return
	}
	for _, r := range s {
		if unicode.IsControl(r) && r != '\n' && r != '\t' {
			fe.Add(field, "must not contain control characters")
			return
		}
	}
}

func checkAvatarURL(fe apperr.FieldErrors, s string) {
	if s == "" {
		return
	}
	if len(s) > MaxAvatarURL {
		fe.Add("avatarUrl", "must be at most 512 characters")
		return
	}
	if strings.HasPrefix(s, "/uploads/") && !strings.Contains(s, "..") {
		return
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		fe.Add("avatarUrl", "must be an http(s) URL or an /uploads/ path")
	}
}

func checkSettings(fe apperr.FieldErrors, raw json.RawMessage) {
	if raw == nil {
		return
	}
	if len(raw) > MaxSettings {
		fe.Add("settings", "must be at most 8 KiB")
		return
	}
	var obj map[string]any
	if err := json.Unmarshal(raw, &obj); err != nil || obj == nil {
		fe.Add("settings", "must be a JSON object")
	}
}
