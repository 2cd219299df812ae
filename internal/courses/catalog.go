package courses

import (
	"bytes"
	"context"
	"encoding/json"
	"strconv"
	"sync"
	"time"

	"github.com/plazahq/plaza/internal/account"
	"github.com/plazahq/plaza/internal/apperr"
	"github.com/plazahq/plaza/internal/cache"
)

// The catalog is cached as JSON in the long tier under tagCatalog, the same
// bytes for every caller. Per request, the caller's part (enrolled,
// progress, completed, locks) comes from one small query and is laid over
// it. Decoding the cached JSON on every request would cost more than the
// query, so each distinct cached value is decoded once and kept (memo),
// keyed by the bytes themselves: a new value after an edit is decoded
// once, on every instance.

// Progress is how far the caller is in a course; zeros when not enrolled.
type Progress struct {
	Completed int `json:"completed"`
	Total     int `json:"total"`
}

// CourseView is a course in the catalog as a caller sees it.
type CourseView struct {
	ID          int64    `json:"id"`
	Slug        string   `json:"slug"`
	Title       string   `json:"title"`
	Summary     string   `json:"summary"`
	CoverURL    string   `json:"coverUrl"`
	PriceCents  int64    `json:"priceCents"`
	Currency    string   `json:"currency"`
	Unlock      Unlock   `json:"unlock"`
	LessonCount int      `json:"lessonCount"`
	Enrolled    bool     `json:"enrolled"`
	Progress    Progress `json:"progress"`
}

// LessonSummary is a lesson in a course's outline, for one caller.
type LessonSummary struct {
	ID           int64      `json:"id"`
	Title        string     `json:"title"`
	DurationSec  int        `json:"durationSec"`
	Preview      bool       `json:"preview"`
	Completed    bool       `json:"completed"`
	Locked       bool       `json:"locked"`
	LockedReason *string    `json:"lockedReason"`
	UnlocksAt    *time.Time `json:"unlocksAt"`
}

// ModuleView is a module in a course's outline.
type ModuleView struct {
	ID      int64           `json:"id"`
	Title   string          `json:"title"`
	Lessons []LessonSummary `json:"lessons"`
}

// CourseDetail is GET /api/courses/{id}.
type CourseDetail struct {
	CourseView
	Modules []ModuleView `json:"modules"`
}

// catalogItem is a course as cached: everything but the caller's part.
type catalogItem struct {
	ID          int64  `json:"id"`
	Slug        string `json:"slug"`
	Title       string `json:"title"`
	Summary     string `json:"summary"`
	CoverURL    string `json:"coverUrl"`
	PriceCents  int64  `json:"priceCents"`
	Currency    string `json:"currency"`
	Unlock      Unlock `json:"unlock"`
	LessonCount int    `json:"lessonCount"`
}

func (s *Service) item(c Course, lessons int) catalogItem {
	return catalogItem{ID: c.ID, Slug: c.Slug, Title: c.Title, Summary: c.Summary, CoverURL: s.assetURL(c.CoverPath),
		PriceCents: c.PriceCents, Currency: c.Currency, Unlock: c.Unlock, LessonCount: lessons}
}

func (s *Service) assetURL(p string) string {
	if p == "" {
		return ""
	}
	return s.AssetURL(p)
}

// memo keeps the decoded form of cached values, keyed by cache key, valid
// while the cached bytes are the same.
type memo[T any] struct{ m sync.Map }

type memoEntry[T any] struct {
	raw []byte
	v   T
}

func (m *memo[T]) get(key string, raw []byte, decode func([]byte) (T, error)) (T, error) {
	if e, ok := m.m.Load(key); ok {
		if e := e.(*memoEntry[T]); bytes.Equal(e.raw, raw) {
			return e.v, nil
		}
	}
	v, err := decode(raw)
	if err != nil {
		return v, err
	}
	m.m.Store(key, &memoEntry[T]{raw: raw, v: v})
	return v, nil
}

// ---- the list ----

// catalogPage is the cached list, decoded: each item pre-rendered as JSON
// without its closing brace, ready for the caller's fields.
type catalogPage struct {
	items []renderedItem
}

type renderedItem struct {
	id      int64
	lessons int
	open    []byte // `{"id":1,...,"lessonCount":5` (no closing brace)
}

const keyCatalog = "courses:catalog"

