package community

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/mail"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/plazahq/plaza/internal/account"
	"github.com/plazahq/plaza/internal/apperr"
	"github.com/plazahq/plaza/internal/batch"
	"github.com/plazahq/plaza/internal/cache"
	"github.com/plazahq/plaza/internal/jobs"
	"github.com/plazahq/plaza/internal/textcheck"
)

// Limits on what users may post.
const (
	MaxMessage     = 4000
	MaxShout       = 280
	MaxContact     = 5000
	MaxChannelName = 100
	MaxDescription = 500
	DefaultLimit   = 50
	MaxLimit       = 100
)

// Publisher sends a real-time event to a room (realtime.Hub).
type Publisher interface {
	Publish(ctx context.Context, room, typ string, data any) error
	// PublishRemoval publishes an item's removal after purging the item's
	// earlier events (kind, id) from the room's history, so a reconnecting
	// client never replays what was removed.
	PublishRemoval(ctx context.Context, room, typ string, data any, kind string, id int64) error
}

// Cache is the response cache (cache.Cache).
type Cache interface {
	Get(ctx context.Context, tier cache.Tier, key, tag string, load func(context.Context) ([]byte, error)) ([]byte, error)
	InvalidateTag(ctx context.Context, tags ...string)
}

// Notifier wakes job workers after a commit (jobs.Queue).
type Notifier interface{ Notify(ctx context.Context) }

// Access re-checks who may stay subscribed to a room after a change took
// read access to it away (realtime.Hub): the room's subscribers (only
// users', if given) that CanJoin now refuses are unsubscribed, on every
// instance.
type Access interface {
	Reauthorize(ctx context.Context, room string, users ...int64) error
}

// Presence tells whether anyone is connected to a room (realtime.Hub).
type Presence interface {
	Online(ctx context.Context, room string) int
}

// Deps are the service's collaborators.
type Deps struct {
	Store     Store
	Users     func() *batch.Loader[int64, account.User] // account.Service.UserLoader
	Publisher Publisher
	Access    Access
	Presence  Presence
	Jobs      Notifier
	Mailer    account.Mailer // digests for users who are away
	Cache     Cache
	AssetURL  func(path string) string // media.URLs.URL
	BaseURL   string                   // links in digests
	Now       func() time.Time
	Log       *slog.Logger
}

// Service is the community business logic.
type Service struct {
	Deps
	newest *newestPages // nil when the cache is shared across instances (newest.go)
	// channels keeps the last decoding of each cached channel: every post
	// and read of a channel looks it up, and the cached bytes rarely change.
	channels decodedChannels
}

// decodedChannels maps a channel id to the cached JSON it last decoded and
// the result, so the same bytes are not decoded again. A change of the
// channel changes the bytes (the cache reloads them), which misses.
type decodedChannels struct {
	mu sync.Mutex
	m  map[int64]decodedChannel
}

type decodedChannel struct {
	raw string
	ch  Channel
}

// maxDecodedChannels bounds the map; past it, it starts again empty.
const maxDecodedChannels = 4096

func (d *decodedChannels) decode(id int64, b []byte) (Channel, error) {
	d.mu.Lock()
	e, ok := d.m[id]
	d.mu.Unlock()
	if ok && e.raw == string(b) {
		return e.ch, nil
	}
	var ch Channel
	if err := json.Unmarshal(b, &ch); err != nil {
		return Channel{}, err
	}
	d.mu.Lock()
	if d.m == nil || len(d.m) >= maxDecodedChannels {
		d.m = map[int64]decodedChannel{}
	}
	d.m[id] = decodedChannel{raw: string(b), ch: ch}
	d.mu.Unlock()
	return ch, nil
}

