package music

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/plazahq/plaza/internal/account"
	"github.com/plazahq/plaza/internal/apperr"
	"github.com/plazahq/plaza/internal/batch"
	"github.com/plazahq/plaza/internal/cache"
	"github.com/plazahq/plaza/internal/media"
	"github.com/plazahq/plaza/internal/textcheck"
)

// Limits on what creators send.
const (
	MaxTitle       = 200
	MaxDurationSec = 24 * 60 * 60
	DefaultLimit   = 50
	MaxLimit       = 100
)

// Publisher sends a real-time event to a room (realtime.Hub).
type Publisher interface {
	Publish(ctx context.Context, room, typ string, data any) error
}

// Cache is the response cache (cache.Cache).
type Cache interface {
	Get(ctx context.Context, tier cache.Tier, key, tag string, load func(context.Context) ([]byte, error)) ([]byte, error)
	InvalidateTag(ctx context.Context, tags ...string)
}

// Presence counts the users subscribed to a room on every instance
// (realtime.Hub).
type Presence interface {
	Online(ctx context.Context, room string) int
}

// Deps are the service's collaborators.
type Deps struct {
	Store     Store
	Users     func() *batch.Loader[int64, account.User] // account.Service.UserLoader
	Cache     Cache
	Publisher Publisher
	Presence  Presence
	Plays     *Counter
	Uploads   Uploads
	AssetURL  func(path string) string // media.URLs.URL
	Now       func() time.Time
	Log       *slog.Logger
}

// Service is the music business logic.
type Service struct {
	Deps
	listeners listenerCount
}

