package music

import (
	"context"
	"encoding/json"
	"strconv"
	"sync"
	"time"

	"github.com/plazahq/plaza/internal/account"
	"github.com/plazahq/plaza/internal/apperr"
	"github.com/plazahq/plaza/internal/cache"
	"github.com/plazahq/plaza/internal/media"
)

// LiveRoom is the real-time room of the live stream: now-playing.updated
// is published there, and its subscribers are the listeners.
const LiveRoom = "live-stream"

// tagLive is the cache tag of the now-playing state.
const tagLive = "live"

// TrackView is a track as clients see it.
type TrackView struct {
	Title      string `json:"title"`
	Artist     string `json:"artist"`
	ArtworkURL string `json:"artworkUrl"`
}

// NowPlayingView is GET /api/live/now-playing's answer.
type NowPlayingView struct {
	Live      bool       `json:"live"`
	DJ        *Creator   `json:"dj"`
	Track     *TrackView `json:"track"`
	StartedAt *time.Time `json:"startedAt"`
	Listeners int        `json:"listeners"`
}

// PlayedTrackView is an entry of GET /api/live/history.
type PlayedTrackView struct {
	ID         int64     `json:"id"`
	Title      string    `json:"title"`
	Artist     string    `json:"artist"`
	ArtworkURL string    `json:"artworkUrl"`
	DJ         *Creator  `json:"dj"`
	StartedAt  time.Time `json:"startedAt"`
}

// listenerCount remembers the live room's listener count for a second:
// counting it reads the room's presence from Redis, which every
// now-playing read would otherwise repeat.
type listenerCount struct {
	presence Presence
	now      func() time.Time
	mu       sync.Mutex
	n        int
	at       time.Time
}

const listenerCountTTL = time.Second

func (l *listenerCount) get(ctx context.Context) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now := l.now(); l.at.IsZero() || now.Sub(l.at) >= listenerCountTTL || now.Before(l.at) {
		l.n, l.at = l.presence.Online(ctx, LiveRoom), now
	}
	return l.n
}

func (s *Service) trackView(t *Track) *TrackView {
	if t == nil {
		return nil
	}
	art := ""
	if t.ArtworkPath != "" {
		art = s.AssetURL(t.ArtworkPath)
	}
	return &TrackView{Title: t.Title, Artist: t.Artist, ArtworkURL: art}
}

func (s *Service) nowPlayingView(ctx context.Context, np NowPlaying) (NowPlayingView, error) {
	v := NowPlayingView{Live: np.Live, Track: s.trackView(np.Track), StartedAt: np.StartedAt}
	if np.DJID != 0 {
		cs, err := s.creators(ctx, []int64{np.DJID})
		if err != nil {
			return v, err
		}
		if c, ok := cs[np.DJID]; ok {
			v.DJ = &c
		}
	}
	return v, nil
}

// NowPlaying returns the live state: the stored part cached (short tier,
// dropped on every change), the listener count laid over it.
func (s *Service) NowPlaying(ctx context.Context) (NowPlayingView, error) {
	b, err := s.Cache.Get(ctx, cache.Short, "live:now-playing", tagLive, func(ctx context.Context) ([]byte, error) {
		np, err := s.Store.NowPlaying(ctx)
		if err != nil {
			return nil, err
		}
		v, err := s.nowPlayingView(ctx, np)
		if err != nil {
			return nil, err
		}
		return json.Marshal(v)
	})
	if err != nil {
		return NowPlayingView{}, err
	}
	var v NowPlayingView
	if err := json.Unmarshal(b, &v); err != nil {
		return NowPlayingView{}, err
	}
	v.Listeners = s.listeners.get(ctx)
	return v, nil
}

// TrackInput is a track in PUT /api/live/now-playing.
type TrackInput struct {
	Title      string `json:"title"`
	Artist     string `json:"artist"`
	ArtworkURL string `json:"artworkUrl"`
}

