// Package courses owns courses: their modules and ordered lessons, the
// rules that open a course (open, level, purchase, date) and a lesson
// (preview, drip days after enrollment), enrollment, lesson completion and
// the XP it earns, grants that open paid courses, and the lesson bodies,
// which are sanitized when they are written.
//
// The catalog (the list and each course's outline) is the same for every
// caller, so it is cached in the long tier and dropped by every admin edit;
// what belongs to the caller (enrollment, progress, locks) is laid over it
// from one small query per request. Storage is behind Store; sqlstore
// implements it on both engines and coursestest checks it.
package courses

import (
	"context"
	"time"
)

// UnlockKind says what opens a course.
type UnlockKind string

// The unlock rules.
const (
	UnlockOpen     UnlockKind = "open"     // anyone signed in may enroll
	UnlockLevel    UnlockKind = "level"    // enrollment needs Unlock.Level
	UnlockPurchase UnlockKind = "purchase" // enrollment needs a grant (payments)
	UnlockDate     UnlockKind = "date"     // enrollment opens at Unlock.At
)

// Unlock is a course's unlock rule as the API shows it:
// {"kind":"open"}, {"kind":"level","level":n}, {"kind":"purchase"} or
// {"kind":"date","at":time}.
type Unlock struct {
	Kind  UnlockKind `json:"kind"`
	Level int        `json:"level,omitempty"`
	At    *time.Time `json:"at,omitempty"`
}

// Course is a course's own row.
type Course struct {
	ID         int64
	Slug       string
	Title      string
	Summary    string
	CoverPath  string // an /uploads/ path or an absolute URL; shown through media.URLs
	PriceCents int64
	Currency   string
	Unlock     Unlock
	Published  bool
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// Module groups a course's lessons.
type Module struct {
	ID        int64
	CourseID  int64
	Title     string
	Position  int
	CreatedAt time.Time
}

// Body formats authors may write in.
const (
	FormatMarkdown = "markdown"
	FormatHTML     = "html"
)

// Lesson is one lesson. Source is what the author wrote in Format; HTML is
// Source rendered and sanitized (what readers get).
type Lesson struct {
	ID          int64
	CourseID    int64
	ModuleID    int64
	Title       string
	Format      string
	Source      string
	HTML        string
	VideoURL    string
	DurationSec int
	Preview     bool // readable without enrollment
	DripDays    int  // opens this many days after enrollment
	Position    int
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// ModuleOutline is a module with its lessons in order.
type ModuleOutline struct {
	Module
	Lessons []Lesson
}

// Outline is a course with its modules and lessons in order: what the
// catalog shows of it.
type Outline struct {
	Course  Course
	Modules []ModuleOutline
}

// CatalogEntry is a course in the list, with its number of lessons.
type CatalogEntry struct {
	Course      Course
	LessonCount int
}

// Enrollment is a user's place in a course.
type Enrollment struct {
	UserID      int64
	CourseID    int64
	EnrolledAt  time.Time
	CompletedAt *time.Time
}

// Standing is one user's relation to one course.
type Standing struct {
	Enrolled   bool
	EnrolledAt time.Time
	Granted    bool           // a grant (purchase) exists
	Completed  map[int64]bool // lesson ids
}

// Admission is what Enroll knows when it asks whether a user may enroll:
// read in the enrolling transaction.
type Admission struct {
	Course  Course
	Level   int  // the user's level
	Granted bool // a grant exists
}

// Completion asks for a lesson to be marked complete and its XP awarded.
type Completion struct {
	UserID   int64
	CourseID int64
	LessonID int64
	At       time.Time
	LessonXP int64 // awarded once per (user, lesson)
	CourseXP int64 // awarded once per (user, course), when the last lesson is done
}

// Gate is what Complete knows when it asks whether the lesson is open:
// read in the completing transaction.
type Gate struct {
	Enrolled   bool
	EnrolledAt time.Time
	Granted    bool
	Lesson     Lesson
}

// CompletionResult is what a completion did.
type CompletionResult struct {
	Completed       int   // lessons of the course the user has completed
	Total           int   // lessons in the course
	XPAwarded       int64 // 0 when the lesson was already complete
	CourseCompleted bool  // every lesson of the course is complete
	XP              int64 // the user's XP after it
	Level           int
	PrevLevel       int
}

// Store is the storage courses needs. Missing rows are apperr NotFound
// errors; a taken slug is an apperr Conflict.
type Store interface {
	CreateCourse(ctx context.Context, c Course) (Course, error)
	// UpdateCourse replaces every field of the course c.ID but CreatedAt.
	UpdateCourse(ctx context.Context, c Course) (Course, error)
	Course(ctx context.Context, id int64) (Course, error)
	// Courses lists courses by id, newest first: the published ones, or
	// all of them; each with its lesson count.
	Courses(ctx context.Context, publishedOnly bool) ([]CatalogEntry, error)
	// Outline returns a course with its modules and lessons in order
	// (Position, then id); lesson Source and HTML only when bodies.
	Outline(ctx context.Context, id int64, bodies bool) (Outline, error)

	// CreateModule appends a module to its course (Position 0: after the
	// last one).
	CreateModule(ctx context.Context, m Module) (Module, error)
	Module(ctx context.Context, id int64) (Module, error)
	// CreateLesson appends a lesson to its module (Position 0: after the
	// last one); CourseID is taken from the module.
	CreateLesson(ctx context.Context, l Lesson) (Lesson, error)
	// UpdateLesson replaces every field of the lesson l.ID but CourseID and
	// CreatedAt; its module must be in the same course.
	UpdateLesson(ctx context.Context, l Lesson) (Lesson, error)
	// DeleteLesson removes a lesson and its completions.
	DeleteLesson(ctx context.Context, id int64) (Lesson, error)
	Lesson(ctx context.Context, id int64) (Lesson, error)

	// Enroll enrolls the user unless admit, called inside the transaction
	// with what it needs to decide, refuses. Enrolling again returns the
	// first enrollment and created false (admit is not asked again).
	Enroll(ctx context.Context, userID, courseID int64, now time.Time, admit func(Admission) error) (e Enrollment, created bool, err error)
	// Standing returns the user's enrollment, grant and completed lessons
	// in one course, in one query.
	Standing(ctx context.Context, userID, courseID int64) (Standing, error)
	// Progress returns, for every course the user is enrolled in, how many
	// of its lessons they completed, in one query.
	Progress(ctx context.Context, userID int64) (map[int64]int, error)
	// Complete marks a lesson complete unless open, called inside the
	// transaction, refuses; the first completion awards c.LessonXP, and the
	// one that completes the course c.CourseXP, in the same transaction.
	// Completing again changes nothing and awards nothing. A lesson that is
	// not in c.CourseID is NotFound.
	Complete(ctx context.Context, c Completion, open func(Gate) error) (CompletionResult, error)

	// Grant opens a purchase course to a user (payments); false when a
	// grant existed already.
	Grant(ctx context.Context, userID, courseID int64, source, ref string, now time.Time) (bool, error)
	// RevokeGrant takes a grant back (a refund); false when there was none.
	RevokeGrant(ctx context.Context, userID, courseID int64) (bool, error)
}