// NewService checks deps and returns the service.
func NewService(d Deps) (*Service, error) {
	if d.Store == nil || d.Users == nil || d.Publisher == nil || d.Access == nil || d.Presence == nil || d.Jobs == nil || d.Mailer == nil || d.Cache == nil || d.Log == nil {
		return nil, errors.New("community: store, users, publisher, access, presence, jobs, mailer, cache and log are required")
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.AssetURL == nil {
		d.AssetURL = func(p string) string { return p }
	}
	svc := &Service{Deps: d}
	if b, ok := d.Cache.(interface{ Backend() string }); ok && b.Backend() == "memory" {
		svc.newest = newNewestPages(d.Now)
		// A change to an account (a level reached by any award, a
		// profile edit, a ban) invalidates its tag: the pages that show
		// that author follow it.
		if h, ok := d.Cache.(interface{ OnTagInvalidated(func(string)) }); ok {
			h.OnTagInvalidated(func(tag string) {
				if id, ok := account.AccountOfTag(tag); ok {
					svc.authorChanged(id)
				}
			})
		}
	}
	return svc, nil
}

// Author is the display data embedded in every item that has one.
type Author struct {
	ID          int64  `json:"id"`
	Username    string `json:"username"`
	DisplayName string `json:"displayName"`
	AvatarURL   string `json:"avatarUrl"`
	Level       int    `json:"level"`
}

// MessageView is a channel message as clients see it.
type MessageView struct {
	ID        int64           `json:"id"`
	ChannelID int64           `json:"channelId"`
	Body      string          `json:"body"`
	CreatedAt time.Time       `json:"createdAt"`
	EditedAt  *time.Time      `json:"editedAt"`
	Author    Author          `json:"author"`
	Reactions []ReactionCount `json:"reactions"`
}

// ThreadView is a thread in the caller's list.
type ThreadView struct {
	ID            int64     `json:"id"`
	With          Author    `json:"with"`
	LastMessageAt time.Time `json:"lastMessageAt"`
	LastMessageID int64     `json:"lastMessageId"`
	Unread        int       `json:"unread"`
}

// ThreadMessageView is a direct message as clients see it.
type ThreadMessageView struct {
	ID        int64     `json:"id"`
	ThreadID  int64     `json:"threadId"`
	Body      string    `json:"body"`
	CreatedAt time.Time `json:"createdAt"`
	Author    Author    `json:"author"`
}

// ShoutView is a shout as clients see it.
type ShoutView struct {
	ID        int64           `json:"id"`
	Body      string          `json:"body"`
	CreatedAt time.Time       `json:"createdAt"`
	Author    Author          `json:"author"`
	Reactions []ReactionCount `json:"reactions"`
}

// List is a page of items; NextCursor, when set, is the Before of the next.
type List[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"nextCursor,omitempty"`
}

func page[T any](items []T, p Page, id func(T) int64) List[T] {
	l := List[T]{Items: items}
	if l.Items == nil {
		l.Items = []T{}
	}
	if len(items) == p.Limit && len(items) > 0 {
		l.NextCursor = strconv.FormatInt(id(items[len(items)-1]), 10)
	}
	return l
}

// ParsePage reads ?before= and ?limit= (default 50, at most 100).
func ParsePage(before, limit string) (Page, error) {
	p := Page{Limit: DefaultLimit}
	fe := apperr.FieldErrors{}
	if before != "" {
		n, err := strconv.ParseInt(before, 10, 64)
		if err != nil || n < 0 {
			fe.Add("before", "must be a cursor from nextCursor")
		}
		p.Before = n
	}
	if limit != "" {
		n, err := strconv.Atoi(limit)
		if err != nil || n < 1 {
			fe.Add("limit", "must be a whole number from 1 to 100")
		}
		p.Limit = min(n, MaxLimit)
	}
	return p, fe.Err()
}

// authorChanged brings the newest pages that show user up to date with
// their account, which just changed and committed: their messages there
// show them as the account is now. It runs on the goroutine that
// invalidated the account's cache tag, after the local tier dropped the
// user's cached row, so the author is read afresh. Should that read
// fail, the pages that show them are dropped.
func (s *Service) authorChanged(user int64) {
	change, shown := s.newest.changing(user)
	if !shown {
		return
	}
	authors, err := s.authors(context.Background(), []int64{user})
	a, ok := authors[user]
	if err != nil || !ok {
		s.newest.dropUser(user, change)
		return
	}
	s.newest.setAuthor(a, change)
}

// authors loads the users behind ids in one query.
func (s *Service) authors(ctx context.Context, ids []int64) (map[int64]Author, error) {
	users, err := s.Users().LoadMany(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make(map[int64]Author, len(users))
	for id, u := range users {
		out[id] = Author{ID: u.ID, Username: u.Username, DisplayName: u.DisplayName, AvatarURL: s.AssetURL(u.AvatarURL), Level: u.Level}
	}
	return out, nil
}

// withAuthors renders items that each have an author, loading all the
// authors in one query.
func withAuthors[T, V any](ctx context.Context, s *Service, items []T, author func(T) int64, view func(T, Author) V) ([]V, error) {
	ids := make([]int64, len(items))
	for i, it := range items {
		ids[i] = author(it)
	}
	authors, err := s.authors(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make([]V, len(items))
	for i, it := range items {
		out[i] = view(it, authors[author(it)])
	}
	return out, nil
}

// messageViews renders messages with their authors and, unless fresh (a
// message just posted has none), their reactions as viewer sees them
// (viewer 0: without Mine), in one query each.
func (s *Service) messageViews(ctx context.Context, ms []Message, viewer int64, fresh bool) ([]MessageView, error) {
	rs := map[int64][]ReactionCount{}
	if !fresh && len(ms) > 0 {
		ids := make([]int64, len(ms))
		for i, m := range ms {
			ids[i] = m.ID
		}
		var err error
		if rs, err = s.reactions(ctx, KindMessage, ids, viewer); err != nil {
			return nil, err
		}
	}
	return withAuthors(ctx, s, ms, func(m Message) int64 { return m.SenderID }, func(m Message, a Author) MessageView {
		return MessageView{ID: m.ID, ChannelID: m.ChannelID, Body: m.Body, CreatedAt: m.CreatedAt, EditedAt: m.EditedAt, Author: a,
			Reactions: orEmpty(rs[m.ID])}
	})
}

func orEmpty(rs []ReactionCount) []ReactionCount {
	if rs == nil {
		return []ReactionCount{}
	}
	return rs
}

// checkBody trims and validates a posted text.
func checkBody(field, body string, max int) (string, error) {
	body = strings.TrimSpace(body)
	switch {
	case body == "":
		return "", apperr.Invalid(map[string]string{field: "is required"})
	case !utf8.ValidString(body):
		return "", apperr.Invalid(map[string]string{field: "is not valid UTF-8"})
	case utf8.RuneCountInString(body) > max:
		return "", apperr.Invalid(map[string]string{field: "must be at most " + strconv.Itoa(max) + " characters"})
	}
	if textcheck.HasControl(body, textcheck.Lines) {
		return "", apperr.Invalid(map[string]string{field: textcheck.Problem})
	}
	return body, nil
}

func isModerator(u account.User) bool { return u.Role.AtLeast(account.RoleModerator) }

// publish sends an event after a committed write. Delivery problems are
// the hub's to report; the write stands.
func (s *Service) publish(ctx context.Context, room, typ string, data any) {
	if err := s.Publisher.Publish(ctx, room, typ, data); err != nil {
		s.Log.Warn("event not published", "room", room, "type", typ, "err", err)
	}
}

// publishRemoval is publish for the removal of an item of kind (a
// deletion): the item's earlier events leave the room's history.
func (s *Service) publishRemoval(ctx context.Context, room, typ string, data any, kind ItemKind, id int64) {
	if err := s.Publisher.PublishRemoval(ctx, room, typ, data, string(kind), id); err != nil {
		s.Log.Warn("removal not published", "room", room, "type", typ, "err", err)
	}
}

// accessRemoved has room's subscribers re-checked after a committed change
// that took read access away (users: only theirs), so those who lost it
// stop receiving its events. Like publish, a failure leaves the change
// standing.
func (s *Service) accessRemoved(ctx context.Context, room string, users ...int64) {
	if err := s.Access.Reauthorize(ctx, room, users...); err != nil {
		s.Log.Warn("room access not re-checked", "room", room, "users", users, "err", err)
	}
}

// Cache tags.
const tagChannels = "channels"

// channelTier holds single channels, which every read of and post to a
// channel looks up to check access: the long tier, invalidated with the
// channel lists by every channel edit (tagChannels), and Revocable since
// a channel made private takes read access away (while Redis is lost, an
// instance keeps them at most cache.Config.IsolatedTTL).
var channelTier = cache.Tier{Name: cache.Long.Name, TTL: cache.Long.TTL, Revocable: true}

// channel is Store.Channel through the cache.
func (s *Service) channel(ctx context.Context, id int64) (Channel, error) {
	b, err := s.Cache.Get(ctx, channelTier, "channel:"+strconv.FormatInt(id, 10), tagChannels, func(ctx context.Context) ([]byte, error) {
		ch, err := s.Store.Channel(ctx, id)
		if err != nil {
			return nil, err
		}
		return json.Marshal(ch)
	})
	if err != nil {
		return Channel{}, err
	}
	return s.channels.decode(id, b)
}

func tagChannelMessages(id int64) string { return "chmsgs:" + strconv.FormatInt(id, 10) }

const tagShouts = "shouts"

// ---- channels ----

var slugRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,63}$`)

func slugify(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		if r < 128 && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	s := strings.Trim(b.String(), "-")
	if len(s) > 64 {
		s = strings.Trim(s[:64], "-")
	}
	return s
}

// ChannelInput is POST /api/community/channels's body.
type ChannelInput struct {
	Name        string `json:"name"`
	Slug        string `json:"slug"`
	Description string `json:"description"`
	Private     bool   `json:"private"`
}

// CreateChannel creates a channel (admins only); the creator of a private
// channel is its first member.
func (s *Service) CreateChannel(ctx context.Context, by account.User, in ChannelInput) (Channel, error) {
	if !by.Role.AtLeast(account.RoleAdmin) {
		return Channel{}, apperr.New(apperr.Forbidden, "only admins create channels")
	}
	in.Name, in.Description = strings.TrimSpace(in.Name), strings.TrimSpace(in.Description)
	if in.Slug == "" {
		in.Slug = slugify(in.Name)
	}
	fe := apperr.FieldErrors{}
	if in.Name == "" || utf8.RuneCountInString(in.Name) > MaxChannelName {
		fe.Add("name", "must be 1 to 100 characters")
	} else if textcheck.HasControl(in.Name, "") {
		fe.Add("name", textcheck.Problem)
	}
	if !slugRE.MatchString(in.Slug) {
		fe.Add("slug", "must be 1 to 64 lowercase letters, digits or dashes")
	}
	if utf8.RuneCountInString(in.Description) > MaxDescription {
		fe.Add("description", "must be at most 500 characters")
	} else if textcheck.HasControl(in.Description, textcheck.Lines) {
		fe.Add("description", textcheck.Problem)
	}
	if err := fe.Err(); err != nil {
		return Channel{}, err
	}
	ch, err := s.Store.CreateChannel(ctx, Channel{Slug: in.Slug, Name: in.Name, Description: in.Description, Private: in.Private, CreatedAt: s.Now()}, by.ID)
	if err != nil {
		return Channel{}, err
	}
	if ch.Private {
		if err := s.Store.AddMember(ctx, ch.ID, by.ID, s.Now()); err != nil {
			return Channel{}, err
		}
	}
	s.Cache.InvalidateTag(ctx, tagChannels)
	return ch, nil
}

// Channels pages the channels viewer may read, newest first, as JSON. The
// first page is cached until any channel or membership changes. viewer is
// nil for anonymous callers.
func (s *Service) Channels(ctx context.Context, viewer *account.User, p Page) ([]byte, error) {
	var id int64
	all := false
	if viewer != nil {
		id, all = viewer.ID, isModerator(*viewer)
	}
	load := func(ctx context.Context) ([]byte, error) {
		list, err := s.Store.Channels(ctx, id, all, p)
		if err != nil {
			return nil, err
		}
		return json.Marshal(page(list, p, func(c Channel) int64 { return c.ID }))
	}
	if p.Before != 0 {
		return load(ctx)
	}
	key := "channels:" + strconv.FormatInt(id, 10) + ":" + strconv.FormatBool(all) + ":" + strconv.Itoa(p.Limit)
	return s.Cache.Get(ctx, cache.Long, key, tagChannels, load)
}

var errNoChannel = apperr.New(apperr.NotFound, "channel not found")

// readable returns the channel if viewer may read it. A private channel
// the viewer is not in looks like one that does not exist.
func (s *Service) readable(ctx context.Context, viewer *account.User, channelID int64) (Channel, error) {
	ch, err := s.channel(ctx, channelID)
	if apperr.Is(err, apperr.NotFound) {
		return Channel{}, errNoChannel
	}
	if err != nil || !ch.Private {
		return ch, err
	}
	if viewer == nil {
		return Channel{}, errNoChannel
	}
	if isModerator(*viewer) {
		return ch, nil
	}
	member, err := s.Store.IsMember(ctx, channelID, viewer.ID)
	if err != nil {
		return Channel{}, err
	}
	if !member {
		return Channel{}, errNoChannel
	}
	return ch, nil
}

// SetMember adds or removes a member of a channel (moderators and admins).
func (s *Service) SetMember(ctx context.Context, by account.User, channelID, userID int64, member bool) error {
	if !isModerator(by) {
		return apperr.New(apperr.Forbidden, "only moderators and admins manage members")
	}
	if _, err := s.Store.Channel(ctx, channelID); err != nil {
		return err
	}
	users, err := s.Users().LoadMany(ctx, []int64{userID})
	if err != nil {
		return err
	}
	if _, ok := users[userID]; !ok {
		return apperr.New(apperr.NotFound, "user not found")
	}
	if member {
		err = s.Store.AddMember(ctx, channelID, userID, s.Now())
	} else {
		err = s.Store.RemoveMember(ctx, channelID, userID)
	}
	if err != nil {
		return err
	}
	s.Cache.InvalidateTag(ctx, tagChannels)
	if !member {
		s.accessRemoved(ctx, "channel:"+strconv.FormatInt(channelID, 10), userID)
	}
	return nil
}

// ---- channel messages ----

// Messages pages a channel's messages, newest first, authors and reaction
// counts embedded. The first page is cached briefly, shared by every
// reader (so without Mine, which withMine then sets for the caller), and
// dropped on every write or reaction in the channel.
func (s *Service) Messages(ctx context.Context, viewer *account.User, channelID int64, p Page) ([]byte, error) {
	if _, err := s.readable(ctx, viewer, channelID); err != nil {
		return nil, err
	}
	load := func(viewer int64) func(ctx context.Context) ([]byte, error) {
		return func(ctx context.Context) ([]byte, error) {
			ms, err := s.Store.ChannelMessages(ctx, channelID, p)
			if err != nil {
				return nil, err
			}
			views, err := s.messageViews(ctx, ms, viewer, false)
			if err != nil {
				return nil, err
			}
			return json.Marshal(page(views, p, func(v MessageView) int64 { return v.ID }))
		}
	}
	if p.Before != 0 {
		return load(viewerID(viewer))(ctx)
	}
	mine := func(b []byte) ([]byte, error) {
		return withMine(ctx, s, b, viewer, KindMessage, func(v *MessageView) (int64, []ReactionCount) { return v.ID, v.Reactions })
	}
	if s.newest != nil {
		b, views, err := s.newest.read(ctx, channelID, p.Limit, func(ctx context.Context) ([]MessageView, error) {
			ms, err := s.Store.ChannelMessages(ctx, channelID, Page{Limit: MaxLimit})
			if err != nil {
				return nil, err
			}
			return s.messageViews(ctx, ms, 0, false)
		})
		if err != nil {
			return nil, err
		}
		return newestMine(ctx, s, b, views, p.Limit, viewer)
	}
	key := "chmsgs:" + strconv.FormatInt(channelID, 10) + ":" + strconv.Itoa(p.Limit)
	b, err := s.Cache.Get(ctx, cache.Short, key, tagChannelMessages(channelID), load(0))
	if err != nil {
		return nil, err
	}
	return mine(b)
}

// messagesChanged makes a channel's cached pages stale after a change to
// its messages other than a post.
func (s *Service) messagesChanged(ctx context.Context, channelID int64) {
	s.Cache.InvalidateTag(ctx, tagChannelMessages(channelID))
	if s.newest != nil {
		s.newest.drop(channelID)
	}
}

// Post adds a message to a channel and publishes message.created.
func (s *Service) Post(ctx context.Context, by account.User, channelID int64, body string) (MessageView, error) {
	body, err := checkBody("body", body, MaxMessage)
	if err != nil {
		return MessageView{}, err
	}
	ch, err := s.readable(ctx, &by, channelID)
	if err != nil {
		return MessageView{}, err
	}
	if ch.Archived {
		return MessageView{}, apperr.New(apperr.Conflict, "this channel is archived: it keeps its history and takes no new posts")
	}
	mentioned, err := s.mentions(ctx, ch, by, body)
	if err != nil {
		return MessageView{}, err
	}
	var outbox []jobs.Job
	for _, u := range mentioned {
		outbox = append(outbox, s.digestJob(u))
	}
	m, xp, err := s.Store.PostMessage(ctx, Message{ChannelID: channelID, SenderID: by.ID, Body: body, CreatedAt: s.Now()}, mentioned, outbox...)
	if err != nil {
		return MessageView{}, err
	}
	if len(outbox) > 0 {
		s.Jobs.Notify(ctx)
	}
	// The author is the poster as this request authenticated them, at the
	// level the award left them: no query to load them again.
	author := Author{ID: by.ID, Username: by.Username, DisplayName: by.DisplayName, AvatarURL: s.AssetURL(by.AvatarURL), Level: by.Level}
	if xp.Level > 0 {
		author.Level = xp.Level
	}
	// Dropped before the message joins the newest page, which re-reads an
	// author whose level moved only for the messages it shows: this one
	// carries the new level already, so a member's first post (whose
	// achievement levels them up) costs no read of them.
	s.xpChanged(ctx, by.ID, xp)
	v := s.posted(ctx, m, author)
	s.leveledUp(ctx, by.ID, xp) // after the message
	for _, u := range mentioned {
		s.publish(ctx, account.UserRoom(u), "mention", v)
	}
	return v, nil
}

// posted renders a message just posted by author, keeps the channel's
// newest page current (or stale) and publishes message.created.
func (s *Service) posted(ctx context.Context, m Message, author Author) MessageView {
	v := MessageView{ID: m.ID, ChannelID: m.ChannelID, Body: m.Body, CreatedAt: m.CreatedAt, Author: author, Reactions: []ReactionCount{}}
	if s.newest != nil {
		s.newest.add(v) // the newest page stays current: no miss for its readers
	} else {
		s.messagesChanged(ctx, m.ChannelID)
	}
	s.publish(ctx, "channel:"+strconv.FormatInt(m.ChannelID, 10), "message.created", v)
	return v
}

var mentionRE = regexp.MustCompile(`(?:^|[^A-Za-z0-9_@])@([A-Za-z0-9_]{3,32})`)

// mentions finds the users @named in body who may read the channel (not
// the author), at most 20.
func (s *Service) mentions(ctx context.Context, ch Channel, by account.User, body string) ([]int64, error) {
	if strings.IndexByte(body, '@') < 0 {
		return nil, nil // most posts name no one: skip the regexp
	}
	var names []string
	seen := map[string]bool{}
	for _, m := range mentionRE.FindAllStringSubmatch(body, 40) {
		n := strings.ToLower(m[1])
		if !seen[n] && n != strings.ToLower(by.Username) && len(names) < 20 {
			seen[n] = true
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		return nil, nil
	}
	ids, err := s.Store.UserIDsByUsername(ctx, names)
	if err != nil {
		return nil, err
	}
	var out []int64
	for _, n := range names {
		id, ok := ids[n]
		if !ok {
			continue
		}
		if ch.Private {
			member, err := s.Store.IsMember(ctx, ch.ID, id)
			if err != nil {
				return nil, err
			}
			if !member {
				continue // cannot read it: not told about it
			}
		}
		out = append(out, id)
	}
	return out, nil
}

func (s *Service) afterMessageWrite(ctx context.Context, m Message, typ string) (MessageView, error) {
	s.messagesChanged(ctx, m.ChannelID)
	views, err := s.messageViews(ctx, []Message{m}, 0, false)
	if err != nil {
		return MessageView{}, err
	}
	s.publish(ctx, "channel:"+strconv.FormatInt(m.ChannelID, 10), typ, views[0])
	return views[0], nil
}

// editable returns the message if by may change it: its author, or a
// moderator, in a channel by can read.
func (s *Service) editable(ctx context.Context, by account.User, id int64) (Message, error) {
	m, err := s.Store.Message(ctx, id)
	if err == nil && m.Deleted {
		err = apperr.New(apperr.NotFound, "message not found")
	}
	if err != nil {
		return Message{}, err
	}
	if _, err := s.readable(ctx, &by, m.ChannelID); err != nil {
		return Message{}, apperr.New(apperr.NotFound, "message not found")
	}
	if m.SenderID != by.ID && !isModerator(by) {
		return Message{}, apperr.New(apperr.Forbidden, "only the author or a moderator may change this message")
	}
	return m, nil
}

// Edit changes a message's body and publishes message.edited.
func (s *Service) Edit(ctx context.Context, by account.User, id int64, body string) (MessageView, error) {
	body, err := checkBody("body", body, MaxMessage)
	if err != nil {
		return MessageView{}, err
	}
	if _, err := s.editable(ctx, by, id); err != nil {
		return MessageView{}, err
	}
	m, err := s.Store.EditMessage(ctx, id, body, s.Now())
	if err != nil {
		return MessageView{}, err
	}
	return s.afterMessageWrite(ctx, m, "message.edited")
}

// Delete soft-deletes a message and publishes message.deleted.
func (s *Service) Delete(ctx context.Context, by account.User, id int64) error {
	if _, err := s.editable(ctx, by, id); err != nil {
		return err
	}
	m, err := s.Store.DeleteMessage(ctx, id, s.Now())
	if err != nil {
		return err
	}
	s.messagesChanged(ctx, m.ChannelID)
	s.publishRemoval(ctx, "channel:"+strconv.FormatInt(m.ChannelID, 10), "message.deleted", map[string]int64{"id": m.ID, "channelId": m.ChannelID}, KindMessage, m.ID)
	return nil
}

// ---- direct messages ----

var errNoThread = apperr.New(apperr.NotFound, "thread not found")

// Threads pages the caller's threads, most recent first, with unread counts.
func (s *Service) Threads(ctx context.Context, me account.User, p Page) (List[ThreadView], error) {
	ts, err := s.Store.ThreadsOf(ctx, me.ID, p)
	if err != nil {
		return List[ThreadView]{}, err
	}
	views, err := withAuthors(ctx, s, ts, func(t Thread) int64 { return t.Other(me.ID) }, func(t Thread, with Author) ThreadView {
		return ThreadView{ID: t.ID, With: with, LastMessageAt: t.LastMessageAt, LastMessageID: t.LastMessageID, Unread: t.Unread}
	})
	if err != nil {
		return List[ThreadView]{}, err
	}
	return page(views, p, func(v ThreadView) int64 { return v.LastMessageID }), nil
}

// OpenThread returns the caller's thread with another user, creating it.
func (s *Service) OpenThread(ctx context.Context, me account.User, other int64) (ThreadView, bool, error) {
	if other == me.ID {
		return ThreadView{}, false, apperr.Invalid(map[string]string{"userId": "must be another user"})
	}
	authors, err := s.authors(ctx, []int64{other})
	if err != nil {
		return ThreadView{}, false, err
	}
	if _, ok := authors[other]; !ok || other <= 0 {
		return ThreadView{}, false, apperr.New(apperr.NotFound, "user not found")
	}
	t, created, err := s.Store.ThreadBetween(ctx, me.ID, other, s.Now())
	if err != nil {
		return ThreadView{}, false, err
	}
	return ThreadView{ID: t.ID, With: authors[other], LastMessageAt: t.LastMessageAt, LastMessageID: t.LastMessageID}, created, nil
}

func (s *Service) myThread(ctx context.Context, me account.User, id int64) (Thread, error) {
	t, err := s.Store.Thread(ctx, id)
	if apperr.Is(err, apperr.NotFound) || (err == nil && !t.Has(me.ID)) {
		return Thread{}, errNoThread
	}
	return t, err
}

func (s *Service) threadMessageViews(ctx context.Context, ms []ThreadMessage) ([]ThreadMessageView, error) {
	return withAuthors(ctx, s, ms, func(m ThreadMessage) int64 { return m.SenderID }, func(m ThreadMessage, a Author) ThreadMessageView {
		return ThreadMessageView{ID: m.ID, ThreadID: m.ThreadID, Body: m.Body, CreatedAt: m.CreatedAt, Author: a}
	})
}

// ThreadMessages pages a thread (participants only); reading the newest
// page marks the thread read.
func (s *Service) ThreadMessages(ctx context.Context, me account.User, id int64, p Page) (List[ThreadMessageView], error) {
	if _, err := s.myThread(ctx, me, id); err != nil {
		return List[ThreadMessageView]{}, err
	}
	ms, err := s.Store.ThreadMessages(ctx, id, p)
	if err != nil {
		return List[ThreadMessageView]{}, err
	}
	if p.Before == 0 && len(ms) > 0 {
		if err := s.Store.MarkRead(ctx, id, me.ID, ms[0].ID); err != nil {
			return List[ThreadMessageView]{}, err
		}
	}
	views, err := s.threadMessageViews(ctx, ms)
	if err != nil {
		return List[ThreadMessageView]{}, err
	}
	return page(views, p, func(v ThreadMessageView) int64 { return v.ID }), nil
}

// PostThreadMessage sends a direct message: message.created in the
// thread's room and dm.received in the recipient's own room.
func (s *Service) PostThreadMessage(ctx context.Context, me account.User, id int64, body string) (ThreadMessageView, error) {
	body, err := checkBody("body", body, MaxMessage)
	if err != nil {
		return ThreadMessageView{}, err
	}
	t, err := s.myThread(ctx, me, id)
	if err != nil {
		return ThreadMessageView{}, err
	}
	other := t.Other(me.ID)
	m, err := s.Store.PostThreadMessage(ctx, ThreadMessage{ThreadID: id, SenderID: me.ID, Body: body, CreatedAt: s.Now()}, other, s.digestJob(other))
	if err != nil {
		return ThreadMessageView{}, err
	}
	s.Jobs.Notify(ctx)
	views, err := s.threadMessageViews(ctx, []ThreadMessage{m})
	if err != nil {
		return ThreadMessageView{}, err
	}
	s.publish(ctx, "thread:"+strconv.FormatInt(id, 10), "message.created", views[0])
	s.publish(ctx, account.UserRoom(other), "dm.received", views[0])
	return views[0], nil
}

// ---- shouts ----

// Shouts pages the public shout feed with reaction counts; the first page
// is cached briefly without Mine (see Messages).
func (s *Service) Shouts(ctx context.Context, viewer *account.User, p Page) ([]byte, error) {
	load := func(viewer int64) func(ctx context.Context) ([]byte, error) {
		return func(ctx context.Context) ([]byte, error) {
			list, err := s.Store.Shouts(ctx, p)
			if err != nil {
				return nil, err
			}
			ids := make([]int64, len(list))
			for i, sh := range list {
				ids[i] = sh.ID
			}
			rs, err := s.reactions(ctx, KindShout, ids, viewer)
			if err != nil {
				return nil, err
			}
			views, err := withAuthors(ctx, s, list, func(sh Shout) int64 { return sh.UserID }, func(sh Shout, a Author) ShoutView {
				v := shoutView(sh, a)
				v.Reactions = orEmpty(rs[sh.ID])
				return v
			})
			if err != nil {
				return nil, err
			}
			return json.Marshal(page(views, p, func(v ShoutView) int64 { return v.ID }))
		}
	}
	if p.Before != 0 {
		return load(viewerID(viewer))(ctx)
	}
	b, err := s.Cache.Get(ctx, cache.Short, "shouts:"+strconv.Itoa(p.Limit), tagShouts, load(0))
	if err != nil {
		return nil, err
	}
	return withMine(ctx, s, b, viewer, KindShout, func(v *ShoutView) (int64, []ReactionCount) { return v.ID, v.Reactions })
}

// Shout posts a shout and publishes shout.created in the chat room.
func (s *Service) Shout(ctx context.Context, by account.User, body string) (ShoutView, error) {
	body, err := checkBody("body", body, MaxShout)
	if err != nil {
		return ShoutView{}, err
	}
	sh, err := s.Store.PostShout(ctx, Shout{UserID: by.ID, Body: body, CreatedAt: s.Now()})
	if err != nil {
		return ShoutView{}, err
	}
	s.Cache.InvalidateTag(ctx, tagShouts)
	views, err := withAuthors(ctx, s, []Shout{sh}, func(sh Shout) int64 { return sh.UserID }, shoutView)
	if err != nil {
		return ShoutView{}, err
	}
	s.publish(ctx, "chat", "shout.created", views[0])
	return views[0], nil
}

func shoutView(sh Shout, a Author) ShoutView {
	return ShoutView{ID: sh.ID, Body: sh.Body, CreatedAt: sh.CreatedAt, Author: a, Reactions: []ReactionCount{}}
}

// ---- contact inbox ----

// ContactInput is POST /api/contact's body.
type ContactInput struct {
	Name    string `json:"name"`
	Email   string `json:"email"`
	Message string `json:"message"`
}

// Contact stores a message for the admins.
func (s *Service) Contact(ctx context.Context, in ContactInput, ip string) (ContactMessage, error) {
	fe := apperr.FieldErrors{}
	in.Name, in.Email = strings.TrimSpace(in.Name), strings.ToLower(strings.TrimSpace(in.Email))
	if in.Name == "" || utf8.RuneCountInString(in.Name) > 100 {
		fe.Add("name", "must be 1 to 100 characters")
	} else if textcheck.HasControl(in.Name, "") { // shown in the admins' inbox, as the message is
		fe.Add("name", textcheck.Problem)
	}
	if a, err := mail.ParseAddress(in.Email); err != nil || a.Address != in.Email || len(in.Email) > 254 {
		fe.Add("email", "is not a valid email address")
	}
	msg, err := checkBody("message", in.Message, MaxContact)
	if err != nil {
		for k, v := range apperr.From(err).Fields {
			fe.Add(k, v)
		}
	}
	if err := fe.Err(); err != nil {
		return ContactMessage{}, err
	}
	return s.Store.AddContact(ctx, ContactMessage{Name: in.Name, Email: in.Email, Message: msg, IP: ip, CreatedAt: s.Now()})
}

// Inbox pages the contact messages (admins).
func (s *Service) Inbox(ctx context.Context, unreadOnly bool, p Page) (List[ContactMessage], error) {
	list, err := s.Store.ContactMessages(ctx, unreadOnly, p)
	if err != nil {
		return List[ContactMessage]{}, err
	}
	return page(list, p, func(m ContactMessage) int64 { return m.ID }), nil
}

// MarkContact sets a contact message's read flag.
func (s *Service) MarkContact(ctx context.Context, id int64, read bool) (ContactMessage, error) {
	return s.Store.SetContactRead(ctx, id, read)
}

// ---- real-time rooms ----

// CanJoin decides whether user may subscribe to room: their own user room,
// public channels and the ones they belong to, their own threads, and the
// public rooms.
func (s *Service) CanJoin(ctx context.Context, u account.User, room string) error {
	kind, rest, _ := strings.Cut(room, ":")
	id, _ := strconv.ParseInt(rest, 10, 64)
	denied := apperr.New(apperr.Forbidden, "you may not join "+room)
	switch {
	case room == "live-stream" || room == "chat" || room == "leaderboard":
		return nil
	case kind == "user" && id > 0:
		if id != u.ID {
			return denied
		}
		return nil
	case kind == "channel" && id > 0:
		if _, err := s.readable(ctx, &u, id); err != nil {
			if apperr.Is(err, apperr.NotFound) {
				return denied
			}
			return err
		}
		return nil
	case kind == "thread" && id > 0:
		if _, err := s.myThread(ctx, u, id); err != nil {
			if apperr.Is(err, apperr.NotFound) {
				return denied
			}
			return err
		}
		return nil
	}
	return apperr.New(apperr.NotFound, "no room "+room+"; rooms are user:{id}, channel:{id}, thread:{id}, live-stream, chat, leaderboard")
}