func (s *Service) loadCatalog(ctx context.Context) (*catalogPage, error) {
	raw, err := s.Cache.Get(ctx, cache.Long, keyCatalog, tagCatalog, func(ctx context.Context) ([]byte, error) {
		list, err := s.Store.Courses(ctx, true)
		if err != nil {
			return nil, err
		}
		items := make([]catalogItem, len(list))
		for i, e := range list {
			items[i] = s.item(e.Course, e.LessonCount)
		}
		return json.Marshal(items)
	})
	if err != nil {
		return nil, err
	}
	return s.catalog.get(keyCatalog, raw, func(raw []byte) (*catalogPage, error) {
		var items []catalogItem
		if err := json.Unmarshal(raw, &items); err != nil {
			return nil, err
		}
		p := &catalogPage{items: make([]renderedItem, len(items))}
		for i, it := range items {
			b, err := json.Marshal(it)
			if err != nil {
				return nil, err
			}
			p.items[i] = renderedItem{id: it.ID, lessons: it.LessonCount, open: b[:len(b)-1]}
		}
		return p, nil
	})
}

// List renders GET /api/courses: published courses, newest first, a page of
// at most limit with ids below before (0: from the newest), with viewer's
// enrollment and progress (nil: anonymous).
func (s *Service) List(ctx context.Context, viewer *account.User, before int64, limit int) ([]byte, error) {
	cat, err := s.loadCatalog(ctx)
	if err != nil {
		return nil, err
	}
	var progress map[int64]int
	if viewer != nil {
		if progress, err = s.progress(ctx, viewer.ID); err != nil {
			return nil, err
		}
	}
	items := cat.items
	if before > 0 {
		i := 0
		for i < len(items) && items[i].id >= before {
			i++
		}
		items = items[i:]
	}
	full := len(items) > limit
	if full {
		items = items[:limit]
	}
	n := 16
	for _, it := range items {
		n += len(it.open) + 64
	}
	b := make([]byte, 0, n)
	b = append(b, `{"items":[`...)
	for i, it := range items {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, it.open...)
		done, enrolled := progress[it.id]
		total := 0
		if enrolled {
			total = it.lessons
		}
		b = append(b, `,"enrolled":`...)
		b = strconv.AppendBool(b, enrolled)
		b = append(b, `,"progress":{"completed":`...)
		b = strconv.AppendInt(b, int64(done), 10)
		b = append(b, `,"total":`...)
		b = strconv.AppendInt(b, int64(total), 10)
		b = append(b, "}}"...)
	}
	b = append(b, ']')
	if full && len(items) > 0 {
		b = append(b, `,"nextCursor":"`...)
		b = strconv.AppendInt(b, items[len(items)-1].id, 10)
		b = append(b, '"')
	}
	return append(b, '}'), nil
}

// ---- one course ----

// cachedOutline is a published course's outline as cached.
type cachedOutline struct {
	Course  catalogItem    `json:"course"`
	Modules []cachedModule `json:"modules"`
}

type cachedModule struct {
	ID      int64          `json:"id"`
	Title   string         `json:"title"`
	Lessons []cachedLesson `json:"lessons"`
}

type cachedLesson struct {
	ID          int64  `json:"id"`
	Title       string `json:"title"`
	DurationSec int    `json:"durationSec"`
	Preview     bool   `json:"preview"`
	DripDays    int    `json:"dripDays"`
}

func (o *cachedOutline) course() Course {
	return Course{ID: o.Course.ID, Unlock: o.Course.Unlock, PriceCents: o.Course.PriceCents, Currency: o.Course.Currency, Published: true}
}

func (o *cachedOutline) lesson(id int64) (Lesson, bool) {
	for _, m := range o.Modules {
		for _, l := range m.Lessons {
			if l.ID == id {
				return Lesson{ID: l.ID, CourseID: o.Course.ID, ModuleID: m.ID, Title: l.Title, DurationSec: l.DurationSec, Preview: l.Preview, DripDays: l.DripDays}, true
			}
		}
	}
	return Lesson{}, false
}

// outline returns a published course's outline from the cache. Unknown and
// unpublished courses are cached too (as null), so probing ids costs no
// query per request.
func (s *Service) outline(ctx context.Context, id int64) (*cachedOutline, error) {
	key := "courses:outline:" + strconv.FormatInt(id, 10)
	raw, err := s.Cache.Get(ctx, cache.Long, key, tagCatalog, func(ctx context.Context) ([]byte, error) {
		o, err := s.Store.Outline(ctx, id, false)
		if apperr.Is(err, apperr.NotFound) || (err == nil && !o.Course.Published) {
			return []byte("null"), nil
		}
		if err != nil {
			return nil, err
		}
		co := cachedOutline{Modules: make([]cachedModule, len(o.Modules))}
		n := 0
		for i, m := range o.Modules {
			cm := cachedModule{ID: m.ID, Title: m.Title, Lessons: make([]cachedLesson, len(m.Lessons))}
			for j, l := range m.Lessons {
				cm.Lessons[j] = cachedLesson{ID: l.ID, Title: l.Title, DurationSec: l.DurationSec, Preview: l.Preview, DripDays: l.DripDays}
			}
			n += len(m.Lessons)
			co.Modules[i] = cm
		}
		co.Course = s.item(o.Course, n)
		return json.Marshal(co)
	})
	if err != nil {
		return nil, err
	}
	if string(raw) == "null" {
		return nil, errNoCourse
	}
	return s.outlines.get(key, raw, func(raw []byte) (*cachedOutline, error) {
		var o cachedOutline
		err := json.Unmarshal(raw, &o)
		return &o, err
	})
}

