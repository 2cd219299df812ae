package achievements

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/plazahq/plaza/internal/account"
	"github.com/plazahq/plaza/internal/apperr"
	"github.com/plazahq/plaza/internal/audit"
	"github.com/plazahq/plaza/internal/cache"
	"github.com/plazahq/plaza/internal/jobs"
	"github.com/plazahq/plaza/internal/textcheck"
)

// Cache is the response cache (cache.Cache).
type Cache interface {
	Get(ctx context.Context, tier cache.Tier, key, tag string, load func(context.Context) ([]byte, error)) ([]byte, error)
	InvalidateTag(ctx context.Context, tags ...string)
}

// Publisher sends a real-time event to a room (realtime.Hub).
type Publisher interface {
	Publish(ctx context.Context, room, typ string, data any) error
}

// Deps are the service's collaborators. Publisher is optional.
type Deps struct {
	Store     Store
	Cache     Cache
	Publisher Publisher
	AssetURL  func(path string) string // media.URLs.URL
	Now       func() time.Time
	Log       *slog.Logger
	// RulesOff leaves queued checks undone (tests of other features whose
	// XP figures a first-message award would change); grants by hand and
	// the backfill still work.
	RulesOff bool
}

// Service is the achievements and collectibles business logic.
type Service struct{ Deps }

