package community

import (
	"context"
	"encoding/json"
	"slices"
	"strconv"

	"github.com/plazahq/plaza/internal/account"
	"github.com/plazahq/plaza/internal/apperr"
	"github.com/plazahq/plaza/internal/gamification"
)

// Emoji is the set users may react with, in the order views list them.
var Emoji = []string{"👍", "❤️", "😂", "🎉", "😮", "😢", "🔥", "👀"}

// aliases accept the forms of an allowed emoji that keyboards also send.
var aliases = map[string]string{"❤": "❤️", "👍️": "👍"}

// checkEmoji returns the allowed emoji e names, or a 422.
func checkEmoji(e string) (string, error) {
	if a, ok := aliases[e]; ok {
		e = a
	}
	if !slices.Contains(Emoji, e) {
		return "", apperr.Invalid(map[string]string{"emoji": "must be one of 👍 ❤️ 😂 🎉 😮 😢 🔥 👀"})
	}
	return e, nil
}

// sortReactions orders counts as Emoji lists them, so views are stable.
func sortReactions(cs []ReactionCount) {
	slices.SortFunc(cs, func(a, b ReactionCount) int {
		return slices.Index(Emoji, a.Emoji) - slices.Index(Emoji, b.Emoji)
	})
}

// reactions loads the counts for a page of items in one query; viewer 0
// leaves Mine false everywhere (the shared, cached form).
func (s *Service) reactions(ctx context.Context, kind ItemKind, ids []int64, viewer int64) (map[int64][]ReactionCount, error) {
	rs, err := s.Store.Reactions(ctx, kind, ids, viewer)
	for _, cs := range rs {
		sortReactions(cs)
	}
	return rs, err
}

func viewerID(v *account.User) int64 {
	if v == nil {
		return 0
	}
	return v.ID
}

// withMine sets Mine on a page that was cached without it: one query for
// the viewer's own reactions on the page, and none when nobody has
// reacted to anything on it or the viewer is anonymous.
func withMine[T any](ctx context.Context, s *Service, b []byte, viewer *account.User, kind ItemKind,
	item func(*T) (int64, []ReactionCount)) ([]byte, error) {
	if viewer == nil {
		return b, nil
	}
	var l List[T]
	if err := json.Unmarshal(b, &l); err != nil {
		return nil, err
	}
	if set, err := setMine(ctx, s, l.Items, viewer, kind, item); err != nil || !set {
		return b, err
	}
	return json.Marshal(l)
}

