package account

import (
	"encoding/json"
	"net/mail"
	"net/url"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/mtibben/confusables"
	"github.com/plazahq/plaza/internal/apperr"
	"github.com/plazahq/plaza/internal/textcheck"
	"golang.org/x/text/unicode/norm"
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

// normalizeEmail trims, applies NFKC and lowercases: Plaza treats
// addresses as case-insensitive, as every mail provider users meet does,
// and a full-width "＠" or letter is the same address as the plain one.
func normalizeEmail(s string) string { return strings.ToLower(norm.NFKC.String(strings.TrimSpace(s))) }

// normalizeUsername trims and applies NFKC, so full-width and other
// compatibility forms become the plain letters the username rules allow.
func normalizeUsername(s string) string { return norm.NFKC.String(strings.TrimSpace(s)) }

// loginKey is what Credentials looks up: an email or a username, normalized
// as they were stored and lowercased. Failed attempts on a login that names
// no account are counted under it, so probing for names is limited too.
func loginKey(s string) string { return strings.ToLower(norm.NFKC.String(strings.TrimSpace(s))) }

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

func checkUsername(fe apperr.FieldErrors, username string, staff bool) {
	switch {
	case !usernameRE.MatchString(username):
		fe.Add("username", "must be 3 to 32 letters, digits or underscores")
	case !staff && reserved(username):
		fe.Add("username", "is reserved for the site's staff")
	}
}

// reservedNames are names only staff may carry, as usernames or display
// names, so nobody can pose as the site's team.
var reservedNames = []string{
	"admin", "admins", "administrator", "administrators", "moderator", "moderators", "mod", "mods",
	"plaza", "support", "staff", "system", "root", "sysadmin", "superuser", "official", "owner",
	"security", "webmaster", "postmaster", "hostmaster", "abuse", "noreply", "helpdesk",
}

var reservedSkeletons = func() map[string]bool {
	m := make(map[string]bool, len(reservedNames))
	for _, n := range reservedNames {
		m[nameSkeleton(n)] = true
	}
	return m
}()

// reserved reports whether name reads as one of reservedNames: compared
// by skeleton, and ignoring digits and separators around it ("Admin_1",
// "_root_", "mod42").
func reserved(name string) bool {
	name = norm.NFKC.String(name)
	trimmed := strings.TrimFunc(name, func(r rune) bool {
		return unicode.IsDigit(r) || unicode.IsSpace(r) || unicode.IsPunct(r) || unicode.IsSymbol(r)
	})
	// Both: digits at the edges may be decoration ("admin1") or letters
	// in disguise ("5ystem").
	return reservedSkeletons[nameSkeleton(name)] || reservedSkeletons[nameSkeleton(trimmed)]
}

// lookalikes folds what the Unicode confusables table leaves apart but
// readers take for the same letter in a name.
var lookalikes = strings.NewReplacer("0", "o", "1", "l", "i", "l", "|", "l", "!", "l", "3", "e", "4", "a", "@", "a",
	"5", "s", "$", "s", "7", "t", "8", "b", "vv", "w")

// nameSkeleton is what a name looks like, for comparing names by
// appearance: NFKC, the Unicode confusable skeleton (UTS #39: Cyrillic "а"
// becomes "a", "m" becomes "rn") before and after lowercasing (a letter's
// lowercase may look like nothing its capital looks like), the lookalikes
// above, and only letters kept (accents, spaces, underscores and invisible
// characters go).
func nameSkeleton(s string) string {
	s = confusables.Skeleton(norm.NFKC.String(s))
	s = strings.ToLower(confusables.Skeleton(strings.ToLower(s)))
	s = lookalikes.Replace(s)
	var b strings.Builder
	for _, r := range norm.NFD.String(s) {
		if unicode.IsLetter(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
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
	if textcheck.HasControl(s, textcheck.Lines) {
		fe.Add(field, textcheck.Problem)
	}
}

// checkDisplayName checks a display name already NFKC-normalized: text
// without direction overrides, and not a staff name unless staff sets it.
func checkDisplayName(fe apperr.FieldErrors, name string, staff bool) {
	checkText(fe, "displayName", name, MaxDisplayName)
	switch {
	case strings.ContainsFunc(name, isBidiControl):
		fe.Add("displayName", "must not contain text direction controls")
	case !staff && reserved(name):
		fe.Add("displayName", "is reserved for the site's staff")
	}
}

// isBidiControl reports the embedding, override and isolate controls,
// which can make a name display as something else.
func isBidiControl(r rune) bool {
	return (r >= '\u202A' && r <= '\u202E') || (r >= '\u2066' && r <= '\u2069')
}

// uploadImagePath is what media.Store.Save returns for an image.
var uploadImagePath = regexp.MustCompile(`^/uploads/image/([0-9a-f]{2})/([0-9a-f]{64})\.(?:png|jpg|gif|webp)$`)

// avatarValue checks an avatarUrl and returns what to store: one of this
// server's image uploads as its /uploads/ path (sent as the path or as the
// URL assetURL gives for it, e.g. on the CDN), or any other https URL as
// sent. Anything else (http, javascript:, data:, credentials in the URL,
// audio uploads) is refused.
func avatarValue(fe apperr.FieldErrors, s string, assetURL func(string) string) string {
	const problem = "must be an image uploaded here (POST /api/uploads) or an https URL"
	switch {
	case s == "":
		return ""
	case len(s) > MaxAvatarURL:
		fe.Add("avatarUrl", "must be at most 512 characters")
		return s
	case strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r == 0x7f }):
		fe.Add("avatarUrl", problem)
		return s
	}
	if i := strings.Index(s, "/uploads/"); i >= 0 {
		p := s[i:]
		if m := uploadImagePath.FindStringSubmatch(p); m != nil && m[1] == m[2][:2] && (p == s || assetURL(p) == s) {
			return p
		}
		if p == s {
			fe.Add("avatarUrl", problem)
			return s
		}
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || u.Opaque != "" {
		fe.Add("avatarUrl", problem)
	}
	return s
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