// NowPlayingInput is PUT /api/live/now-playing's body.
type NowPlayingInput struct {
	Live  *bool       `json:"live"`
	Track *TrackInput `json:"track"`
}

// SetNowPlaying puts by on air (or off) with a track, appends a new track
// to the history, and publishes now-playing.updated to the live room
// after the write commits.
func (s *Service) SetNowPlaying(ctx context.Context, by account.User, in NowPlayingInput) (NowPlayingView, error) {
	if !canPublish(by) {
		return NowPlayingView{}, apperr.New(apperr.Forbidden, "only creators set now playing")
	}
	fe := apperr.FieldErrors{}
	if in.Live == nil {
		fe.Add("live", "is required")
	}
	now := s.Now()
	np := NowPlaying{UpdatedAt: now}
	if in.Live != nil && *in.Live {
		np.Live, np.DJID, np.StartedAt = true, by.ID, &now
	}
	if in.Track != nil {
		if in.Live != nil && !*in.Live {
			fe.Add("track", "must be null when live is false")
		}
		t := Track{}
		t.Title = checkText(fe, "track.title", in.Track.Title, MaxTitle, false)
		t.Artist = checkText(fe, "track.artist", in.Track.Artist, MaxTitle, true)
		t.ArtworkPath = s.uploadPath(fe, "track.artworkUrl", in.Track.ArtworkURL, media.Image, true)
		np.Track = &t
	}
	if err := fe.Err(); err != nil {
		return NowPlayingView{}, err
	}
	if !np.Live {
		np.StartedAt = nil
	}
	stored, err := s.Store.SetNowPlaying(ctx, np)
	if err != nil {
		return NowPlayingView{}, err
	}
	s.Cache.InvalidateTag(ctx, tagLive)
	v, err := s.nowPlayingView(ctx, stored)
	if err != nil {
		return NowPlayingView{}, err
	}
	v.Listeners = s.listeners.get(ctx)
	if err := s.Publisher.Publish(ctx, LiveRoom, "now-playing.updated", v); err != nil {
		s.Log.Warn("event not published", "room", LiveRoom, "type", "now-playing.updated", "err", err)
	}
	return v, nil
}

// History pages the tracks put on air, newest first.
func (s *Service) History(ctx context.Context, before int64, limit int) (List[PlayedTrackView], error) {
	ts, err := s.Store.History(ctx, before, limit)
	if err != nil {
		return List[PlayedTrackView]{}, err
	}
	ids := make([]int64, 0, len(ts))
	for _, t := range ts {
		if t.DJID != 0 {
			ids = append(ids, t.DJID)
		}
	}
	cs, err := s.creators(ctx, ids)
	if err != nil {
		return List[PlayedTrackView]{}, err
	}
	l := List[PlayedTrackView]{Items: make([]PlayedTrackView, len(ts))}
	for i, t := range ts {
		tv := s.trackView(&t.Track)
		l.Items[i] = PlayedTrackView{ID: t.ID, Title: tv.Title, Artist: tv.Artist, ArtworkURL: tv.ArtworkURL, StartedAt: t.StartedAt}
		if c, ok := cs[t.DJID]; ok {
			l.Items[i].DJ = &c
		}
	}
	if len(ts) == limit && limit > 0 {
		l.NextCursor = strconv.FormatInt(ts[len(ts)-1].ID, 10)
	}
	return l, nil
}

// ParsePage reads ?before= and ?limit= of the history (limit default 50,
// at most 100).
func ParsePage(before, limit string) (int64, int, error) {
	fe := apperr.FieldErrors{}
	var b int64
	n := DefaultLimit
	if before != "" {
		v, err := strconv.ParseInt(before, 10, 64)
		if err != nil || v <= 0 {
			fe.Add("before", "must be a cursor from nextCursor")
		}
		b = v
	}
	if limit != "" {
		v, err := strconv.Atoi(limit)
		if err != nil || v < 1 {
			fe.Add("limit", "must be a whole number from 1 to 100")
		}
		n = min(v, MaxLimit)
	}
	return b, n, fe.Err()
}