// NewService checks deps and returns the service.
func NewService(d Deps) (*Service, error) {
	if d.Store == nil || d.Users == nil || d.Cache == nil || d.Publisher == nil || d.Presence == nil || d.Plays == nil || d.Log == nil {
		return nil, errors.New("music: store, users, cache, publisher, presence, plays and log are required")
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.AssetURL == nil {
		d.AssetURL = func(p string) string { return p }
	}
	s := &Service{Deps: d}
	s.listeners.presence, s.listeners.now = d.Presence, d.Now
	// Plays show in lists once flushed: every flush makes them stale. The
	// XP it awarded is followed like any award: the creator's cached
	// profile dropped, level.up published when they reached a level.
	d.Plays.flushed = func(ctx context.Context, awards map[int64]PlayXPResult) {
		d.Cache.InvalidateTag(ctx, tagMixes)
		for creator, r := range awards {
			if r.Awarded != 0 {
				d.Cache.InvalidateTag(ctx, account.XPTags(creator, r.LeveledUp())...)
			}
			if r.LeveledUp() {
				if err := d.Publisher.Publish(ctx, account.UserRoom(creator), "level.up", map[string]any{"level": r.Level, "xp": r.XP}); err != nil {
					d.Log.Warn("level.up not published", "user", creator, "err", err)
				}
			}
		}
	}
	return s, nil
}

// Creator is the public face of a mix's creator or a DJ.
type Creator struct {
	ID          int64  `json:"id"`
	Username    string `json:"username"`
	DisplayName string `json:"displayName"`
	AvatarURL   string `json:"avatarUrl"`
}

// MixView is a mix as clients see it. Liked describes the caller.
type MixView struct {
	ID          int64     `json:"id"`
	Title       string    `json:"title"`
	Creator     Creator   `json:"creator"`
	Genres      []string  `json:"genres"`
	DurationSec int       `json:"durationSec"`
	CoverURL    string    `json:"coverUrl"`
	AudioURL    string    `json:"audioUrl"`
	Plays       int64     `json:"plays"`
	Likes       int64     `json:"likes"`
	Liked       bool      `json:"liked"`
	CreatedAt   time.Time `json:"createdAt"`
}

// List is a page of items; NextCursor, when set, is the before= of the next.
type List[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"nextCursor,omitempty"`
}

// tagMixes is the cache tag of every mix list and mix: any write to a mix,
// and every flush of plays, makes them stale.
const tagMixes = "mixes"

// creators loads the users behind ids in one query.
func (s *Service) creators(ctx context.Context, ids []int64) (map[int64]Creator, error) {
	users, err := s.Users().LoadMany(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make(map[int64]Creator, len(users))
	for id, u := range users {
		out[id] = Creator{ID: u.ID, Username: u.Username, DisplayName: u.DisplayName, AvatarURL: s.AssetURL(u.AvatarURL)}
	}
	return out, nil
}

// views renders mixes with their creators, loaded in one query; Liked is
// left false (the caller's part is laid over later).
func (s *Service) views(ctx context.Context, ms []Mix) ([]MixView, error) {
	ids := make([]int64, len(ms))
	for i, m := range ms {
		ids[i] = m.CreatorID
	}
	cs, err := s.creators(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make([]MixView, len(ms))
	for i, m := range ms {
		c, ok := cs[m.CreatorID]
		if !ok {
			c = Creator{ID: m.CreatorID}
		}
		cover := ""
		if m.CoverPath != "" {
			cover = s.AssetURL(m.CoverPath)
		}
		out[i] = MixView{ID: m.ID, Title: m.Title, Creator: c, Genres: m.Genres, DurationSec: m.DurationSec,
			CoverURL: cover, AudioURL: s.AssetURL(m.AudioPath), Plays: m.Plays, Likes: m.Likes, CreatedAt: m.CreatedAt}
		if out[i].Genres == nil {
			out[i].Genres = []string{}
		}
	}
	return out, nil
}

// ---- queries ----

// ParseQuery reads GET /api/mixes's parameters.
func ParseQuery(genre, creator, sort, before, limit string) (Query, error) {
	q := Query{Sort: SortRecent, Limit: DefaultLimit}
	fe := apperr.FieldErrors{}
	if genre != "" {
		g, ok := NormalizeGenre(genre)
		if !ok {
			fe.Add("genre", "is not a known genre; use one of "+strings.Join(Genres, ", "))
		}
		q.Genre = g
	}
	if creator != "" {
		n, err := strconv.ParseInt(creator, 10, 64)
		if err != nil || n <= 0 {
			fe.Add("creator", "must be a user id")
		}
		q.Creator = n
	}
	switch Sort(sort) {
	case "", SortRecent:
	case SortPopular:
		q.Sort = SortPopular
	default:
		fe.Add("sort", "must be recent or popular")
	}
	if before != "" {
		c, ok := parseCursor(before, q.Sort)
		if !ok {
			fe.Add("before", "must be a cursor from nextCursor of the same sort")
		}
		q.After = c
	}
	if limit != "" {
		n, err := strconv.Atoi(limit)
		if err != nil || n < 1 {
			fe.Add("limit", "must be a whole number from 1 to 100")
		}
		q.Limit = min(n, MaxLimit)
	}
	return q, fe.Err()
}

// A recent cursor is the last id ("42"); a popular one is plays and id
// ("1500-42"), since several mixes may share a play count.
func (c Cursor) encode(sort Sort) string {
	if sort == SortPopular {
		return strconv.FormatInt(c.Plays, 10) + "-" + strconv.FormatInt(c.ID, 10)
	}
	return strconv.FormatInt(c.ID, 10)
}

func parseCursor(s string, sort Sort) (Cursor, bool) {
	var c Cursor
	var err error
	if sort == SortPopular {
		plays, id, ok := strings.Cut(s, "-")
		if !ok {
			return c, false
		}
		if c.Plays, err = strconv.ParseInt(plays, 10, 64); err != nil || c.Plays < 0 {
			return c, false
		}
		s = id
	}
	c.ID, err = strconv.ParseInt(s, 10, 64)
	return c, err == nil && c.ID > 0
}

// List returns a page of mixes as JSON. The page is cached (medium tier)
// for everyone until a mix changes or plays are flushed; a signed-in
// caller's likes are laid over the cached page with one query.
func (s *Service) List(ctx context.Context, viewer *account.User, q Query) ([]byte, error) {
	key := "mixes:" + string(q.Sort) + ":" + q.Genre + ":" + strconv.FormatInt(q.Creator, 10) + ":" + q.After.encode(SortPopular) + ":" + strconv.Itoa(q.Limit)
	var over func(context.Context, *List[MixView]) error
	if viewer != nil {
		over = func(ctx context.Context, l *List[MixView]) error { return s.overlayLikes(ctx, viewer.ID, l.Items) }
	}
	return cache.GetOverlaidJSON(ctx, s.Cache, cache.Medium, key, tagMixes, func(ctx context.Context) (List[MixView], error) {
		ms, err := s.Store.Mixes(ctx, q)
		if err != nil {
			return List[MixView]{}, err
		}
		views, err := s.views(ctx, ms)
		if err != nil {
			return List[MixView]{}, err
		}
		l := List[MixView]{Items: views}
		if len(ms) == q.Limit {
			last := ms[len(ms)-1]
			l.NextCursor = Cursor{Plays: last.Plays, ID: last.ID}.encode(q.Sort)
		}
		return l, nil
	}, over)
}

func (s *Service) overlayLikes(ctx context.Context, userID int64, items []MixView) error {
	if len(items) == 0 {
		return nil
	}
	ids := make([]int64, len(items))
	for i, v := range items {
		ids[i] = v.ID
	}
	liked, err := s.Store.LikedAmong(ctx, userID, ids)
	if err != nil {
		return err
	}
	for i := range items {
		items[i].Liked = liked[items[i].ID]
	}
	return nil
}

var errNoMix = apperr.New(apperr.NotFound, "mix not found")

// Get returns one mix (cached like the lists) with the caller's like.
func (s *Service) Get(ctx context.Context, viewer *account.User, id int64) (MixView, error) {
	var over func(context.Context, *MixView) error
	if viewer != nil {
		over = func(ctx context.Context, v *MixView) error {
			items := []MixView{*v}
			err := s.overlayLikes(ctx, viewer.ID, items)
			*v = items[0]
			return err
		}
	}
	v, err := cache.GetOverlaid(ctx, s.Cache, cache.Medium, "mix:"+strconv.FormatInt(id, 10), tagMixes, func(ctx context.Context) (MixView, error) {
		m, err := s.Store.Mix(ctx, id)
		if err != nil {
			return MixView{}, err
		}
		v, err := s.views(ctx, []Mix{m})
		if err != nil {
			return MixView{}, err
		}
		return v[0], nil
	}, over)
	if apperr.Is(err, apperr.NotFound) {
		return MixView{}, errNoMix
	}
	if err != nil {
		return MixView{}, err
	}
	return v, nil
}

// ---- writes ----

// MixInput is POST /api/mixes's body.
type MixInput struct {
	Title       string   `json:"title"`
	Genres      []string `json:"genres"`
	DurationSec int      `json:"durationSec"`
	AudioURL    string   `json:"audioUrl"`
	CoverURL    string   `json:"coverUrl"`
}

// MixUpdate is PATCH /api/mixes/{id}'s body; absent fields stay.
type MixUpdate struct {
	Title       *string   `json:"title"`
	Genres      *[]string `json:"genres"`
	DurationSec *int      `json:"durationSec"`
	AudioURL    *string   `json:"audioUrl"`
	CoverURL    *string   `json:"coverUrl"`
}

// checkText trims and validates a one-line text of 1 to max characters
// (0 to max when optional).
func checkText(fe apperr.FieldErrors, field, s string, max int, optional bool) string {
	s = strings.TrimSpace(s)
	switch {
	case s == "" && !optional:
		fe.Add(field, "is required")
	case !utf8.ValidString(s):
		fe.Add(field, "is not valid UTF-8")
	case utf8.RuneCountInString(s) > max:
		fe.Add(field, "must be at most "+strconv.Itoa(max)+" characters")
	case textcheck.HasControl(s, ""):
		fe.Add(field, textcheck.Problem)
	}
	return s
}

func checkDuration(fe apperr.FieldErrors, d int) {
	if d < 1 || d > MaxDurationSec {
		fe.Add("durationSec", "must be from 1 to "+strconv.Itoa(MaxDurationSec)+" seconds")
	}
}

func (s *Service) uploadPath(fe apperr.FieldErrors, field, raw string, kind media.Kind, optional bool) string {
	if optional && strings.TrimSpace(raw) == "" {
		return ""
	}
	p, err := s.Uploads.Path(raw, kind)
	if err != nil {
		fe.Add(field, err.Error())
	}
	return p
}

func canPublish(u account.User) bool { return u.Role.AtLeast(account.RoleCreator) }

func isModerator(u account.User) bool { return u.Role.AtLeast(account.RoleModerator) }

// Create publishes a mix (creators and above).
func (s *Service) Create(ctx context.Context, by account.User, in MixInput) (MixView, error) {
	if !canPublish(by) {
		return MixView{}, apperr.New(apperr.Forbidden, "only creators publish mixes")
	}
	fe := apperr.FieldErrors{}
	m := Mix{CreatorID: by.ID, DurationSec: in.DurationSec}
	m.Title = checkText(fe, "title", in.Title, MaxTitle, false)
	genres, problem := normalizeGenres(in.Genres)
	if problem != "" {
		fe.Add("genres", problem)
	}
	m.Genres = genres
	checkDuration(fe, in.DurationSec)
	m.AudioPath = s.uploadPath(fe, "audioUrl", in.AudioURL, media.Audio, false)
	m.CoverPath = s.uploadPath(fe, "coverUrl", in.CoverURL, media.Image, true)
	if err := fe.Err(); err != nil {
		return MixView{}, err
	}
	m.CreatedAt = s.Now()
	m.UpdatedAt = m.CreatedAt
	m, err := s.Store.CreateMix(ctx, m)
	if err != nil {
		return MixView{}, err
	}
	s.Cache.InvalidateTag(ctx, tagMixes)
	s.Plays.known(m.ID, m.CreatorID)
	v, err := s.views(ctx, []Mix{m})
	if err != nil {
		return MixView{}, err
	}
	return v[0], nil
}

// editable returns the mix if by may change it: its creator or a moderator.
func (s *Service) editable(ctx context.Context, by account.User, id int64) (Mix, error) {
	m, err := s.Store.Mix(ctx, id)
	if apperr.Is(err, apperr.NotFound) {
		return Mix{}, errNoMix
	}
	if err != nil {
		return Mix{}, err
	}
	if m.CreatorID != by.ID && !isModerator(by) {
		return Mix{}, apperr.New(apperr.Forbidden, "only the mix's creator or a moderator may change it")
	}
	return m, nil
}

// Update changes a mix (its creator or a moderator).
func (s *Service) Update(ctx context.Context, by account.User, id int64, in MixUpdate) (MixView, error) {
	fe := apperr.FieldErrors{}
	var p MixPatch
	if in.Title != nil {
		t := checkText(fe, "title", *in.Title, MaxTitle, false)
		p.Title = &t
	}
	if in.Genres != nil {
		genres, problem := normalizeGenres(*in.Genres)
		if problem != "" {
			fe.Add("genres", problem)
		}
		p.Genres = genres
	}
	if in.DurationSec != nil {
		checkDuration(fe, *in.DurationSec)
		p.DurationSec = in.DurationSec
	}
	if in.AudioURL != nil {
		a := s.uploadPath(fe, "audioUrl", *in.AudioURL, media.Audio, false)
		p.AudioPath = &a
	}
	if in.CoverURL != nil {
		c := s.uploadPath(fe, "coverUrl", *in.CoverURL, media.Image, true)
		p.CoverPath = &c
	}
	if err := fe.Err(); err != nil {
		return MixView{}, err
	}
	if _, err := s.editable(ctx, by, id); err != nil {
		return MixView{}, err
	}
	m, err := s.Store.UpdateMix(ctx, id, p, s.Now())
	if apperr.Is(err, apperr.NotFound) {
		return MixView{}, errNoMix
	}
	if err != nil {
		return MixView{}, err
	}
	s.Cache.InvalidateTag(ctx, tagMixes)
	v, err := s.views(ctx, []Mix{m})
	if err != nil {
		return MixView{}, err
	}
	items := v[:1]
	if err := s.overlayLikes(ctx, by.ID, items); err != nil {
		return MixView{}, err
	}
	return items[0], nil
}

// Delete removes a mix with its likes (its creator or a moderator).
func (s *Service) Delete(ctx context.Context, by account.User, id int64) error {
	if _, err := s.editable(ctx, by, id); err != nil {
		return err
	}
	if err := s.Store.DeleteMix(ctx, id); err != nil {
		if apperr.Is(err, apperr.NotFound) {
			return errNoMix
		}
		return err
	}
	s.Plays.forget(id)
	s.Cache.InvalidateTag(ctx, tagMixes)
	return nil
}

// LikeState is what PUT and DELETE /api/mixes/{id}/like answer.
type LikeState struct {
	Liked bool  `json:"liked"`
	Likes int64 `json:"likes"`
}

// SetLike likes or unlikes a mix; doing either twice changes nothing.
func (s *Service) SetLike(ctx context.Context, by account.User, id int64, like bool) (LikeState, error) {
	var n int64
	var err error
	if like {
		n, err = s.Store.Like(ctx, id, by.ID, s.Now())
	} else {
		n, err = s.Store.Unlike(ctx, id, by.ID)
	}
	if apperr.Is(err, apperr.NotFound) {
		return LikeState{}, errNoMix
	}
	if err != nil {
		return LikeState{}, err
	}
	s.Cache.InvalidateTag(ctx, tagMixes)
	return LikeState{Liked: like, Likes: n}, nil
}

// Play counts a play of mix id by listener (see Counter.Play).
func (s *Service) Play(ctx context.Context, id int64, listener string) error {
	err := s.Plays.Play(ctx, id, listener)
	if apperr.Is(err, apperr.NotFound) {
		return errNoMix
	}
	return err
}
