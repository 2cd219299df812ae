package moderation

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/plazahq/plaza/internal/account"
	"github.com/plazahq/plaza/internal/apperr"
	"github.com/plazahq/plaza/internal/audit"
	"github.com/plazahq/plaza/internal/cache"
	"github.com/plazahq/plaza/internal/community"
	"github.com/plazahq/plaza/internal/textcheck"
)

// Publisher sends an event to a real-time room (realtime.Hub).
type Publisher interface {
	Publish(ctx context.Context, room, typ string, data any) error
}

// Cache is the shared cache (cache.Cache): moderation invalidates what an
// action changed, reports its figures and flushes it on every instance.
type Cache interface {
	InvalidateTag(ctx context.Context, tags ...string)
	FlushPrefix(ctx context.Context, prefix string) (int, error)
	Stats() cache.Stats
}

// Revenue reports the credits sold (the wallet ledger's top-ups). A nil
// Revenue reports 0: Plaza without a wallet sells nothing.
type Revenue interface {
	CreditsSold(ctx context.Context) (int64, error)
}

// Deps are the service's collaborators. AfterRemove maps a target kind to
// what its owning domain does after one of its items was removed (caches,
// the room's removal event); ChannelChanged likewise for channel edits.
// Connections and Jobs feed the stats; nil reports zero.
type Deps struct {
	Store          Store
	Publisher      Publisher
	Cache          Cache
	AfterRemove    map[TargetKind]func(ctx context.Context, id, channelID int64)
	ChannelChanged func(ctx context.Context, before, after community.Channel)
	Connections    func() int64
	Jobs           func(ctx context.Context) any
	Revenue        Revenue
	Now            func() time.Time
	Log            *slog.Logger
}

// Service is the moderation business logic.
type Service struct{ d Deps }