// viewerOf reads the caller's standing in a course: nothing for anonymous
// callers, one query otherwise.
func (s *Service) viewerOf(ctx context.Context, u *account.User, courseID int64) (Viewer, Standing, error) {
	if u == nil {
		return Viewer{}, Standing{}, nil
	}
	st, err := s.Store.Standing(ctx, u.ID, courseID)
	if err != nil {
		return Viewer{}, Standing{}, err
	}
	return Viewer{SignedIn: true, Level: u.Level, Enrolled: st.Enrolled, EnrolledAt: st.EnrolledAt, Granted: st.Granted}, st, nil
}

// Course renders GET /api/courses/{id} for viewer (nil: anonymous).
func (s *Service) Course(ctx context.Context, viewer *account.User, id int64) (CourseDetail, error) {
	o, err := s.outline(ctx, id)
	if err != nil {
		return CourseDetail{}, err
	}
	v, st, err := s.viewerOf(ctx, viewer, id)
	if err != nil {
		return CourseDetail{}, err
	}
	c, now := o.course(), s.Now()
	it := o.Course
	d := CourseDetail{CourseView: CourseView{ID: it.ID, Slug: it.Slug, Title: it.Title, Summary: it.Summary, CoverURL: it.CoverURL,
		PriceCents: it.PriceCents, Currency: it.Currency, Unlock: it.Unlock, LessonCount: it.LessonCount, Enrolled: v.Enrolled},
		Modules: make([]ModuleView, len(o.Modules))}
	if v.Enrolled {
		d.Progress.Total = it.LessonCount
	}
	for i, m := range o.Modules {
		mv := ModuleView{ID: m.ID, Title: m.Title, Lessons: make([]LessonSummary, len(m.Lessons))}
		for j, l := range m.Lessons {
			lock := LessonLock(c, Lesson{ID: l.ID, Preview: l.Preview, DripDays: l.DripDays}, v, now)
			ls := LessonSummary{ID: l.ID, Title: l.Title, DurationSec: l.DurationSec, Preview: l.Preview,
				Completed: st.Completed[l.ID], Locked: lock.Locked, UnlocksAt: lock.UnlocksAt}
			if lock.Locked {
				ls.LockedReason = &lock.Reason
			}
			if ls.Completed && v.Enrolled {
				d.Progress.Completed++
			}
			mv.Lessons[j] = ls
		}
		d.Modules[i] = mv
	}
	return d, nil
}

// lessonBody is a lesson as cached: everything but completed.
type lessonBody struct {
	ID          int64  `json:"id"`
	CourseID    int64  `json:"courseId"`
	ModuleID    int64  `json:"moduleId"`
	Title       string `json:"title"`
	Body        string `json:"body"`
	VideoURL    string `json:"videoUrl"`
	DurationSec int    `json:"durationSec"`
	Preview     bool   `json:"preview"`
}

// Lesson renders GET /api/courses/{id}/lessons/{lessonId}: the sanitized
// body, if the lesson is open to viewer (nil: anonymous).
func (s *Service) Lesson(ctx context.Context, viewer *account.User, courseID, lessonID int64) ([]byte, error) {
	o, err := s.outline(ctx, courseID)
	if err != nil {
		return nil, err
	}
	l, ok := o.lesson(lessonID)
	if !ok {
		return nil, errNoLesson()
	}
	v, st, err := s.viewerOf(ctx, viewer, courseID)
	if err != nil {
		return nil, err
	}
	if lock := LessonLock(o.course(), l, v, s.Now()); lock.Locked {
		return nil, lockedError(lock)
	}
	raw, err := s.Cache.Get(ctx, cache.Long, "courses:lesson:"+strconv.FormatInt(lessonID, 10), tagCatalog, func(ctx context.Context) ([]byte, error) {
		l, err := s.Store.Lesson(ctx, lessonID)
		if err != nil {
			return nil, err
		}
		return json.Marshal(lessonBody{ID: l.ID, CourseID: l.CourseID, ModuleID: l.ModuleID, Title: l.Title, Body: l.HTML,
			VideoURL: s.assetURL(l.VideoURL), DurationSec: l.DurationSec, Preview: l.Preview})
	})
	if err != nil {
		return nil, err
	}
	// The cached bytes are shared: build a new slice.
	b := make([]byte, 0, len(raw)+20)
	b = append(b, raw[:len(raw)-1]...)
	b = append(b, `,"completed":`...)
	b = strconv.AppendBool(b, st.Completed[lessonID])
	return append(b, '}'), nil
}