// setMine sets Mine on items (decoded from a shared page, so theirs to
// change) for viewer, and reports whether any was set.
func setMine[T any](ctx context.Context, s *Service, items []T, viewer *account.User, kind ItemKind,
	item func(*T) (int64, []ReactionCount)) (bool, error) {
	var ids []int64
	for i := range items {
		if id, rs := item(&items[i]); len(rs) > 0 {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return false, nil
	}
	mine, err := s.Store.MyReactions(ctx, kind, ids, viewer.ID)
	if err != nil || len(mine) == 0 {
		return false, err
	}
	for i := range items {
		id, rs := item(&items[i])
		for j := range rs {
			rs[j].Mine = slices.Contains(mine[id], rs[j].Emoji)
		}
	}
	return true, nil
}

// newestMine is withMine for the newest page kept in memory (newest.go):
// the views it was encoded from are at hand, so the page is not decoded
// again; only a viewer with reactions on it gets a page of their own,
// rendered from a copy (the kept views are shared by every reader).
func newestMine(ctx context.Context, s *Service, b []byte, views []MessageView, limit int, viewer *account.User) ([]byte, error) {
	if viewer == nil {
		return b, nil
	}
	reacted := false
	for i := range views {
		if len(views[i].Reactions) > 0 {
			reacted = true
			break
		}
	}
	if !reacted {
		return b, nil
	}
	own := slices.Clone(views)
	for i := range own {
		own[i].Reactions = slices.Clone(own[i].Reactions)
	}
	set, err := setMine(ctx, s, own, viewer, KindMessage, func(v *MessageView) (int64, []ReactionCount) { return v.ID, v.Reactions })
	if err != nil || !set {
		return b, err
	}
	return encodeNewest(own, limit)
}

// ReactionView is what PUT .../reactions/{emoji} answers.
type ReactionView = ReactionCount

// ReactMessage adds (on) or removes the caller's emoji on a channel
// message they can read. Adding awards the author XP once per reactor
// (never for their own message); removing does not take it back.
func (s *Service) ReactMessage(ctx context.Context, by account.User, id int64, emoji string, on bool) (ReactionView, error) {
	emoji, err := checkEmoji(emoji)
	if err != nil {
		return ReactionView{}, err
	}
	notFound := apperr.New(apperr.NotFound, "message not found")
	m, err := s.Store.Message(ctx, id)
	if apperr.Is(err, apperr.NotFound) || (err == nil && m.Deleted) {
		return ReactionView{}, notFound
	}
	if err != nil {
		return ReactionView{}, err
	}
	if _, err := s.readable(ctx, &by, m.ChannelID); apperr.Is(err, apperr.NotFound) {
		return ReactionView{}, notFound
	} else if err != nil {
		return ReactionView{}, err
	}
	r := Reaction{Kind: KindMessage, ItemID: m.ID, Author: m.SenderID, UserID: by.ID, Emoji: emoji, CreatedAt: s.Now()}
	room := "channel:" + strconv.FormatInt(m.ChannelID, 10)
	return s.react(ctx, r, on, room, tagChannelMessages(m.ChannelID), map[string]any{"channelId": m.ChannelID})
}

// ReactShout adds (on) or removes the caller's emoji on a shout.
func (s *Service) ReactShout(ctx context.Context, by account.User, id int64, emoji string, on bool) (ReactionView, error) {
	emoji, err := checkEmoji(emoji)
	if err != nil {
		return ReactionView{}, err
	}
	sh, err := s.Store.Shout(ctx, id)
	if err != nil {
		return ReactionView{}, err
	}
	r := Reaction{Kind: KindShout, ItemID: sh.ID, Author: sh.UserID, UserID: by.ID, Emoji: emoji, CreatedAt: s.Now()}
	return s.react(ctx, r, on, "chat", tagShouts, nil)
}

// react stores the change and, when it changed something, drops the
// cached pages that show the item, publishes reaction.added/removed in
// the item's room and level.up in the author's room if they reached one.
func (s *Service) react(ctx context.Context, r Reaction, on bool, room, tag string, extra map[string]any) (ReactionView, error) {
	ch, err := s.Store.React(ctx, r, on)
	if err != nil {
		return ReactionView{}, err
	}
	v := ReactionView{Emoji: r.Emoji, Count: ch.Count, Mine: on}
	if !ch.Changed {
		return v, nil
	}
	s.Cache.InvalidateTag(ctx, tag)
	if ch, ok := extra["channelId"].(int64); ok && r.Kind == KindMessage && s.newest != nil {
		s.newest.drop(ch) // its counts changed
	}
	ev := map[string]any{"kind": r.Kind, "id": r.ItemID, "emoji": r.Emoji, "userId": r.UserID, "count": ch.Count}
	for k, x := range extra {
		ev[k] = x
	}
	typ := "reaction.removed"
	if on {
		typ = "reaction.added"
	}
	s.publish(ctx, room, typ, ev)
	s.awarded(ctx, r.Author, ch.XP)
	return v, nil
}

// awarded follows a committed XP award: xpChanged, then leveledUp.
func (s *Service) awarded(ctx context.Context, user int64, res gamification.Result) {
	s.xpChanged(ctx, user, res)
	s.leveledUp(ctx, user, res)
}

// xpChanged drops what is cached about the user's xp after a committed
// award: their sessions too when the level moved, and with them the
// level their messages in the newest pages show (NewService: re-read).
func (s *Service) xpChanged(ctx context.Context, user int64, res gamification.Result) {
	if res.Awarded != 0 {
		s.Cache.InvalidateTag(ctx, account.XPTags(user, res.LeveledUp())...)
	}
}

// leveledUp publishes level.up in the user's room when the award moved
// them up a level.
func (s *Service) leveledUp(ctx context.Context, user int64, res gamification.Result) {
	if res.LeveledUp() {
		s.publish(ctx, account.UserRoom(user), "level.up", map[string]any{"level": res.Level, "xp": res.XP})
	}
}
