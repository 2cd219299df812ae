// Package achievements owns achievements and collectibles: the catalog of
// achievements with the rules that earn them (first message, 100 messages,
// a 7-day streak, levels reached...), the record of who earned which (at
// most once per user), and collectibles with a rarity and an optional
// limited supply whose serial numbers are never oversold.
//
// Rules are evaluated by a job (CheckKind) that the write that may meet
// them enqueues in its own transaction (CheckJob), so a crash between the
// write and the evaluation loses nothing. An award, its XP (through the XP
// ledger, reason "achievement") and the collectibles it grants commit in
// one transaction; achievement.awarded is published after it.
package achievements

import (
	"context"
	"strconv"
	"time"

	"github.com/plazahq/plaza/internal/audit"
	"github.com/plazahq/plaza/internal/gamification"
)

// Rarity grades achievements and collectibles.
type Rarity string

// The rarities, commonest first.
const (
	Common    Rarity = "common"
	Uncommon  Rarity = "uncommon"
	Rare      Rarity = "rare"
	Epic      Rarity = "epic"
	Legendary Rarity = "legendary"
)

// Rarities lists every rarity.
var Rarities = []Rarity{Common, Uncommon, Rare, Epic, Legendary}

// Valid reports whether r is a known rarity.
func (r Rarity) Valid() bool {
	for _, k := range Rarities {
		if r == k {
			return true
		}
	}
	return false
}

// RuleKind names what a rule counts.
type RuleKind string

// What rules can count. Each is a number per user that only grows (a
// deleted message no longer counts, but an achievement once awarded stays).
const (
	RuleMessages RuleKind = "messages" // channel messages posted (not deleted)
	RuleShouts   RuleKind = "shouts"   // shouts posted
	RuleStreak   RuleKind = "streak"   // longest run of consecutive UTC days with a message or a shout
	RuleCourses  RuleKind = "courses"  // courses completed (every lesson)
	RuleLevel    RuleKind = "level"    // level reached
	RuleMixes    RuleKind = "mixes"    // mixes published
	RuleEvents   RuleKind = "events"   // events attended
)

// RuleKinds lists every kind of rule.
var RuleKinds = []RuleKind{RuleMessages, RuleShouts, RuleStreak, RuleCourses, RuleLevel, RuleMixes, RuleEvents}

// Valid reports whether k is a known kind.
func (k RuleKind) Valid() bool {
	for _, v := range RuleKinds {
		if k == v {
			return true
		}
	}
	return false
}

// Rule earns an achievement when the user's count of Kind reaches Count.
type Rule struct {
	Kind  RuleKind `json:"kind"`
	Count int64    `json:"count"`
}

// Achievement is one entry of the catalog. Rule is nil for achievements
// granted by hand only.
type Achievement struct {
	ID           int64  `json:"id"`
	Slug         string `json:"slug"`
	Name         string `json:"name"`
	Description  string `json:"description"`
	IconURL      string `json:"iconUrl"`
	XP           int64  `json:"xp"`
	Rarity       Rarity `json:"rarity"`
	AwardedCount int64  `json:"awardedCount"`
	Rule         *Rule  `json:"rule"`
}

// Awarded is an achievement a user earned.
type Awarded struct {
	Achievement Achievement `json:"achievement"`
	AwardedAt   time.Time   `json:"awardedAt"`
}

// Collectible is one entry of the collectibles catalog. Supply nil means
// unlimited (and Remaining is nil too); PriceCredits nil means not for
// sale; AchievementID, when set, is the achievement whose award grants it.
type Collectible struct {
	ID            int64     `json:"id"`
	Slug          string    `json:"slug"`
	Name          string    `json:"name"`
	ImageURL      string    `json:"imageUrl"`
	Rarity        Rarity    `json:"rarity"`
	Supply        *int64    `json:"supply"`
	Remaining     *int64    `json:"remaining"`
	PriceCredits  *int64    `json:"priceCredits"`
	AchievementID *int64    `json:"achievementId"`
	Minted        int64     `json:"-"`
	CreatedAt     time.Time `json:"-"`
	UpdatedAt     time.Time `json:"-"`
}

// Owned is a collectible a user holds: serial n of its supply (of those
// minted so far when the supply is unlimited).
type Owned struct {
	Collectible Collectible `json:"collectible"`
	Serial      int64       `json:"serial"`
	AcquiredAt  time.Time   `json:"acquiredAt"`
}

// How an award or a collectible came to a user.
const (
	SourceRule        = "rule"
	SourceAdmin       = "admin"
	SourceAchievement = "achievement"
	SourcePurchase    = "purchase"
)

