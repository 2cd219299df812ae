// Package gamification owns XP and what it buys: the append-only ledger of
// awards (one row per user, reason and cause, so a cause never awards
// twice and totals can be rebuilt), levels from XP thresholds, and the
// rules and daily caps that say how much each action is worth.
//
// Awards are made inside the transaction of the write that earned them
// (sqlstore.AwardXPTx), like outbox jobs, so a lesson completed, a message
// posted or an event attended and its XP commit or fail together.
package gamification

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Reason names why XP was awarded; with Ref it makes an award unique.
type Reason string

// The reasons Plaza awards XP for.
const (
	ReasonMessage     Reason = "message"
	ReasonReaction    Reason = "reaction"
	ReasonLesson      Reason = "lesson"
	ReasonCourse      Reason = "course"
	ReasonAttendance  Reason = "attendance"
	ReasonPlay        Reason = "play"
	ReasonAchievement Reason = "achievement"
	ReasonAdjustment  Reason = "adjustment"
)

// MaxRef bounds Award.Ref (the column is VARCHAR(64)).
const MaxRef = 64

// Award asks for XP for one cause.
type Award struct {
	UserID int64
	Amount int64 // may be negative for a compensating row
	Reason Reason
	Ref    string // what earned it: "lesson:12", "message:981"...
	// DailyCap, when positive, bounds what this reason may award the user
	// in one UTC day; an award past it is cut to what is left (maybe 0).
	DailyCap int64
}

// Validate reports an award that cannot be stored.
func (a Award) Validate() error {
	switch {
	case a.UserID <= 0:
		return errors.New("gamification: award without a user")
	case a.Reason == "":
		return errors.New("gamification: award without a reason")
	case a.Ref == "" || len(a.Ref) > MaxRef:
		return fmt.Errorf("gamification: award ref %q must be 1-%d bytes", a.Ref, MaxRef)
	}
	return nil
}

// Result is what an award did.
type Result struct {
	Awarded   int64 // XP actually added (0 when the cause was already awarded or capped)
	XP        int64 // the user's total after it
	Level     int   // the user's level after it
	PrevLevel int
}

// Posted is one ledger row as committed, what indexes of the ledger (the
// leaderboard) apply. A user's rows are written in id order under the
// lock AwardTx takes on the user, so for one user a larger ID committed
// later.
type Posted struct {
	ID     int64 // the row's id in xp_events
	UserID int64
	Amount int64 // may be negative (a compensating row)
	At     time.Time
}

// LeveledUp reports whether the award moved the user up a level.
func (r Result) LeveledUp() bool { return r.Level > r.PrevLevel }

// Levels are XP thresholds: level i+1 starts at Levels[i]. Levels[0] is 0.
type Levels []int64

// DefaultLevels is the Skool-like default, levels 1-9.
var DefaultLevels = Levels{0, 5, 20, 65, 155, 515, 2015, 8015, 33015}

// ParseLevels reads a comma-separated list of thresholds (PLAZA_LEVELS):
// starting at 0 and strictly increasing.
func ParseLevels(s string) (Levels, error) {
	var ls Levels
	for _, f := range strings.Split(s, ",") {
		v, err := strconv.ParseInt(strings.TrimSpace(f), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%q is not a whole number", strings.TrimSpace(f))
		}
		ls = append(ls, v)
	}
	if err := ls.validate(); err != nil {
		return nil, err
	}
	return ls, nil
}

func (ls Levels) validate() error {
	switch {
	case len(ls) == 0 || ls[0] != 0:
		return errors.New("the first threshold must be 0 (level 1)")
	case len(ls) > 100:
		return errors.New("at most 100 levels")
	}
	for i := 1; i < len(ls); i++ {
		if ls[i] <= ls[i-1] {
			return fmt.Errorf("thresholds must increase (%d after %d)", ls[i], ls[i-1])
		}
	}
	return nil
}

// For returns the level that xp reaches (1-based; never below 1).
func (ls Levels) For(xp int64) int {
	level := 1
	for i, t := range ls {
		if xp >= t {
			level = i + 1
		}
	}
	return level
}

// Next returns the XP at which the level after level starts, and false at
// the top level.
func (ls Levels) Next(level int) (int64, bool) {
	if level < 1 || level >= len(ls) {
		return 0, false
	}
	return ls[level], true
}

// Entry is one row of a user's ledger, as they see it.
type Entry struct {
	ID        int64     `json:"-"`
	Amount    int64     `json:"amount"`
	Reason    Reason    `json:"reason"`
	Ref       string    `json:"ref"`
	CreatedAt time.Time `json:"createdAt"`
}

// Ledger is a page of a user's ledger with their standing.
// NextLevelAt is null at the top level; NextCursor, when set, is the
// before of the next page.
type Ledger struct {
	XP          int64   `json:"xp"`
	Level       int     `json:"level"`
	NextLevelAt *int64  `json:"nextLevelAt"`
	Items       []Entry `json:"items"`
	NextCursor  string  `json:"nextCursor,omitempty"`
}

// Drift is a user whose stored total or level disagreed with the ledger.
type Drift struct {
	UserID      int64 `json:"userId"`
	StoredXP    int64 `json:"storedXp"`
	LedgerXP    int64 `json:"ledgerXp"`
	StoredLevel int   `json:"storedLevel"`
	Level       int   `json:"level"`
}

// TotalsReport is what a rebuild of the users' totals from the ledger
// found (Drifted) and whether it stored the ledger's figures (Fixed).
type TotalsReport struct {
	Checked int     `json:"checked"`
	Drifted []Drift `json:"drifted"`
	Fixed   bool    `json:"fixed"`
}
