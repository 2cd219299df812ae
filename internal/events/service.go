package events

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/plazahq/plaza/internal/account"
	"github.com/plazahq/plaza/internal/apperr"
	"github.com/plazahq/plaza/internal/batch"
	"github.com/plazahq/plaza/internal/cache"
	"github.com/plazahq/plaza/internal/textcheck"
)

// Limits on what an event may hold.
const (
	MaxTitle       = 120
	MaxDescription = 5000
	MaxLocation    = 200
	MaxStreamURL   = 500
	MaxCapacity    = 1_000_000
	// MaxDuration bounds an event's length; lists rely on it to scan the
	// start-time index from a bounded point.
	MaxDuration = 31 * 24 * time.Hour
	// MaxAttendanceBatch bounds the users one attendance call marks.
	MaxAttendanceBatch = 1000
	DefaultLimit       = 50
	MaxLimit           = 100
	// DefaultAttendanceXP is what attending awards unless configured.
	DefaultAttendanceXP = 20
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

// Notifier wakes job workers after a commit (jobs.Queue).
type Notifier interface{ Notify(ctx context.Context) }

// Deps are the service's collaborators.
type Deps struct {
	Store     Store
	Users     func() *batch.Loader[int64, account.User] // account.Service.UserLoader
	Publisher Publisher
	Jobs      Notifier
	Cache     Cache
	AssetURL  func(path string) string // media.URLs.URL
	BaseURL   string                   // links in mails
	// AttendanceXP is awarded once per user per event attended
	// (PLAZA_XP_ATTENDANCE); negative means the default.
	AttendanceXP int64
	Now          func() time.Time
	Log          *slog.Logger
}

// Service is the events business logic.
type Service struct {
	Deps
}

// NewService checks deps and returns the service.
func NewService(d Deps) (*Service, error) {
	if d.Store == nil || d.Users == nil || d.Publisher == nil || d.Jobs == nil || d.Cache == nil || d.Log == nil {
		return nil, errors.New("events: store, users, publisher, jobs, cache and log are required")
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.AssetURL == nil {
		d.AssetURL = func(p string) string { return p }
	}
	if d.AttendanceXP < 0 {
		d.AttendanceXP = DefaultAttendanceXP
	}
	return &Service{d}, nil
}

// Error codes of the events rules.
var (
	errNotFound   = apperr.New(apperr.NotFound, "event not found")
	errStarted    = apperr.New(apperr.EventStarted, "the event has started; RSVPs are closed")
	errNotStarted = apperr.New(apperr.EventNotStarted, "attendance can be marked once the event has started")
)

// View is an event as clients see it; MyRSVP and MyWaitlistPosition
// describe the caller (null when anonymous or without an answer; the
// position only while the caller is waitlisted). They are laid over the
// cached event for each viewer, never cached.
type View struct {
	ID          int64     `json:"id"`
	OwnerID     int64     `json:"ownerId"`
	Title       string    `json:"title"`
	Description string    `json:"description"`
	StartsAt    time.Time `json:"startsAt"`
	EndsAt      time.Time `json:"endsAt"`
	Location    string    `json:"location"`
	StreamURL   string    `json:"streamUrl"`
	Capacity    *int      `json:"capacity"`
	Going       int       `json:"going"`
	Waitlisted  int       `json:"waitlisted"`
	MyRSVP      *Status   `json:"myRsvp"`
	MyPosition  *int      `json:"myWaitlistPosition"`
}

func view(e Event) View {
	return View{ID: e.ID, OwnerID: e.OwnerID, Title: e.Title, Description: e.Description, StartsAt: e.StartsAt, EndsAt: e.EndsAt,
		Location: e.Location, StreamURL: e.StreamURL, Capacity: e.Capacity, Going: e.Going, Waitlisted: e.Waitlisted}
}

// List is a page of items; NextCursor, when set, continues it.
type List[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"nextCursor,omitempty"`
}

// Cache tags: every list, and one event's detail.
const tagEvents = "events"

func tagEvent(id int64) string { return "event:" + strconv.FormatInt(id, 10) }

func (s *Service) changed(ctx context.Context, id int64) {
	s.Cache.InvalidateTag(ctx, tagEvents, tagEvent(id))
}

// publish sends a real-time event after a committed write; the write
// stands if delivery fails.
func (s *Service) publish(ctx context.Context, room, typ string, data any) {
	if err := s.Publisher.Publish(ctx, room, typ, data); err != nil {
		s.Log.Warn("event not published", "room", room, "type", typ, "err", err)
	}
}

func isModerator(u account.User) bool { return u.Role.AtLeast(account.RoleModerator) }

// ---- reading ----

// ParseList reads ?from=&to=&cursor=&limit=.
func ParseList(from, to, cursor, limit string) (Range, error) {
	r := Range{Limit: DefaultLimit}
	fe := apperr.FieldErrors{}
	if from != "" {
		t, err := time.Parse(time.RFC3339, from)
		if err != nil {
			fe.Add("from", "must be an RFC 3339 time, e.g. 2026-05-01T20:00:00Z")
		}
		r.From = t
	}
	if to != "" {
		t, err := time.Parse(time.RFC3339, to)
		if err != nil {
			fe.Add("to", "must be an RFC 3339 time, e.g. 2026-05-01T20:00:00Z")
		}
		r.To = t
	}
	if !r.From.IsZero() && !r.To.IsZero() && !r.To.After(r.From) {
		fe.Add("to", "must be after from")
	}
	if cursor != "" {
		start, id, ok := strings.Cut(cursor, ".")
		sm, err1 := strconv.ParseInt(start, 10, 64)
		n, err2 := strconv.ParseInt(id, 10, 64)
		if !ok || err1 != nil || err2 != nil || n <= 0 {
			fe.Add("cursor", "must be a nextCursor from an earlier page")
		}
		r.AfterStart, r.AfterID = time.UnixMilli(sm).UTC(), n
	}
	if limit != "" {
		n, err := strconv.Atoi(limit)
		if err != nil || n < 1 {
			fe.Add("limit", "must be a whole number from 1 to 100")
		}
		r.Limit = min(n, MaxLimit)
	}
	return r, fe.Err()
}

// List returns the events overlapping r (from now on when r.From is zero),
// by start, as JSON. The page is cached (medium tier) and dropped by every
// event write; the caller's own RSVPs are laid over it with one query.
func (s *Service) List(ctx context.Context, viewer *account.User, r Range) ([]byte, error) {
	if r.From.IsZero() {
		// "Now" to the minute, so that the cached page can be shared.
		r.From = s.Now().UTC().Truncate(time.Minute)
	}
	to := "-"
	if !r.To.IsZero() {
		to = strconv.FormatInt(r.To.UnixMilli(), 10)
	}
	key := "events:" + strconv.FormatInt(r.From.UnixMilli(), 10) + ":" + to + ":" + strconv.FormatInt(r.AfterStart.UnixMilli(), 10) + "." +
		strconv.FormatInt(r.AfterID, 10) + ":" + strconv.Itoa(r.Limit)
	var over func(context.Context, *List[View]) error
	if viewer != nil {
		over = func(ctx context.Context, l *List[View]) error { return s.overlay(ctx, viewer.ID, l.Items) }
	}
	return cache.GetOverlaidJSON(ctx, s.Cache, cache.Medium, key, tagEvents, func(ctx context.Context) (List[View], error) {
		list, err := s.Store.Events(ctx, r)
		if err != nil {
			return List[View]{}, err
		}
		out := List[View]{Items: make([]View, len(list))}
		for i, e := range list {
			out.Items[i] = view(e)
		}
		if len(list) == r.Limit {
			last := list[len(list)-1]
			out.NextCursor = strconv.FormatInt(last.StartsAt.UnixMilli(), 10) + "." + strconv.FormatInt(last.ID, 10)
		}
		return out, nil
	}, over)
}

// overlay sets MyRSVP (and MyPosition when waitlisted) on views for user,
// in one query.
func (s *Service) overlay(ctx context.Context, user int64, views []View) error {
	if len(views) == 0 {
		return nil
	}
	ids := make([]int64, len(views))
	for i, v := range views {
		ids[i] = v.ID
	}
	mine, err := s.Store.MyRSVPs(ctx, user, ids)
	if err != nil {
		return err
	}
	for i := range views {
		if m, ok := mine[views[i].ID]; ok {
			views[i].MyRSVP = &m.Status
			if m.Status == Waitlisted {
				views[i].MyPosition = &m.Position
			}
		}
	}
	return nil
}

// Get returns one event (cached like the list) with the caller's RSVP.
func (s *Service) Get(ctx context.Context, viewer *account.User, id int64) (View, error) {
	var over func(context.Context, *View) error
	if viewer != nil {
		over = func(ctx context.Context, v *View) error {
			views := []View{*v}
			err := s.overlay(ctx, viewer.ID, views)
			*v = views[0]
			return err
		}
	}
	v, err := cache.GetOverlaid(ctx, s.Cache, cache.Medium, tagEvent(id), tagEvent(id), func(ctx context.Context) (View, error) {
		e, err := s.Store.Event(ctx, id)
		if err != nil {
			return View{}, err
		}
		return view(e), nil
	}, over)
	if apperr.Is(err, apperr.NotFound) {
		return View{}, errNotFound
	}
	if err != nil {
		return View{}, err
	}
	return v, nil
}

func (s *Service) event(ctx context.Context, id int64) (Event, error) {
	e, err := s.Store.Event(ctx, id)
	if apperr.Is(err, apperr.NotFound) {
		return Event{}, errNotFound
	}
	return e, err
}

// ---- writing ----

// Input is POST /api/events's body and PATCH's: absent fields are
// required on create and unchanged on patch. Capacity is a whole number
// or null (unlimited); times are RFC 3339.
type Input struct {
	Title       *string         `json:"title"`
	Description *string         `json:"description"`
	Location    *string         `json:"location"`
	StreamURL   *string         `json:"streamUrl"`
	StartsAt    *string         `json:"startsAt"`
	EndsAt      *string         `json:"endsAt"`
	Capacity    json.RawMessage `json:"capacity"`
}

// checkText trims and validates a text field (empty allowed unless required).
func checkText(fe apperr.FieldErrors, field string, v *string, max int, required, multiline bool) {
	if v == nil {
		return
	}
	*v = strings.TrimSpace(*v)
	switch {
	case required && *v == "":
		fe.Add(field, "is required")
	case !utf8.ValidString(*v):
		fe.Add(field, "is not valid UTF-8")
	case utf8.RuneCountInString(*v) > max:
		fe.Add(field, "must be at most "+strconv.Itoa(max)+" characters")
	}
	allowed := ""
	if multiline {
		allowed = textcheck.Lines
	}
	if textcheck.HasControl(*v, allowed) {
		fe.Add(field, textcheck.Problem)
	}
}

func checkStreamURL(fe apperr.FieldErrors, v *string) {
	if v == nil || *v == "" {
		return
	}
	u, err := url.Parse(*v)
	switch {
	case len(*v) > MaxStreamURL:
		fe.Add("streamUrl", "must be at most "+strconv.Itoa(MaxStreamURL)+" characters")
	case err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || strings.ContainsAny(*v, " \t\r\n"):
		fe.Add("streamUrl", "must be an https:// URL")
	}
}

func parseTime(fe apperr.FieldErrors, field string, v *string) *time.Time {
	if v == nil {
		return nil
	}
	t, err := time.Parse(time.RFC3339, strings.TrimSpace(*v))
	if err != nil {
		fe.Add(field, "must be an RFC 3339 time, e.g. 2026-05-01T20:00:00Z")
		return nil
	}
	t = t.UTC().Truncate(time.Millisecond)
	return &t
}

// parseCapacity reads capacity: set reports whether it was sent.
func parseCapacity(fe apperr.FieldErrors, raw json.RawMessage) (c *int, set bool) {
	if len(raw) == 0 {
		return nil, false
	}
	if string(raw) == "null" {
		return nil, true
	}
	var n int64
	if err := json.Unmarshal(raw, &n); err != nil || n < 1 || n > MaxCapacity {
		fe.Add("capacity", "must be a whole number from 1 to "+strconv.Itoa(MaxCapacity)+", or null for unlimited")
		return nil, true
	}
	v := int(n)
	return &v, true
}

// checkTimes validates the times an event would have after a write; moved
// reports whether its start is new (a new start must be in the future).
func (s *Service) checkTimes(fe apperr.FieldErrors, starts, ends time.Time, moved bool) {
	if _, bad := fe["startsAt"]; bad {
		return
	}
	if _, bad := fe["endsAt"]; bad {
		return
	}
	switch {
	case moved && !starts.After(s.Now()):
		fe.Add("startsAt", "must be in the future")
	case !ends.After(starts):
		fe.Add("endsAt", "must be after startsAt")
	case ends.Sub(starts) > MaxDuration:
		fe.Add("endsAt", "an event lasts at most 31 days")
	}
}

// Create publishes an event (creators and above) and schedules its
// reminder.
func (s *Service) Create(ctx context.Context, by account.User, in Input) (View, error) {
	if !by.Role.AtLeast(account.RoleCreator) {
		return View{}, apperr.New(apperr.Forbidden, "only creators publish events")
	}
	fe := apperr.FieldErrors{}
	if in.Title == nil {
		fe.Add("title", "is required")
	}
	if in.StartsAt == nil {
		fe.Add("startsAt", "is required")
	}
	if in.EndsAt == nil {
		fe.Add("endsAt", "is required")
	}
	empty := ""
	for _, p := range []**string{&in.Description, &in.Location, &in.StreamURL} {
		if *p == nil {
			*p = &empty
		}
	}
	checkText(fe, "title", in.Title, MaxTitle, true, false)
	checkText(fe, "description", in.Description, MaxDescription, false, true)
	checkText(fe, "location", in.Location, MaxLocation, false, false)
	checkStreamURL(fe, in.StreamURL)
	starts, ends := parseTime(fe, "startsAt", in.StartsAt), parseTime(fe, "endsAt", in.EndsAt)
	capacity, _ := parseCapacity(fe, in.Capacity)
	if starts != nil && ends != nil {
		s.checkTimes(fe, *starts, *ends, true)
	}
	if err := fe.Err(); err != nil {
		return View{}, err
	}
	e, err := s.Store.CreateEvent(ctx, Event{OwnerID: by.ID, Title: *in.Title, Description: *in.Description, Location: *in.Location,
		StreamURL: *in.StreamURL, StartsAt: *starts, EndsAt: *ends, Capacity: capacity, CreatedAt: s.Now()}, s)
	if err != nil {
		return View{}, err
	}
	s.Jobs.Notify(ctx)
	s.changed(ctx, e.ID)
	return view(e), nil
}

// editable returns the event if by owns it or moderates.
func (s *Service) editable(ctx context.Context, by account.User, id int64) (Event, error) {
	e, err := s.event(ctx, id)
	if err != nil {
		return Event{}, err
	}
	if e.OwnerID != by.ID && !isModerator(by) {
		return Event{}, apperr.New(apperr.Forbidden, "only the event's owner or a moderator may change it")
	}
	return e, nil
}

// Update changes an event (owner or moderator). Moving it schedules a new
// reminder (the old one finds the start changed and stays silent); a
// larger capacity promotes from the waitlist.
func (s *Service) Update(ctx context.Context, by account.User, id int64, in Input) (View, error) {
	e, err := s.editable(ctx, by, id)
	if err != nil {
		return View{}, err
	}
	fe := apperr.FieldErrors{}
	checkText(fe, "title", in.Title, MaxTitle, true, false)
	checkText(fe, "description", in.Description, MaxDescription, false, true)
	checkText(fe, "location", in.Location, MaxLocation, false, false)
	checkStreamURL(fe, in.StreamURL)
	p := Patch{Title: in.Title, Description: in.Description, Location: in.Location, StreamURL: in.StreamURL,
		StartsAt: parseTime(fe, "startsAt", in.StartsAt), EndsAt: parseTime(fe, "endsAt", in.EndsAt)}
	p.Capacity, p.SetCapacity = parseCapacity(fe, in.Capacity)
	starts, ends := e.StartsAt, e.EndsAt
	if p.StartsAt != nil {
		starts = *p.StartsAt
	}
	if p.EndsAt != nil {
		ends = *p.EndsAt
	}
	if p.StartsAt != nil || p.EndsAt != nil {
		s.checkTimes(fe, starts, ends, !starts.Equal(e.StartsAt))
	}
	if err := fe.Err(); err != nil {
		return View{}, err
	}
	e, promoted, err := s.Store.UpdateEvent(ctx, id, p, s.Now(), s)
	if apperr.Is(err, apperr.NotFound) {
		return View{}, errNotFound
	}
	if err != nil {
		return View{}, err
	}
	s.Jobs.Notify(ctx)
	s.changed(ctx, id)
	s.promoted(ctx, e, promoted)
	return view(e), nil
}

// Delete removes an event (owner or moderator); its reminder finds it
// gone and stays silent.
func (s *Service) Delete(ctx context.Context, by account.User, id int64) error {
	if _, err := s.editable(ctx, by, id); err != nil {
		return err
	}
	err := s.Store.DeleteEvent(ctx, id)
	if apperr.Is(err, apperr.NotFound) {
		return errNotFound
	}
	if err != nil {
		return err
	}
	s.changed(ctx, id)
	return nil
}