// Grant asks for one award. Audit, when set, is recorded in the award's
// transaction (its After is filled in by the store).
type Grant struct {
	AchievementID int64
	UserID        int64
	Source        string
	At            time.Time
	Audit         *audit.Entry
}

// Granted is what an award did: the achievement, the XP it added and the
// collectibles it brought (those sold out are left out).
type Granted struct {
	UserID       int64
	Achievement  Achievement
	AwardedAt    time.Time
	XP           gamification.Result
	Collectibles []Owned
}

// Metrics are a user's counts, per rule kind.
type Metrics map[RuleKind]int64

// Met returns the achievements among pending whose rule m reaches.
func Met(pending []Achievement, m Metrics) []Achievement {
	var out []Achievement
	for _, a := range pending {
		if a.Rule != nil && m[a.Rule.Kind] >= a.Rule.Count {
			out = append(out, a)
		}
	}
	return out
}

// Needs returns, per kind, the largest count pending asks for: the store
// may stop counting there.
func Needs(pending []Achievement) map[RuleKind]int64 {
	n := map[RuleKind]int64{}
	for _, a := range pending {
		if a.Rule != nil && a.Rule.Count > n[a.Rule.Kind] {
			n[a.Rule.Kind] = a.Rule.Count
		}
	}
	return n
}

// LongestRun returns the longest run of consecutive days in days (day
// numbers, sorted ascending, without duplicates).
func LongestRun(days []int64) int64 {
	var best, run int64
	for i, d := range days {
		if i > 0 && d == days[i-1]+1 {
			run++
		} else {
			run = 1
		}
		best = max(best, run)
	}
	return best
}

// Store keeps achievements and collectibles.
type Store interface {
	// Achievements returns the catalog in id order, AwardedCount unset.
	Achievements(ctx context.Context) ([]Achievement, error)
	// AwardedCounts returns how many users hold each achievement.
	AwardedCounts(ctx context.Context) (map[int64]int64, error)
	Achievement(ctx context.Context, id int64) (Achievement, error)
	// CreateAchievement stores a new achievement (409 conflict on a slug
	// taken) and records e, with the result as its After, in the same
	// transaction.
	CreateAchievement(ctx context.Context, a Achievement, now time.Time, e audit.Entry) (Achievement, error)
	// UserAchievements returns what userID earned, newest first.
	UserAchievements(ctx context.Context, userID int64) ([]Awarded, error)
	// Pending returns the achievements with a rule that userID has not
	// earned, in id order: their ID and Rule (what a check needs; the
	// other fields may be left empty).
	Pending(ctx context.Context, userID int64) ([]Achievement, error)
	// Metrics counts what the kinds in need measure for userID, each at
	// least up to its need (a store may stop there). The streak is the
	// longest run over all of the user's history.
	Metrics(ctx context.Context, userID int64, need map[RuleKind]int64) (Metrics, error)
	// Evaluate is what a check reads: Pending, and Metrics for
	// Needs(pending) (a store may count further), usually in one read.
	// A rule defined by another instance may be missing from pending
	// for a few seconds (the store's memo of the rules).
	Evaluate(ctx context.Context, userID int64) ([]Achievement, Metrics, error)
	// Award makes g in one transaction: the award, its XP and the
	// collectibles its achievement grants. created is false, and nothing
	// changes, when the user holds it already.
	Award(ctx context.Context, g Grant) (Granted, bool, error)
	// UserIDs pages every user's id in ascending order, after after.
	UserIDs(ctx context.Context, after int64, limit int) ([]int64, error)

	Collectibles(ctx context.Context) ([]Collectible, error)
	Collectible(ctx context.Context, id int64) (Collectible, error)
	CreateCollectible(ctx context.Context, c Collectible, now time.Time, e audit.Entry) (Collectible, error)
	// UpdateCollectible applies p (409 conflict when the supply would fall
	// below what was minted) and records e with before and after.
	UpdateCollectible(ctx context.Context, id int64, p CollectiblePatch, now time.Time, e audit.Entry) (Collectible, error)
	UserCollectibles(ctx context.Context, userID int64) ([]Owned, error)
	// Claim hands userID the next serial of a collectible in a
	// transaction of its own: 409 sold_out when none is left, 409
	// already_owned when they hold one.
	Claim(ctx context.Context, collectibleID, userID int64, source string, now time.Time) (Owned, error)
}

// CheckKind is the job that evaluates a user's achievement rules.
const CheckKind = "achievements.check"

// CheckKey is the unique key of userID's pending check: writes that land
// while one waits join it.
func CheckKey(userID int64) string { return CheckKind + ":" + strconv.FormatInt(userID, 10) }