// NewService checks deps and returns the service.
func NewService(d Deps) (*Service, error) {
	if d.Store == nil || d.Cache == nil || d.Log == nil {
		return nil, errors.New("achievements: store, cache and log are required")
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.AssetURL == nil {
		d.AssetURL = func(p string) string { return p }
	}
	return &Service{Deps: d}, nil
}

// Cache keys and tags. The definitions sit in the very long tier and are
// dropped by admin edits; the awarded counts in the medium tier (5
// minutes), so they lag awards by at most that.
const (
	tagAchievements = "achievements"
	tagCollectibles = "collectibles"
	keyDefinitions  = "achievements:catalog"
	keyCounts       = "achievements:counts"
	keyCollectibles = "collectibles:catalog"
)

func userTag(userID int64) string { return "achievements:user:" + strconv.FormatInt(userID, 10) }

// CheckJob is the job that evaluates userID's rules; a write that may meet
// one inserts it in its own transaction (jobs.InsertTx). Checks of one
// user coalesce while they wait.
func CheckJob(userID int64) jobs.Job {
	// The payload is written out: every post may make one.
	return jobs.Job{Kind: CheckKind, Payload: []byte(`{"userId":` + strconv.FormatInt(userID, 10) + `}`),
		UniqueKey: CheckKey(userID), MaxAttempts: 10}
}

// CheckJobKind runs CheckJob.
func (s *Service) CheckJobKind() jobs.Kind {
	return jobs.Kind{Name: CheckKind, MaxAttempts: 10, Timeout: time.Minute, Coalesce: true, Handle: func(ctx context.Context, j jobs.Job) error {
		var p struct {
			UserID int64 `json:"userId"`
		}
		if err := json.Unmarshal(j.Payload, &p); err != nil || p.UserID <= 0 {
			return fmt.Errorf("%s payload %s: %w", CheckKind, j.Payload, jobs.ErrPermanent)
		}
		if s.RulesOff {
			return nil
		}
		_, err := s.Check(ctx, p.UserID)
		if apperr.Is(err, apperr.NotFound) {
			return nil // the account is gone
		}
		return err
	}}
}

// Check evaluates every rule userID has not met yet and awards those met.
func (s *Service) Check(ctx context.Context, userID int64) ([]Granted, error) {
	pending, m, err := s.Store.Evaluate(ctx, userID)
	if err != nil || len(pending) == 0 {
		return nil, err
	}
	var out []Granted
	for _, a := range Met(pending, m) {
		g, created, err := s.Store.Award(ctx, Grant{AchievementID: a.ID, UserID: userID, Source: SourceRule, At: s.Now()})
		if err != nil {
			return out, err
		}
		if created {
			s.Announce(ctx, g)
			out = append(out, g)
		}
	}
	return out, nil
}

// Announce tells the user of an award and drops what is cached about
// them; call it after the award's commit (Check and Grant do; so does a
// store that awards in another write's transaction, such as a post's:
// sqlstore.Community.CheckInline).
func (s *Service) Announce(ctx context.Context, g Granted) {
	// What shows their xp; their sessions too when the award moved their
	// level (account.XPTags), as every other award does.
	tags := append(account.XPTags(g.UserID, g.XP.LeveledUp()), userTag(g.UserID))
	if len(g.Collectibles) > 0 {
		tags = append(tags, tagCollectibles)
	}
	s.Cache.InvalidateTag(ctx, tags...)
	if s.Publisher == nil {
		return
	}
	owned := make([]Owned, len(g.Collectibles))
	for i, o := range g.Collectibles {
		owned[i] = s.ownedView(o)
	}
	a := s.achievementView(g.Achievement)
	if counts, err := s.awardedCounts(ctx); err == nil { // as GET /api/achievements lists it
		a.AwardedCount = max(counts[a.ID], 1) // this award, should the counts predate it
	}
	room := account.UserRoom(g.UserID)
	if err := s.Publisher.Publish(ctx, room, "achievement.awarded", map[string]any{
		"achievement": a, "awardedAt": g.AwardedAt, "xpAwarded": g.XP.Awarded, "collectibles": owned,
	}); err != nil {
		s.Log.Warn("achievement.awarded not published", "user", g.UserID, "err", err)
	}
	if g.XP.LeveledUp() {
		if err := s.Publisher.Publish(ctx, room, "level.up", map[string]any{"level": g.XP.Level, "xp": g.XP.XP}); err != nil {
			s.Log.Warn("level.up not published", "user", g.UserID, "err", err)
		}
	}
}

func (s *Service) achievementView(a Achievement) Achievement {
	if a.IconURL != "" {
		a.IconURL = s.AssetURL(a.IconURL)
	}
	return a
}

func (s *Service) collectibleView(c Collectible) Collectible {
	if c.ImageURL != "" {
		c.ImageURL = s.AssetURL(c.ImageURL)
	}
	return c
}

func (s *Service) ownedView(o Owned) Owned {
	o.Collectible = s.collectibleView(o.Collectible)
	return o
}

type list[T any] struct {
	Items []T `json:"items"`
}

// Catalog is GET /api/achievements's body.
func (s *Service) Catalog(ctx context.Context) ([]byte, error) {
	defs, err := s.Cache.Get(ctx, cache.VeryLong, keyDefinitions, tagAchievements, func(ctx context.Context) ([]byte, error) {
		as, err := s.Store.Achievements(ctx)
		if err != nil {
			return nil, err
		}
		for i := range as {
			as[i] = s.achievementView(as[i])
		}
		return json.Marshal(as)
	})
	if err != nil {
		return nil, err
	}
	byID, err := s.awardedCounts(ctx)
	if err != nil {
		return nil, err
	}
	var out list[Achievement]
	if err := json.Unmarshal(defs, &out.Items); err != nil {
		return nil, err
	}
	for i := range out.Items {
		out.Items[i].AwardedCount = byID[out.Items[i].ID]
	}
	return json.Marshal(out)
}

// awardedCounts is how many users hold each achievement, from the medium
// tier (so it lags by up to its TTL).
func (s *Service) awardedCounts(ctx context.Context) (map[int64]int64, error) {
	b, err := s.Cache.Get(ctx, cache.Medium, keyCounts, "", func(ctx context.Context) ([]byte, error) {
		c, err := s.Store.AwardedCounts(ctx)
		if err != nil {
			return nil, err
		}
		return json.Marshal(c)
	})
	if err != nil {
		return nil, err
	}
	var byID map[int64]int64
	return byID, json.Unmarshal(b, &byID)
}

// UserAchievements is GET /api/users/{id}/achievements's body. Each
// achievement is shown as the catalog lists it: the held list is cached
// (long tier, dropped by the user's awards) and the counts, which every
// award elsewhere changes, are laid over it from the medium tier.
func (s *Service) UserAchievements(ctx context.Context, userID int64) ([]byte, error) {
	held, err := s.userAchievements(ctx, userID)
	if err != nil {
		return nil, err
	}
	var out list[Awarded]
	if err := json.Unmarshal(held, &out); err != nil {
		return nil, err
	}
	if len(out.Items) == 0 {
		return held, nil
	}
	byID, err := s.awardedCounts(ctx)
	if err != nil {
		return nil, err
	}
	for i := range out.Items {
		a := &out.Items[i].Achievement
		a.AwardedCount = max(byID[a.ID], 1) // the user holds it, should the counts predate that
	}
	return json.Marshal(out)
}

func (s *Service) userAchievements(ctx context.Context, userID int64) ([]byte, error) {
	return s.Cache.Get(ctx, cache.Long, "achievements:user:"+strconv.FormatInt(userID, 10), userTag(userID), func(ctx context.Context) ([]byte, error) {
		as, err := s.Store.UserAchievements(ctx, userID)
		if err != nil {
			return nil, err
		}
		for i := range as {
			as[i].Achievement = s.achievementView(as[i].Achievement)
		}
		return json.Marshal(list[Awarded]{as})
	})
}

// Collectibles is GET /api/collectibles's body; claims and edits drop it.
func (s *Service) Collectibles(ctx context.Context) ([]byte, error) {
	return s.Cache.Get(ctx, cache.VeryLong, keyCollectibles, tagCollectibles, func(ctx context.Context) ([]byte, error) {
		cs, err := s.Store.Collectibles(ctx)
		if err != nil {
			return nil, err
		}
		for i := range cs {
			cs[i] = s.collectibleView(cs[i])
		}
		return json.Marshal(list[Collectible]{cs})
	})
}

// UserCollectibles is GET /api/users/{id}/collectibles's body.
func (s *Service) UserCollectibles(ctx context.Context, userID int64) ([]byte, error) {
	return s.Cache.Get(ctx, cache.Long, "collectibles:user:"+strconv.FormatInt(userID, 10), userTag(userID), func(ctx context.Context) ([]byte, error) {
		os, err := s.Store.UserCollectibles(ctx, userID)
		if err != nil {
			return nil, err
		}
		for i := range os {
			os[i] = s.ownedView(os[i])
		}
		return json.Marshal(list[Owned]{os})
	})
}

// Claimed drops what a claim changed, after its commit: the catalog's
// remaining and the user's collectibles. Callers that claim inside their
// own transaction (a purchase) call it after the commit.
func (s *Service) Claimed(ctx context.Context, userID int64) {
	s.Cache.InvalidateTag(ctx, tagCollectibles, userTag(userID))
}

// Claim hands userID the next serial of a collectible (its own
// transaction).
func (s *Service) Claim(ctx context.Context, userID, collectibleID int64, source string) (Owned, error) {
	o, err := s.Store.Claim(ctx, collectibleID, userID, source, s.Now())
	if err != nil {
		return o, err
	}
	s.Claimed(ctx, userID)
	return s.ownedView(o), nil
}

// ---- admin ----

// Define stores an admin-defined achievement (audited).
func (s *Service) Define(ctx context.Context, by audit.Actor, in AchievementInput) (Achievement, error) {
	a, err := in.Achievement()
	if err != nil {
		return a, err
	}
	a, err = s.Store.CreateAchievement(ctx, a, s.Now(), audit.Entry{Actor: by, Action: "achievement.create", TargetKind: "achievement"})
	if err != nil {
		return a, err
	}
	s.Cache.InvalidateTag(ctx, tagAchievements)
	return s.achievementView(a), nil
}

// GrantByHand awards an achievement to a user (audited); created is false
// when they held it already.
func (s *Service) GrantByHand(ctx context.Context, by audit.Actor, achievementID int64, in GrantInput) (Awarded, bool, error) {
	f := apperr.FieldErrors{}
	if in.UserID <= 0 {
		f.Add("userId", "must be a user's id")
	}
	checkText(f, "reason", in.Reason, 0, 500, textcheck.Lines)
	if err := f.Err(); err != nil {
		return Awarded{}, false, err
	}
	g, created, err := s.Store.Award(ctx, Grant{AchievementID: achievementID, UserID: in.UserID, Source: SourceAdmin, At: s.Now(),
		Audit: &audit.Entry{Actor: by, Action: "achievement.grant", TargetKind: "user", TargetID: in.UserID, Reason: in.Reason}})
	if err != nil {
		return Awarded{}, false, err
	}
	if created {
		s.Announce(ctx, g)
	}
	return Awarded{Achievement: s.achievementView(g.Achievement), AwardedAt: g.AwardedAt}, created, nil
}

// CreateCollectible stores a new collectible (audited).
func (s *Service) CreateCollectible(ctx context.Context, by audit.Actor, in CollectibleInput) (Collectible, error) {
	c, err := in.Collectible()
	if err != nil {
		return c, err
	}
	c, err = s.Store.CreateCollectible(ctx, c, s.Now(), audit.Entry{Actor: by, Action: "collectible.create", TargetKind: "collectible"})
	if err != nil {
		return c, err
	}
	s.Cache.InvalidateTag(ctx, tagCollectibles)
	return s.collectibleView(c), nil
}

// UpdateCollectible edits a collectible (audited, with before and after).
func (s *Service) UpdateCollectible(ctx context.Context, by audit.Actor, id int64, p CollectiblePatch) (Collectible, error) {
	if err := p.Validate(); err != nil {
		return Collectible{}, err
	}
	c, err := s.Store.UpdateCollectible(ctx, id, p, s.Now(), audit.Entry{Actor: by, Action: "collectible.update", TargetKind: "collectible", TargetID: id})
	if err != nil {
		return c, err
	}
	s.Cache.InvalidateTag(ctx, tagCollectibles)
	return s.collectibleView(c), nil
}

// ---- backfill ----

// Progress is how far a backfill got.
type Progress struct {
	Users   int64 // users evaluated
	Awarded int64 // achievements awarded
}

// Backfill evaluates every rule for every user over all their history,
// batch users at a time, calling progress after each batch. It awards
// only what is missing, so running it again awards nothing.
func (s *Service) Backfill(ctx context.Context, batch int, progress func(Progress)) (Progress, error) {
	if batch <= 0 {
		batch = 500
	}
	var p Progress
	var after int64
	for {
		ids, err := s.Store.UserIDs(ctx, after, batch)
		if err != nil || len(ids) == 0 {
			return p, err
		}
		for _, id := range ids {
			gs, err := s.Check(ctx, id)
			if err != nil && !apperr.Is(err, apperr.NotFound) {
				return p, fmt.Errorf("user %d: %w", id, err)
			}
			p.Users++
			p.Awarded += int64(len(gs))
		}
		after = ids[len(ids)-1]
		if progress != nil {
			progress(p)
		}
	}
}
