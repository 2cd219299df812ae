// Package cache owns Plaza's response and lookup cache: the four TTL tiers
// of PRODUCT.md, an in-process backend (W-TinyLFU, bounded by bytes) and a
// Redis backend with a small in-process tier in front, invalidation by key
// and by tag, one load per key however many callers miss at once, hit and
// miss counts per tier, and graceful fallback when Redis stops answering.
package cache

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"time"
)

// Tier is a class of data with its time to live.
type Tier struct {
	Name string
	TTL  time.Duration
	// Revocable entries grant access (a session and its user's role and
	// ban): serving one stale lets a revoked session in. While other
	// instances' invalidations cannot reach this one (Redis lost), the
	// local tier keeps them at most Config.IsolatedTTL.
	Revocable bool
}

// The seed's tiers.
var (
	Short    = Tier{Name: "short", TTL: time.Minute}        // shouts, now playing
	Medium   = Tier{Name: "medium", TTL: 5 * time.Minute}   // mixes, events, leaderboard
	Long     = Tier{Name: "long", TTL: time.Hour}           // profiles, settings, course list
	VeryLong = Tier{Name: "very_long", TTL: 24 * time.Hour} // achievements, collectibles catalogs
	Tiers    = []Tier{Short, Medium, Long, VeryLong}

	// Sessions is the long tier for session lookups; its figures count as
	// the long tier's.
	Sessions = Tier{Name: "long", TTL: time.Hour, Revocable: true}
)

// tagTTL outlives every tier, so a tag's version is never forgotten while
// an entry stamped with an older one could still be served.
const tagTTL = 25 * time.Hour

// Backend stores cached bytes. Each entry is stamped with the version its
// tag had when the value was loaded; invalidating the tag gives it a new
// version, which makes every entry stamped with an older one stale at once.
// An empty tag means the entry is only invalidated by key.
type Backend interface {
	Name() string
	// Get returns the value under key if it is present and still current
	// for tag.
	Get(ctx context.Context, key, tag string) ([]byte, bool, error)
	// TagVersion returns tag's current version (0 if never invalidated).
	TagVersion(ctx context.Context, tag string) (int64, error)
	// Set stores val under key for ttl, stamped with tag version ver.
	Set(ctx context.Context, key, tag string, ver int64, val []byte, ttl time.Duration) error
	// Delete removes keys.
	Delete(ctx context.Context, keys ...string) error
	// InvalidateTag makes every entry of tag stale.
	InvalidateTag(ctx context.Context, tag string) error
}

// newVersion returns a random non-zero version. Randomness rather than a
// counter means a forgotten tag can never come back at an old version.
func newVersion() int64 {
	var b [8]byte
	for {
		rand.Read(b[:])
		if v := int64(binary.LittleEndian.Uint64(b[:]) >> 1); v != 0 {
			return v
		}
	}
}
