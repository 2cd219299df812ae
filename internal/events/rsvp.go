package events

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/plazahq/plaza/internal/account"
	"github.com/plazahq/plaza/internal/apperr"
)

// ---- RSVPs ----

// RSVPView is POST /api/events/{id}/rsvp's answer.
type RSVPView struct {
	Status   Status `json:"status"`
	Position *int   `json:"position"` // place in the waitlist; null unless waitlisted
}

// RSVP records the caller's answer to an event that has not started.
// Going on a full event joins the waitlist; leaving a place hands it to
// the first waitlisted member, who hears of it in user:{id}
// (event.promoted) and by mail.
func (s *Service) RSVP(ctx context.Context, by account.User, id int64, status string) (RSVPView, error) {
	want := Status(status)
	if want != Going && want != Interested && want != NotGoing {
		return RSVPView{}, apperr.Invalid(map[string]string{"status": `must be "going", "interested" or "not_going"`})
	}
	e, err := s.event(ctx, id)
	if err != nil {
		return RSVPView{}, err
	}
	if !s.Now().Before(e.StartsAt) {
		return RSVPView{}, errStarted
	}
	res, err := s.Store.RSVP(ctx, id, by.ID, want, s.Now(), s)
	if apperr.Is(err, apperr.NotFound) {
		return RSVPView{}, errNotFound
	}
	if err != nil {
		return RSVPView{}, err
	}
	s.changed(ctx, id)
	s.promoted(ctx, e, res.Promoted)
	v := RSVPView{Status: res.Status}
	if res.Status == Waitlisted {
		v.Position = &res.Position
	}
	return v, nil
}

// PromotedEvent is event.promoted's data.
type PromotedEvent struct {
	EventID  int64     `json:"eventId"`
	Title    string    `json:"title"`
	StartsAt time.Time `json:"startsAt"`
	Status   Status    `json:"status"`
}

// promoted tells users moved off the waitlist (their mails are queued).
func (s *Service) promoted(ctx context.Context, e Event, users []int64) {
	if len(users) == 0 {
		return
	}
	s.Jobs.Notify(ctx)
	for _, u := range users {
		s.publish(ctx, account.UserRoom(u), "event.promoted", PromotedEvent{EventID: e.ID, Title: e.Title, StartsAt: e.StartsAt, Status: Going})
	}
}

// ---- the owner's side ----

// AttendeeView is one RSVP as the owner sees it.
type AttendeeView struct {
	User      Person    `json:"user"`
	Status    Status    `json:"status"`
	Position  *int      `json:"position"`
	Attended  bool      `json:"attended"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// Person is the display data of a user.
type Person struct {
	ID          int64  `json:"id"`
	Username    string `json:"username"`
	DisplayName string `json:"displayName"`
	AvatarURL   string `json:"avatarUrl"`
}

// ParseAttendeePage reads ?cursor=&limit=.
func ParseAttendeePage(cursor, limit string) (AttendeePage, error) {
	p := AttendeePage{Limit: DefaultLimit}
	fe := apperr.FieldErrors{}
	if cursor != "" {
		parts := strings.Split(cursor, ".")
		ok := len(parts) == 3
		var nums [3]int64
		for i := 0; ok && i < 3; i++ {
			n, err := strconv.ParseInt(parts[i], 10, 64)
			ok = err == nil && n >= 0
			nums[i] = n
		}
		if !ok || nums[0] < 1 || nums[0] > 4 {
			fe.Add("cursor", "must be a nextCursor from an earlier page")
		}
		p.AfterRank, p.AfterSeq, p.AfterUser = int(nums[0]), nums[1], nums[2]
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

// Attendees pages an event's RSVPs (owner or moderator): going, then the
// waitlist in order, then interested, then not going.
func (s *Service) Attendees(ctx context.Context, by account.User, id int64, p AttendeePage) (List[AttendeeView], error) {
	if _, err := s.editable(ctx, by, id); err != nil {
		return List[AttendeeView]{}, err
	}
	list, err := s.Store.Attendees(ctx, id, p)
	if err != nil {
		return List[AttendeeView]{}, err
	}
	ids := make([]int64, len(list))
	for i, a := range list {
		ids[i] = a.UserID
	}
	users, err := s.Users().LoadMany(ctx, ids)
	if err != nil {
		return List[AttendeeView]{}, err
	}
	out := List[AttendeeView]{Items: make([]AttendeeView, len(list))}
	for i, a := range list {
		u := users[a.UserID]
		v := AttendeeView{User: Person{ID: a.UserID, Username: u.Username, DisplayName: u.DisplayName, AvatarURL: s.AssetURL(u.AvatarURL)},
			Status: a.Status, Attended: a.Attended, UpdatedAt: a.UpdatedAt}
		if a.Status == Waitlisted {
			pos := a.Position
			v.Position = &pos
		}
		out.Items[i] = v
	}
	if len(list) == p.Limit {
		last := list[len(list)-1]
		out.NextCursor = strconv.Itoa(last.Status.Rank()) + "." + strconv.FormatInt(last.WaitSeq, 10) + "." + strconv.FormatInt(last.UserID, 10)
	}
	return out, nil
}

// MarkAttended records (owner only, once the event has started) that the
// users attended; each earns the attendance XP once per event. The owner
// is not among them.
func (s *Service) MarkAttended(ctx context.Context, by account.User, id int64, userIDs []int64) ([]Attendance, error) {
	switch {
	case len(userIDs) == 0:
		return nil, apperr.Invalid(map[string]string{"userIds": "is required: the ids of the users who attended"})
	case len(userIDs) > MaxAttendanceBatch:
		return nil, apperr.Invalid(map[string]string{"userIds": "at most " + strconv.Itoa(MaxAttendanceBatch) + " per call"})
	}
	for _, u := range userIDs {
		if u <= 0 {
			return nil, apperr.Invalid(map[string]string{"userIds": "must hold positive user ids"})
		}
	}
	e, err := s.event(ctx, id)
	if err != nil {
		return nil, err
	}
	if e.OwnerID != by.ID {
		return nil, apperr.New(apperr.Forbidden, "only the event's owner marks attendance")
	}
	// The owner earns nothing from their own event, as no one earns XP
	// for reacting to their own message or playing their own mix: else a
	// creator could mint XP with events of a minute each.
	if slices.Contains(userIDs, by.ID) {
		return nil, apperr.Invalid(map[string]string{"userIds": "must not hold your own id: the owner does not mark their own attendance"})
	}
	if s.Now().Before(e.StartsAt) {
		return nil, errNotStarted
	}
	out, err := s.Store.MarkAttended(ctx, id, userIDs, s.AttendanceXP, s.Now())
	if apperr.Is(err, apperr.NotFound) {
		return nil, errNotFound
	}
	if err != nil {
		return nil, err
	}
	for _, a := range out {
		if a.XPAwarded > 0 {
			s.Cache.InvalidateTag(ctx, account.XPTags(a.UserID, true)...) // the level may have moved
		}
	}
	return out, nil
}
