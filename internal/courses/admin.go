package courses

import (
	"context"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/plazahq/plaza/internal/apperr"
	"github.com/plazahq/plaza/internal/textcheck"
)

// Limits on what admins may store.
const (
	MaxTitle       = 200
	MaxSummary     = 2000
	MaxURL         = 512
	MaxBody        = 100_000 // characters of source
	MaxPriceCents  = 100_000_000
	MaxLevel       = 100
	MaxDurationSec = 7 * 24 * 3600
	MaxDripDays    = 3650
	MaxPosition    = 1_000_000
)

// UnlockInput is the unlock rule as admins send it.
type UnlockInput struct {
	Kind  string `json:"kind"`
	Level int    `json:"level"`
	At    string `json:"at"` // RFC 3339
}

// CourseInput is POST /api/admin/courses's body, and PATCH's, where absent
// fields stay as they are.
type CourseInput struct {
	Slug       *string      `json:"slug"`
	Title      *string      `json:"title"`
	Summary    *string      `json:"summary"`
	CoverURL   *string      `json:"coverUrl"` // an /uploads/ path from POST /api/uploads, or an http(s) URL
	PriceCents *int64       `json:"priceCents"`
	Currency   *string      `json:"currency"`
	Unlock     *UnlockInput `json:"unlock"`
	Published  *bool        `json:"published"`
}

// ModuleInput is POST /api/admin/courses/{id}/modules's body.
type ModuleInput struct {
	Title    string `json:"title"`
	Position int    `json:"position"` // 0: after the last
}

// LessonInput is POST /api/admin/modules/{id}/lessons's body, and PATCH
// /api/admin/lessons/{id}'s, where absent fields stay as they are.
type LessonInput struct {
	ModuleID    *int64  `json:"moduleId"` // PATCH only: move to another module of the course
	Title       *string `json:"title"`
	Body        *string `json:"body"`
	Format      *string `json:"format"` // markdown (default) or html
	VideoURL    *string `json:"videoUrl"`
	DurationSec *int    `json:"durationSec"`
	Preview     *bool   `json:"preview"`
	DripDays    *int    `json:"dripDays"`
	Position    *int    `json:"position"`
}

// AdminCourse is a course as admins see it: published or not, with every
// lesson's source and rendered body.
type AdminCourse struct {
	ID          int64         `json:"id"`
	Slug        string        `json:"slug"`
	Title       string        `json:"title"`
	Summary     string        `json:"summary"`
	CoverURL    string        `json:"coverUrl"`
	PriceCents  int64         `json:"priceCents"`
	Currency    string        `json:"currency"`
	Unlock      Unlock        `json:"unlock"`
	Published   bool          `json:"published"`
	LessonCount int           `json:"lessonCount"`
	CreatedAt   time.Time     `json:"createdAt"`
	UpdatedAt   time.Time     `json:"updatedAt"`
	Modules     []AdminModule `json:"modules"`
}

// AdminModule is a module as admins see it.
type AdminModule struct {
	ID       int64         `json:"id"`
	CourseID int64         `json:"courseId"`
	Title    string        `json:"title"`
	Position int           `json:"position"`
	Lessons  []AdminLesson `json:"lessons"`
}

// AdminLesson is a lesson as admins see it.
type AdminLesson struct {
	ID          int64     `json:"id"`
	CourseID    int64     `json:"courseId"`
	ModuleID    int64     `json:"moduleId"`
	Title       string    `json:"title"`
	Format      string    `json:"format"`
	Source      string    `json:"source"`
	Body        string    `json:"body"`
	VideoURL    string    `json:"videoUrl"`
	DurationSec int       `json:"durationSec"`
	Preview     bool      `json:"preview"`
	DripDays    int       `json:"dripDays"`
	Position    int       `json:"position"`
	CreatedAt   time.Time `json:"createdAt"`
	UpdatedAt   time.Time `json:"updatedAt"`
}