// NewService validates deps.
func NewService(d Deps) (*Service, error) {
	if d.Store == nil || d.Publisher == nil || d.Cache == nil || d.Log == nil {
		return nil, errors.New("moderation: store, publisher, cache and log are required")
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	return &Service{d: d}, nil
}

// SetRevenue wires the wallet's figure (at merge: the wallet ledger).
func (s *Service) SetRevenue(r Revenue) { s.d.Revenue = r }

// RemovedEvent is published in the author's room when a moderator removed
// their content.
const RemovedEvent = "moderation.removed"

// ---- users ----

// Users pages the admins' user list, newest first.
func (s *Service) Users(ctx context.Context, f UserFilter) ([]AdminUser, error) {
	fe := apperr.FieldErrors{}
	f.Q = strings.TrimSpace(f.Q)
	if len(f.Q) > MaxQuery {
		fe.Add("q", "is too long")
	}
	if f.Role != "" && !f.Role.Valid() {
		fe.Add("role", "must be one of user, creator, moderator, admin")
	}
	if f.Status != "" && !account.ValidStatus(f.Status) {
		fe.Add("status", "must be one of active, banned, unverified")
	}
	if err := fe.Err(); err != nil {
		return nil, err
	}
	return s.d.Store.Users(ctx, f, s.d.Now())
}

// User is the admins' detail of user id.
func (s *Service) User(ctx context.Context, id int64) (UserDetail, error) {
	return s.d.Store.UserDetail(ctx, id, s.d.Now())
}

func checkText(fe apperr.FieldErrors, field, v string, required bool, max int, allowed string) string {
	v = strings.TrimSpace(v)
	switch {
	case v == "" && required:
		fe.Add(field, "is required")
	case !utf8.ValidString(v):
		fe.Add(field, "must be UTF-8 text")
	case utf8.RuneCountInString(v) > max:
		fe.Add(field, "is too long")
	case textcheck.HasControl(v, allowed):
		fe.Add(field, textcheck.Problem)
	}
	return v
}

// Ban bans user id (admins): every session ends, their sockets close with
// 4003 on every instance, and login answers 403 banned until the ban ends
// or is lifted.
func (s *Service) Ban(ctx context.Context, by account.User, ip string, id int64, b Ban) (account.User, error) {
	fe := apperr.FieldErrors{}
	b.Reason = checkText(fe, "reason", b.Reason, true, MaxReason, textcheck.Lines)
	now := s.d.Now()
	if b.Until != nil && !b.Until.After(now) {
		fe.Add("until", "must be in the future")
	}
	if id == by.ID {
		fe.Add("id", "you cannot ban yourself")
	}
	if err := fe.Err(); err != nil {
		return account.User{}, err
	}
	u, err := s.d.Store.Ban(ctx, audit.Actor{ID: by.ID, IP: ip}, id, b, now)
	if err != nil {
		return account.User{}, err
	}
	s.banned(ctx, id)
	return u, nil
}

// banned ends the user's cached sessions and tells their connections on
// every instance to re-check theirs: each finds the account banned and
// closes with 4003.
func (s *Service) banned(ctx context.Context, id int64) {
	s.d.Cache.InvalidateTag(ctx, account.UserTag(id), account.AccountTag(id))
	if err := s.d.Publisher.Publish(ctx, account.UserRoom(id), account.SessionRevoked, map[string]any{"reason": "banned"}); err != nil {
		s.d.Log.Warn("ban not announced to open connections", "user", id, "err", err)
	}
}

// Unban lifts user id's ban.
func (s *Service) Unban(ctx context.Context, by account.User, ip string, id int64, reason string) (account.User, error) {
	fe := apperr.FieldErrors{}
	reason = checkText(fe, "reason", reason, false, MaxReason, textcheck.Lines)
	if err := fe.Err(); err != nil {
		return account.User{}, err
	}
	u, err := s.d.Store.Unban(ctx, audit.Actor{ID: by.ID, IP: ip}, id, reason, s.d.Now())
	if err != nil {
		return account.User{}, err
	}
	s.d.Cache.InvalidateTag(ctx, account.UserTag(id), account.AccountTag(id))
	return u, nil
}

// ---- reports ----

// Report files a report by `by`; created is false when by already had an
// open report on that target (which is returned).
func (s *Service) Report(ctx context.Context, by account.User, kind TargetKind, targetID int64, reason string) (Report, bool, error) {
	fe := apperr.FieldErrors{}
	if !ValidKind(kind) {
		fe.Add("targetKind", "must be one of message, shout, mix, user, event")
	}
	if targetID <= 0 {
		fe.Add("targetId", "must be a positive id")
	}
	reason = checkText(fe, "reason", reason, true, MaxReason, textcheck.Lines)
	if kind == KindUser && targetID == by.ID {
		fe.Add("targetId", "you cannot report yourself")
	}
	if err := fe.Err(); err != nil {
		return Report{}, false, err
	}
	return s.d.Store.Report(ctx, NewReport{ReporterID: by.ID, Kind: kind, TargetID: targetID, Reason: reason, At: s.d.Now()})
}

// Queue pages the moderators' queue.
func (s *Service) Queue(ctx context.Context, status string, after int64, limit int) ([]Group, error) {
	if status == "" {
		status = "open"
	}
	if status != "open" && status != "resolved" {
		return nil, apperr.Invalid(map[string]string{"status": "must be open or resolved"})
	}
	return s.d.Store.Queue(ctx, status, after, limit)
}

// Resolve resolves every open report on a report's target.
func (s *Service) Resolve(ctx context.Context, r Resolve) (Resolution, error) {
	fe := apperr.FieldErrors{}
	if !ValidAction(r.Action) {
		fe.Add("action", "must be one of dismiss, remove, ban_author")
	}
	r.Note = checkText(fe, "note", r.Note, false, MaxNote, textcheck.Lines)
	if err := fe.Err(); err != nil {
		return Resolution{}, err
	}
	r.At = s.d.Now()
	res, err := s.d.Store.Resolve(ctx, r)
	if err != nil {
		return Resolution{}, err
	}
	t := res.Target
	switch res.Action {
	case Remove:
		if f := s.d.AfterRemove[t.Kind]; f != nil {
			f(ctx, t.ID, res.ChannelID)
		}
		s.d.Cache.InvalidateTag(ctx, account.XPTags(t.AuthorID, true)...) // their XP (and maybe level) moved
		data := map[string]any{"targetKind": t.Kind, "targetId": t.ID, "note": r.Note, "xpRevoked": res.XPRevoked}
		if err := s.d.Publisher.Publish(ctx, account.UserRoom(t.AuthorID), RemovedEvent, data); err != nil {
			s.d.Log.Warn("removal not announced to its author", "user", t.AuthorID, "err", err)
		}
	case BanAuthor:
		s.banned(ctx, t.AuthorID)
	}
	return res, nil
}

// ---- channels ----

// UpdateChannel applies an admin's channel edit.
func (s *Service) UpdateChannel(ctx context.Context, by account.User, ip string, id int64, p ChannelPatch) (community.Channel, error) {
	fe := apperr.FieldErrors{}
	if p.Name != nil {
		v := checkText(fe, "name", *p.Name, true, 100, "")
		p.Name = &v
	}
	if p.Topic != nil {
		v := checkText(fe, "topic", *p.Topic, false, 250, "")
		p.Topic = &v
	}
	if p.Name == nil && p.Topic == nil && p.Private == nil && p.Archived == nil {
		fe.Add("body", "name, topic, private or archived is required")
	}
	if err := fe.Err(); err != nil {
		return community.Channel{}, err
	}
	before, after, err := s.d.Store.UpdateChannel(ctx, audit.Actor{ID: by.ID, IP: ip}, id, p, s.d.Now())
	if err != nil {
		return community.Channel{}, err
	}
	if s.d.ChannelChanged != nil {
		s.d.ChannelChanged(ctx, before, after)
	}
	return after, nil
}

// ---- cache ----

// TierView is one cache tier's figures.
type TierView struct {
	Tier       string  `json:"tier"`
	LocalHits  int64   `json:"localHits"`
	RemoteHits int64   `json:"remoteHits"`
	Misses     int64   `json:"misses"`
	HitRate    float64 `json:"hitRate"`
}

// CacheView is GET /api/admin/cache.
type CacheView struct {
	Backend string     `json:"backend"`
	HitRate float64    `json:"hitRate"` // last minute, every tier
	Lookups int64      `json:"lookups"` // last minute
	Entries int        `json:"entries"` // this instance's in-process tier
	Tiers   []TierView `json:"tiers"`
}

// CacheStats reports the cache (this instance's counts).
func (s *Service) CacheStats() CacheView {
	st := s.d.Cache.Stats()
	v := CacheView{Backend: st.Backend, HitRate: st.HitRate, Lookups: st.Lookups, Entries: st.LocalSize, Tiers: []TierView{}}
	for _, name := range []string{"short", "medium", "long", "very_long", "sessions"} {
		t, ok := st.Tiers[name]
		if !ok {
			continue
		}
		tv := TierView{Tier: name, LocalHits: t.LocalHits, RemoteHits: t.RemoteHits, Misses: t.Misses}
		if n := t.LocalHits + t.RemoteHits + t.Misses; n > 0 {
			tv.HitRate = float64(t.LocalHits+t.RemoteHits) / float64(n)
		}
		v.Tiers = append(v.Tiers, tv)
	}
	for name, t := range st.Tiers { // tiers added later still show
		known := false
		for _, tv := range v.Tiers {
			known = known || tv.Tier == name
		}
		if !known {
			tv := TierView{Tier: name, LocalHits: t.LocalHits, RemoteHits: t.RemoteHits, Misses: t.Misses}
			if n := t.LocalHits + t.RemoteHits + t.Misses; n > 0 {
				tv.HitRate = float64(t.LocalHits+t.RemoteHits) / float64(n)
			}
			v.Tiers = append(v.Tiers, tv)
		}
	}
	return v
}

// Flush drops every cache key starting with prefix on every instance (the
// shared tier, and each instance's in-process tier through the cache's
// invalidation channel), and records it.
func (s *Service) Flush(ctx context.Context, by account.User, ip, prefix string) (int, error) {
	if len(prefix) > 200 || !utf8.ValidString(prefix) || textcheck.HasControl(prefix, "") {
		return 0, apperr.Invalid(map[string]string{"prefix": "must be UTF-8 text of at most 200 bytes, without control characters"})
	}
	n, err := s.d.Cache.FlushPrefix(ctx, prefix)
	if err != nil {
		return n, apperr.Wrap(apperr.Unavailable, "the shared cache did not answer; this instance's cache was flushed", err)
	}
	return n, s.d.Store.FlushRecorded(ctx, audit.Actor{ID: by.ID, IP: ip}, prefix, n)
}

// ---- stats ----

// Stats is GET /api/admin/stats.
type Stats struct {
	Users struct {
		Total      int64 `json:"total"`
		Active24h  int64 `json:"active24h"`
		Active7d   int64 `json:"active7d"`
		Banned     int64 `json:"banned"`
		Unverified int64 `json:"unverified"`
	} `json:"users"`
	MessagesPerDay []DayCount `json:"messagesPerDay"`
	WebSocket      struct {
		Connections int64 `json:"connections"`
	} `json:"websocket"`
	Jobs        any   `json:"jobs"`
	OpenReports int64 `json:"openReports"`
	Revenue     struct {
		CreditsSold int64 `json:"creditsSold"`
	} `json:"revenue"`
	At time.Time `json:"at"`
}

// StatsDays is how many days messagesPerDay covers, today included.
const StatsDays = 14

// Stats summarises the community.
func (s *Service) Stats(ctx context.Context) (Stats, error) {
	now := s.d.Now().UTC()
	var out Stats
	db, err := s.d.Store.Stats(ctx, now)
	if err != nil {
		return out, err
	}
	out.At = now
	out.Users.Total, out.Users.Active24h, out.Users.Active7d = db.UsersTotal, db.Active24h, db.Active7d
	out.Users.Banned, out.Users.Unverified = db.BannedUsers, db.UnverifiedUsers
	out.OpenReports = db.OpenReports
	byDay := map[string]int64{}
	for _, d := range db.MessagesPerDay {
		byDay[d.Day] = d.Count
	}
	today := now.Truncate(24 * time.Hour)
	for i := StatsDays - 1; i >= 0; i-- {
		day := today.AddDate(0, 0, -i).Format("2006-01-02")
		out.MessagesPerDay = append(out.MessagesPerDay, DayCount{Day: day, Count: byDay[day]})
	}
	if s.d.Connections != nil {
		out.WebSocket.Connections = s.d.Connections()
	}
	if s.d.Jobs != nil {
		out.Jobs = s.d.Jobs(ctx)
	}
	if s.d.Revenue != nil {
		if out.Revenue.CreditsSold, err = s.d.Revenue.CreditsSold(ctx); err != nil {
			return out, err
		}
	}
	return out, nil
}
