package courses

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"time"

	"github.com/plazahq/plaza/internal/account"
	"github.com/plazahq/plaza/internal/apperr"
	"github.com/plazahq/plaza/internal/batch"
	"github.com/plazahq/plaza/internal/cache"
)

// Cache is the response cache (cache.Cache).
type Cache interface {
	Get(ctx context.Context, tier cache.Tier, key, tag string, load func(context.Context) ([]byte, error)) ([]byte, error)
	InvalidateTag(ctx context.Context, tags ...string)
	// Shared reports whether other instances share the cache (Redis);
	// TagVersions reads tags' shared versions in one round trip, and
	// InvalidateTagSync moves them before it returns.
	Shared() bool
	TagVersions(ctx context.Context, tags []string) ([]int64, error)
	InvalidateTagSync(ctx context.Context, wait time.Duration, tags ...string) error
}

// Publisher sends a real-time event to a room (realtime.Hub).
type Publisher interface {
	Publish(ctx context.Context, room, typ string, data any) error
}

// Config tunes the service; zero values take the defaults.
type Config struct {
	LessonXP int64 // XP for completing a lesson (default 10)
	CourseXP int64 // XP for completing every lesson of a course (default 50)
	// ProgressTTL is how long a reader's progress is kept in this process
	// for their next catalog read (default 5s; negative: not kept, every
	// signed-in read queries). With several instances each kept entry is
	// checked against a version in Redis on every read: see progressMemo.
	ProgressTTL time.Duration
}

// Deps are the service's collaborators. Publisher is optional.
type Deps struct {
	Store     Store
	Cache     Cache
	Publisher Publisher
	AssetURL  func(path string) string // media.URLs.URL
	Now       func() time.Time
	Log       *slog.Logger
}

// Service is the courses business logic.
type Service struct {
	Deps
	cfg      Config
	render   *Renderer
	catalog  memo[*catalogPage]
	outlines memo[*cachedOutline]
	// progressMemo is nil when Config.ProgressTTL is negative.
	progressMemo *progressMemo
	// progressVersions reads readers' progress versions, many readers'
	// in one round trip; nil unless the cache is shared (Redis).
	progressVersions *batch.Coalescer[int64, progressVersion]
}