func (s *Service) adminLesson(l Lesson) AdminLesson {
	return AdminLesson{ID: l.ID, CourseID: l.CourseID, ModuleID: l.ModuleID, Title: l.Title, Format: l.Format, Source: l.Source,
		Body: l.HTML, VideoURL: s.assetURL(l.VideoURL), DurationSec: l.DurationSec, Preview: l.Preview, DripDays: l.DripDays,
		Position: l.Position, CreatedAt: l.CreatedAt, UpdatedAt: l.UpdatedAt}
}

func (s *Service) adminCourse(o Outline) AdminCourse {
	c := o.Course
	ac := AdminCourse{ID: c.ID, Slug: c.Slug, Title: c.Title, Summary: c.Summary, CoverURL: s.assetURL(c.CoverPath),
		PriceCents: c.PriceCents, Currency: c.Currency, Unlock: c.Unlock, Published: c.Published,
		CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt, Modules: make([]AdminModule, len(o.Modules))}
	for i, m := range o.Modules {
		am := AdminModule{ID: m.ID, CourseID: m.CourseID, Title: m.Title, Position: m.Position, Lessons: make([]AdminLesson, len(m.Lessons))}
		for j, l := range m.Lessons {
			am.Lessons[j] = s.adminLesson(l)
		}
		ac.LessonCount += len(m.Lessons)
		ac.Modules[i] = am
	}
	return ac
}

// AdminCourses lists every course, published or not, newest first.
func (s *Service) AdminCourses(ctx context.Context) ([]AdminCourse, error) {
	list, err := s.Store.Courses(ctx, false)
	if err != nil {
		return nil, err
	}
	out := make([]AdminCourse, len(list))
	for i, e := range list {
		out[i] = s.adminCourse(Outline{Course: e.Course})
		out[i].LessonCount = e.LessonCount
		out[i].Modules = nil
	}
	return out, nil
}

// AdminCourse returns a course with its modules and lessons, bodies
// included.
func (s *Service) AdminCourse(ctx context.Context, id int64) (AdminCourse, error) {
	o, err := s.Store.Outline(ctx, id, true)
	if err != nil {
		return AdminCourse{}, err
	}
	return s.adminCourse(o), nil
}

var slugRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,63}$`)

func slugify(title string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(title) {
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

// checkText validates a trimmed text field.
func checkText(fe apperr.FieldErrors, field, v string, max int, required bool) {
	switch {
	case v == "" && required:
		fe.Add(field, "is required")
	case !utf8.ValidString(v):
		fe.Add(field, "is not valid UTF-8")
	case utf8.RuneCountInString(v) > max:
		fe.Add(field, "must be at most "+strconv.Itoa(max)+" characters")
	case textcheck.HasControl(v, textcheck.Lines+"\r"):
		fe.Add(field, textcheck.Problem)
	}
}

// checkAsset validates an asset reference: an /uploads/ path or an http(s) URL.
func checkAsset(fe apperr.FieldErrors, field, v string) {
	if v == "" {
		return
	}
	if len(v) > MaxURL {
		fe.Add(field, "must be at most 512 characters")
		return
	}
	if strings.HasPrefix(v, "/uploads/") && !strings.Contains(v, "..") {
		return
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		fe.Add(field, "must be an http(s) URL or an /uploads/ path")
	}
}

var currencyRE = regexp.MustCompile(`^[a-z]{3}$`)

// applyCourse lays in over c and validates the result.
func applyCourse(c Course, in CourseInput) (Course, error) {
	fe := apperr.FieldErrors{}
	if in.Title != nil {
		c.Title = strings.TrimSpace(*in.Title)
	}
	if in.Summary != nil {
		c.Summary = strings.TrimSpace(*in.Summary)
	}
	if in.Slug != nil {
		c.Slug = strings.TrimSpace(*in.Slug)
	}
	if c.Slug == "" {
		c.Slug = slugify(c.Title)
	}
	if in.CoverURL != nil {
		c.CoverPath = strings.TrimSpace(*in.CoverURL)
	}
	if in.PriceCents != nil {
		c.PriceCents = *in.PriceCents
	}
	if in.Currency != nil {
		c.Currency = strings.ToLower(strings.TrimSpace(*in.Currency))
	}
	if in.Published != nil {
		c.Published = *in.Published
	}
	if in.Unlock != nil {
		u := Unlock{Kind: UnlockKind(in.Unlock.Kind)}
		switch u.Kind {
		case UnlockOpen, UnlockPurchase:
		case UnlockLevel:
			u.Level = in.Unlock.Level
			if u.Level < 1 || u.Level > MaxLevel {
				fe.Add("unlock.level", "must be a level from 1 to 100")
			}
		case UnlockDate:
			at, err := time.Parse(time.RFC3339, in.Unlock.At)
			if err != nil {
				fe.Add("unlock.at", "must be an RFC 3339 time")
			}
			at = at.UTC().Truncate(time.Millisecond)
			u.At = &at
		default:
			fe.Add("unlock.kind", "must be open, level, purchase or date")
		}
		c.Unlock = u
	}
	checkText(fe, "title", c.Title, MaxTitle, true)
	checkText(fe, "summary", c.Summary, MaxSummary, false)
	if !slugRE.MatchString(c.Slug) {
		fe.Add("slug", "must be 1 to 64 lowercase letters, digits or dashes")
	}
	checkAsset(fe, "coverUrl", c.CoverPath)
	if c.PriceCents < 0 || c.PriceCents > MaxPriceCents {
		fe.Add("priceCents", "must be from 0 to 100000000")
	}
	if !currencyRE.MatchString(c.Currency) {
		fe.Add("currency", "must be a three-letter ISO 4217 code, e.g. usd")
	}
	if c.Unlock.Kind == UnlockPurchase && c.PriceCents == 0 {
		fe.Add("priceCents", "must be set for a purchase course")
	}
	return c, fe.Err()
}

// CreateCourse creates a course (unpublished unless in says otherwise).
func (s *Service) CreateCourse(ctx context.Context, in CourseInput) (AdminCourse, error) {
	now := s.Now()
	c, err := applyCourse(Course{Currency: "usd", Unlock: Unlock{Kind: UnlockOpen}, CreatedAt: now, UpdatedAt: now}, in)
	if err != nil {
		return AdminCourse{}, err
	}
	c, err = s.Store.CreateCourse(ctx, c)
	if err != nil {
		return AdminCourse{}, err
	}
	s.edited(ctx)
	return s.adminCourse(Outline{Course: c}), nil
}

// UpdateCourse changes the fields in sets, publishing or withdrawing it.
func (s *Service) UpdateCourse(ctx context.Context, id int64, in CourseInput) (AdminCourse, error) {
	c, err := s.Store.Course(ctx, id)
	if err != nil {
		return AdminCourse{}, err
	}
	if c, err = applyCourse(c, in); err != nil {
		return AdminCourse{}, err
	}
	c.UpdatedAt = s.Now()
	if _, err := s.Store.UpdateCourse(ctx, c); err != nil {
		return AdminCourse{}, err
	}
	s.edited(ctx)
	return s.AdminCourse(ctx, id)
}

// CreateModule adds a module to a course.
func (s *Service) CreateModule(ctx context.Context, courseID int64, in ModuleInput) (AdminModule, error) {
	fe := apperr.FieldErrors{}
	in.Title = strings.TrimSpace(in.Title)
	checkText(fe, "title", in.Title, MaxTitle, true)
	if in.Position < 0 || in.Position > MaxPosition {
		fe.Add("position", "must be from 0 to 1000000")
	}
	if err := fe.Err(); err != nil {
		return AdminModule{}, err
	}
	m, err := s.Store.CreateModule(ctx, Module{CourseID: courseID, Title: in.Title, Position: in.Position, CreatedAt: s.Now()})
	if err != nil {
		return AdminModule{}, err
	}
	s.edited(ctx)
	return AdminModule{ID: m.ID, CourseID: m.CourseID, Title: m.Title, Position: m.Position, Lessons: []AdminLesson{}}, nil
}

// applyLesson lays in over l, validates the result and renders its body.
func (s *Service) applyLesson(l Lesson, in LessonInput) (Lesson, error) {
	fe := apperr.FieldErrors{}
	if in.Title != nil {
		l.Title = strings.TrimSpace(*in.Title)
	}
	rerender := false
	if in.Body != nil {
		l.Source, rerender = *in.Body, true
	}
	if in.Format != nil {
		l.Format, rerender = *in.Format, true
	}
	if in.VideoURL != nil {
		l.VideoURL = strings.TrimSpace(*in.VideoURL)
	}
	if in.DurationSec != nil {
		l.DurationSec = *in.DurationSec
	}
	if in.Preview != nil {
		l.Preview = *in.Preview
	}
	if in.DripDays != nil {
		l.DripDays = *in.DripDays
	}
	if in.Position != nil {
		l.Position = *in.Position
	}
	checkText(fe, "title", l.Title, MaxTitle, true)
	checkText(fe, "body", l.Source, MaxBody, false)
	if l.Format != FormatMarkdown && l.Format != FormatHTML {
		fe.Add("format", "must be markdown or html")
	}
	checkAsset(fe, "videoUrl", l.VideoURL)
	if l.DurationSec < 0 || l.DurationSec > MaxDurationSec {
		fe.Add("durationSec", "must be from 0 to 604800")
	}
	if l.DripDays < 0 || l.DripDays > MaxDripDays {
		fe.Add("dripDays", "must be from 0 to 3650")
	}
	if l.Position < 0 || l.Position > MaxPosition {
		fe.Add("position", "must be from 0 to 1000000")
	}
	if err := fe.Err(); err != nil {
		return l, err
	}
	if rerender {
		html, err := s.render.Render(l.Format, l.Source)
		if err != nil {
			return l, err
		}
		l.HTML = html
	}
	return l, nil
}

// CreateLesson adds a lesson to a module.
func (s *Service) CreateLesson(ctx context.Context, moduleID int64, in LessonInput) (AdminLesson, error) {
	if in.ModuleID != nil {
		return AdminLesson{}, apperr.Invalid(map[string]string{"moduleId": "is taken from the path"})
	}
	if in.Body == nil {
		in.Body = new(string)
	}
	now := s.Now()
	l, err := s.applyLesson(Lesson{ModuleID: moduleID, Format: FormatMarkdown, CreatedAt: now, UpdatedAt: now}, in)
	if err != nil {
		return AdminLesson{}, err
	}
	if l, err = s.Store.CreateLesson(ctx, l); err != nil {
		return AdminLesson{}, err
	}
	s.edited(ctx)
	return s.adminLesson(l), nil
}

// UpdateLesson changes the fields in sets; a new body or format is
// rendered again.
func (s *Service) UpdateLesson(ctx context.Context, id int64, in LessonInput) (AdminLesson, error) {
	l, err := s.Store.Lesson(ctx, id)
	if err != nil {
		return AdminLesson{}, err
	}
	if in.ModuleID != nil {
		l.ModuleID = *in.ModuleID
	}
	if l, err = s.applyLesson(l, in); err != nil {
		return AdminLesson{}, err
	}
	l.UpdatedAt = s.Now()
	if l, err = s.Store.UpdateLesson(ctx, l); err != nil {
		return AdminLesson{}, err
	}
	s.edited(ctx)
	return s.adminLesson(l), nil
}

// DeleteLesson removes a lesson and its completions (XP already awarded
// stays: the ledger is append-only).
func (s *Service) DeleteLesson(ctx context.Context, id int64) error {
	// Completed counts drop, for every reader: the catalog's tag is part of
	// each reader's progress version, so its move reaches every instance.
	// Both run on errors too (an error may hide a commit).
	defer s.sharedWrite(ctx, tagCatalog)
	defer s.progressMemo.wroteAll()
	_, err := s.Store.DeleteLesson(ctx, id)
	return err
}
