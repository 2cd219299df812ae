package account

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"math/big"
	"strconv"
	"strings"
)

// Tokens are random bytes shown once to the user and stored only as hashes,
// so a copy of the database signs nobody in.

const sessionTokenPrefix = "plz_"

func newToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// newSessionToken returns "plz_<user id base36>_<256 random bits>". The id
// is not secret: it lets a request find its cache entry, and invalidate it,
// by user before any lookup. The hash covers the whole token, so a token
// relabelled with another id matches no session.
func newSessionToken(userID int64) string {
	return sessionTokenPrefix + strconv.FormatInt(userID, 36) + "_" + newToken()
}

// tokenUserID reads the user id out of a session token; ok is false for
// anything that is not shaped like one (tokens are far under 100 bytes).
func tokenUserID(token string) (int64, bool) {
	if len(token) > 100 {
		return 0, false
	}
	rest, ok := strings.CutPrefix(token, sessionTokenPrefix)
	if !ok {
		return 0, false
	}
	id, _, ok := strings.Cut(rest, "_")
	if !ok || len(id) > 13 {
		return 0, false
	}
	n, err := strconv.ParseInt(id, 36, 64)
	return n, err == nil && n > 0
}

// hashSecret is sha256 hex: tokens have 256 bits of entropy, so a fast hash
// is enough and lets lookups use an index.
func hashSecret(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// newCode returns a numeric code of n digits.
func newCode(n int) string {
	var sb strings.Builder
	for range n {
		d, _ := rand.Int(rand.Reader, big.NewInt(10))
		sb.WriteByte(byte('0' + d.Int64()))
	}
	return sb.String()
}

// newRecoveryCode returns a code like "k3v9q-7xw2m" (50 bits).
func newRecoveryCode() string {
	b := make([]byte, 7)
	rand.Read(b)
	s := strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))[:10]
	return s[:5] + "-" + s[5:]
}

// normalizeRecoveryCode accepts the code with or without dash, any case.
func normalizeRecoveryCode(s string) string {
	return strings.ToLower(strings.NewReplacer("-", "", " ", "").Replace(s))
}