// NewService checks deps and returns the service.
func NewService(cfg Config, d Deps) (*Service, error) {
	if d.Store == nil || d.Cache == nil || d.Log == nil {
		return nil, errors.New("courses: store, cache and log are required")
	}
	if cfg.LessonXP == 0 {
		cfg.LessonXP = 10
	}
	if cfg.CourseXP == 0 {
		cfg.CourseXP = 50
	}
	if cfg.LessonXP < 0 || cfg.CourseXP < 0 {
		return nil, errors.New("courses: XP amounts must not be negative")
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.AssetURL == nil {
		d.AssetURL = func(p string) string { return p }
	}
	if cfg.ProgressTTL == 0 {
		cfg.ProgressTTL = 5 * time.Second
	}
	s := &Service{cfg: cfg, Deps: d, render: NewRenderer()}
	if cfg.ProgressTTL > 0 {
		s.progressMemo = newProgressMemo(cfg.ProgressTTL, d.Now)
		if d.Cache.Shared() {
			s.progressVersions = batch.NewCoalescer(s.fetchProgressVersions, 500, 1)
		}
	}
	return s, nil
}

// tagCatalog is the cache tag of everything the catalog caches: the list,
// each outline, each lesson body. Every admin edit invalidates it.
const tagCatalog = "courses"

func (s *Service) edited(ctx context.Context) { s.Cache.InvalidateTag(ctx, tagCatalog) }

var errNoCourse = apperr.New(apperr.NotFound, "course not found")

func errNoLesson() error { return apperr.New(apperr.NotFound, "lesson not found") }

// ---- enrollment ----

// EnrollView is what POST /api/courses/{id}/enroll answers.
type EnrollView struct {
	CourseID   int64     `json:"courseId"`
	EnrolledAt time.Time `json:"enrolledAt"`
}

// Enroll enrolls by in a published course, if its unlock rule admits them;
// created is false when they were enrolled already.
func (s *Service) Enroll(ctx context.Context, by account.User, courseID int64) (EnrollView, bool, error) {
	if _, err := s.outline(ctx, courseID); err != nil {
		return EnrollView{}, false, err
	}
	now := s.Now()
	defer s.progressWritten(ctx, by.ID)
	e, created, err := s.Store.Enroll(ctx, by.ID, courseID, now, func(a Admission) error { return admit(a, now) })
	if err != nil {
		return EnrollView{}, false, err
	}
	return EnrollView{CourseID: e.CourseID, EnrolledAt: e.EnrolledAt}, created, nil
}

// admit applies a course's unlock rule to an enrolling user.
func admit(a Admission, now time.Time) error {
	c := a.Course
	if !c.Published {
		return errNoCourse
	}
	switch c.Unlock.Kind {
	case UnlockLevel:
		if a.Level < c.Unlock.Level {
			return &apperr.Error{Code: apperr.LevelRequired, Message: "this course needs level " + strconv.Itoa(c.Unlock.Level) + "; you are level " + strconv.Itoa(a.Level),
				Details: map[string]any{"level": c.Unlock.Level}}
		}
	case UnlockPurchase:
		if !a.Granted {
			return &apperr.Error{Code: apperr.PaymentRequired, Message: "this course must be bought before enrolling",
				Details: map[string]any{"priceCents": c.PriceCents, "currency": c.Currency}}
		}
	case UnlockDate:
		if c.Unlock.At != nil && now.Before(*c.Unlock.At) {
			return &apperr.Error{Code: apperr.Locked, Message: "this course opens at " + c.Unlock.At.Format(time.RFC3339),
				Details: map[string]any{"unlocksAt": *c.Unlock.At}}
		}
	}
	return nil
}

// ---- completion ----

// CompleteView is what POST .../lessons/{lessonId}/complete answers.
type CompleteView struct {
	Progress        Progress `json:"progress"`
	XPAwarded       int64    `json:"xpAwarded"`
	CourseCompleted bool     `json:"courseCompleted"`
}

// lockedError is the 403 for a lesson that is locked for the caller.
func lockedError(l Lock) error {
	d := map[string]any{"lockedReason": l.Reason}
	if l.UnlocksAt != nil {
		d["unlocksAt"] = *l.UnlocksAt
	}
	msg := map[string]string{
		ReasonNotEnrolled:      "enroll in the course first",
		ReasonLevelRequired:    "this course needs a higher level",
		ReasonPurchaseRequired: "this course must be bought first",
		ReasonDrip:             "this lesson opens later",
	}[l.Reason]
	return &apperr.Error{Code: apperr.Locked, Message: "this lesson is locked: " + msg, Details: d}
}

// Complete marks a lesson complete for by and awards its XP (and the
// course's, with the last lesson), once. The caller must be enrolled and
// the lesson open to them.
func (s *Service) Complete(ctx context.Context, by account.User, courseID, lessonID int64) (CompleteView, error) {
	o, err := s.outline(ctx, courseID)
	if err != nil {
		return CompleteView{}, err
	}
	if _, ok := o.lesson(lessonID); !ok {
		return CompleteView{}, errNoLesson()
	}
	now := s.Now()
	defer s.progressWritten(ctx, by.ID)
	res, err := s.Store.Complete(ctx, Completion{UserID: by.ID, CourseID: courseID, LessonID: lessonID, At: now,
		LessonXP: s.cfg.LessonXP, CourseXP: s.cfg.CourseXP}, func(g Gate) error {
		if !g.Enrolled { // even a preview lesson: progress belongs to an enrollment
			return lockedError(Lock{Locked: true, Reason: ReasonNotEnrolled})
		}
		v := Viewer{SignedIn: true, Level: by.Level, Enrolled: true, EnrolledAt: g.EnrolledAt, Granted: g.Granted}
		if l := LessonLock(o.course(), g.Lesson, v, now); l.Locked {
			return lockedError(l)
		}
		return nil
	})
	if err != nil {
		return CompleteView{}, err
	}
	if res.XPAwarded > 0 {
		// Profiles carry xp and level, cached sessions the level.
		s.Cache.InvalidateTag(ctx, account.XPTags(by.ID, res.Level != res.PrevLevel)...)
		if res.Level > res.PrevLevel && s.Publisher != nil {
			if err := s.Publisher.Publish(ctx, account.UserRoom(by.ID), "level.up", map[string]any{"level": res.Level, "xp": res.XP}); err != nil {
				s.Log.Warn("level.up not published", "user", by.ID, "err", err)
			}
		}
	}
	return CompleteView{Progress: Progress{Completed: res.Completed, Total: res.Total}, XPAwarded: res.XPAwarded, CourseCompleted: res.CourseCompleted}, nil
}

// ---- grants (payments) ----

// Grant opens a purchase course to a user: the payments code calls it when
// a checkout for the course is paid (source "stripe", ref the session id).
// Granting twice is harmless; false means a grant existed.
func (s *Service) Grant(ctx context.Context, userID, courseID int64, source, ref string) (bool, error) {
	if source == "" || len(source) > 32 || len(ref) > 64 {
		return false, apperr.Invalid(map[string]string{"source": "must be 1-32 bytes, ref at most 64"})
	}
	defer s.progressWritten(ctx, userID)
	return s.Store.Grant(ctx, userID, courseID, source, ref, s.Now())
}

// RevokeGrant takes a grant back (a refund): the course's lessons lock
// again for the user, enrolled or not.
func (s *Service) RevokeGrant(ctx context.Context, userID, courseID int64) (bool, error) {
	defer s.progressWritten(ctx, userID)
	return s.Store.RevokeGrant(ctx, userID, courseID)
}
