// Package music owns the DJ side of Plaza: mixes published by creators,
// their genres and likes, the play counter (once per listener per mix per
// 30 minutes, aggregated in memory and flushed in batches, so a play costs
// no database write), and the live "now playing" state with its history.
// Storage is behind Store; sqlstore implements it on both engines and
// musictest checks it.
package music

import (
	"context"
	"time"

	"github.com/plazahq/plaza/internal/gamification"
)

// Mix is a published mix. Paths are stored upload paths (/uploads/...);
// responses turn them into URLs.
type Mix struct {
	ID          int64
	CreatorID   int64
	Title       string
	Genres      []string
	DurationSec int
	AudioPath   string
	CoverPath   string
	Plays       int64
	Likes       int64
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Sort orders a mix list.
type Sort string

// The orders a list may take.
const (
	SortRecent  Sort = "recent"  // newest first
	SortPopular Sort = "popular" // most played first, then newest
)

// Query selects a page of mixes. After is the cursor: the position of the
// last mix of the previous page (zero: from the start).
type Query struct {
	Genre   string // "" any
	Creator int64  // 0 any
	Sort    Sort
	After   Cursor
	Limit   int
}

// Cursor is a position in a list: the id of a mix and, in popular order,
// its play count when the page was read.
type Cursor struct {
	Plays int64
	ID    int64
}

// MixPatch is a change to a mix; nil fields stay as they are.
type MixPatch struct {
	Title       *string
	Genres      []string // nil: unchanged
	DurationSec *int
	AudioPath   *string
	CoverPath   *string
}

// Track is what is on air.
type Track struct {
	Title       string
	Artist      string
	ArtworkPath string
}

// NowPlaying is the live state: whether a DJ is on air, who, and which
// track since when. Track is nil while live with no track announced, and
// when not live.
type NowPlaying struct {
	Live      bool
	DJID      int64 // 0 when not live
	Track     *Track
	StartedAt *time.Time
	UpdatedAt time.Time
}

// PlayedTrack is one entry of the on-air history.
type PlayedTrack struct {
	ID        int64
	DJID      int64 // 0 if the DJ's account is gone
	Track     Track
	StartedAt time.Time
}

// Store is the storage music needs. Missing rows are apperr NotFound errors.
type Store interface {
	CreateMix(ctx context.Context, m Mix) (Mix, error)
	Mix(ctx context.Context, id int64) (Mix, error)
	// MixCreator returns the creator of mix id, and false when there is no
	// such mix (the play counter's check).
	MixCreator(ctx context.Context, id int64) (creator int64, ok bool, err error)
	// Mixes pages mixes in q's order.
	Mixes(ctx context.Context, q Query) ([]Mix, error)
	UpdateMix(ctx context.Context, id int64, p MixPatch, now time.Time) (Mix, error)
	DeleteMix(ctx context.Context, id int64) error

	// Like records that user likes mix and returns its like count; liking
	// twice changes nothing.
	Like(ctx context.Context, mixID, userID int64, now time.Time) (int64, error)
	// Unlike removes the like, if any, and returns the like count.
	Unlike(ctx context.Context, mixID, userID int64) (int64, error)
	// LikedAmong returns which of mixIDs user likes, in one query.
	LikedAmong(ctx context.Context, userID int64, mixIDs []int64) (map[int64]bool, error)

	// AddPlays adds each delta of f to its mix's play count (mixes that no
	// longer exist are skipped) and makes f's XP awards, in one
	// transaction. An award whose ref is already in the ledger is skipped,
	// so a flush that is tried again awards nothing twice.
	AddPlays(ctx context.Context, f PlayFlush) (PlayFlushResult, error)

	// NowPlaying returns the live state (not live when never set).
	NowPlaying(ctx context.Context) (NowPlaying, error)
	// SetNowPlaying stores np and, when it carries a track that is new
	// (another title, artist or DJ than the one on air), appends it to the
	// history, in one transaction. It returns what is stored.
	SetNowPlaying(ctx context.Context, np NowPlaying) (NowPlaying, error)
	// History pages the on-air history, newest first: entries with an id
	// below before (0: from the newest), at most limit.
	History(ctx context.Context, before int64, limit int) ([]PlayedTrack, error)
}

// PlayFlush is one flush of the play counter: the plays counted per mix
// since the last one, and the XP they earned their creators.
type PlayFlush struct {
	Deltas map[int64]int64 // mix id -> plays to add
	XP     []PlayXP        // in creator id order
	// Amount is the XP of one counted play, DailyCap the most a creator
	// may earn from plays in one UTC day (0: no cap).
	Amount, DailyCap int64
	At               time.Time // the awards' time (the cap's day)
}

// PlayXP asks for XP for a creator: one award of PlayFlush.Amount per ref,
// each ref naming one counted play ("play:{mixId}:{counter}.{seq}").
type PlayXP struct {
	Creator int64
	Refs    []string
}

// PlayFlushResult is what a flush wrote.
type PlayFlushResult struct {
	Rows int                    // mix rows updated
	XP   map[int64]PlayXPResult // per creator who was asked for
}

// PlayXPResult is what a flush awarded one creator. Capped says the daily
// cap is reached: the counter stops collecting their plays' XP until the
// next UTC day.
type PlayXPResult struct {
	gamification.Result
	Capped bool
}
