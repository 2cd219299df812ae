package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"time"

	"github.com/plazahq/plaza/internal/apperr"
	"github.com/plazahq/plaza/internal/courses"
	"github.com/plazahq/plaza/internal/gamification"
	"github.com/plazahq/plaza/internal/sqldb"
)

// Courses implements courses.Store. Completions award XP through the
// ledger, in the completing transaction.
type Courses struct {
	db *sqldb.DB
	xp *XP
}

var _ courses.Store = (*Courses)(nil)

// NewCourses returns the courses store on db, awarding XP through xp.
func NewCourses(db *sqldb.DB, xp *XP) *Courses { return &Courses{db: db, xp: xp} }

type scanner interface{ Scan(...any) error }

// ---- courses ----

const courseCols = `id, slug, title, summary, cover_path, price_cents, currency, unlock_kind, unlock_level, unlock_at, published, created_at, updated_at`

func scanCourse(sc scanner, extra ...any) (courses.Course, error) {
	var c courses.Course
	var kind string
	var at sql.NullInt64
	var created, updated int64
	err := sc.Scan(append([]any{&c.ID, &c.Slug, &c.Title, &c.Summary, &c.CoverPath, &c.PriceCents, &c.Currency,
		&kind, &c.Unlock.Level, &at, &c.Published, &created, &updated}, extra...)...)
	c.Unlock.Kind = courses.UnlockKind(kind)
	if t, ok := nullMS(at); ok {
		c.Unlock.At = &t
	}
	if c.Unlock.Kind != courses.UnlockLevel {
		c.Unlock.Level = 0
	}
	c.CreatedAt, c.UpdatedAt = fromMS(created), fromMS(updated)
	return c, err
}

// courseArgs are the values of every column but id and created_at, in
// courseCols order.
func courseArgs(c courses.Course) []any {
	var at sql.NullInt64
	if c.Unlock.At != nil {
		at = sql.NullInt64{Int64: ms(*c.Unlock.At), Valid: true}
	}
	return []any{c.Slug, c.Title, c.Summary, c.CoverPath, c.PriceCents, c.Currency, string(c.Unlock.Kind), c.Unlock.Level, at, c.Published}
}

func slugTaken(err error) error {
	return &apperr.Error{Code: apperr.Conflict, Message: "a course with this slug exists", Fields: map[string]string{"slug": "is taken"}, Err: err}
}

// CreateCourse inserts a course.
func (s *Courses) CreateCourse(ctx context.Context, c courses.Course) (courses.Course, error) {
	res, err := s.db.Write().Exec(ctx, `INSERT INTO courses (slug, title, summary, cover_path, price_cents, currency, unlock_kind, unlock_level, unlock_at, published, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, append(courseArgs(c), ms(c.CreatedAt), ms(c.UpdatedAt))...)
	if _, dup := sqldb.IsDuplicate(err); dup {
		return c, slugTaken(err)
	}
	if err != nil {
		return c, err
	}
	if c.ID, err = res.LastInsertId(); err != nil {
		return c, err
	}
	return s.Course(ctx, c.ID)
}

// UpdateCourse replaces a course's fields.
func (s *Courses) UpdateCourse(ctx context.Context, c courses.Course) (courses.Course, error) {
	res, err := s.db.Write().Exec(ctx, `UPDATE courses SET slug = ?, title = ?, summary = ?, cover_path = ?, price_cents = ?, currency = ?,
		unlock_kind = ?, unlock_level = ?, unlock_at = ?, published = ?, updated_at = ? WHERE id = ?`,
		append(courseArgs(c), ms(c.UpdatedAt), c.ID)...)
	if _, dup := sqldb.IsDuplicate(err); dup {
		return c, slugTaken(err)
	}
	if err != nil {
		return c, err
	}
	if affected(res) == 0 {
		return c, notFound("course")
	}
	return s.Course(ctx, c.ID)
}

// Course returns one course, published or not.
func (s *Courses) Course(ctx context.Context, id int64) (courses.Course, error) {
	var c courses.Course
	found := false
	err := s.db.Fresh().Query(ctx, func(rows *sql.Rows) error {
		var err error
		c, err = scanCourse(rows)
		found = true
		return err
	}, `SELECT `+courseCols+` FROM courses WHERE id = ?`, id)
	if err == nil && !found {
		err = notFound("course")
	}
	return c, err
}

// Courses lists courses, newest first, with their lesson counts.
func (s *Courses) Courses(ctx context.Context, publishedOnly bool) ([]courses.CatalogEntry, error) {
	where := ""
	if publishedOnly {
		where = ` WHERE c.published = 1`
	}
	out := []courses.CatalogEntry{}
	err := s.db.Read().Query(ctx, func(rows *sql.Rows) error {
		var e courses.CatalogEntry
		var err error
		e.Course, err = scanCourse(rows, &e.LessonCount)
		out = append(out, e)
		return err
	}, `SELECT `+courseCols+`, (SELECT COUNT(*) FROM course_lessons l WHERE l.course_id = c.id) FROM courses c`+where+` ORDER BY c.id DESC`)
	return out, err
}

// ---- modules and lessons ----

const moduleCols = `id, course_id, title, position, created_at`

func scanModule(sc scanner) (courses.Module, error) {
	var m courses.Module
	var created int64
	err := sc.Scan(&m.ID, &m.CourseID, &m.Title, &m.Position, &created)
	m.CreatedAt = fromMS(created)
	return m, err
}

const lessonMeta = `id, course_id, module_id, title, body_format, video_url, duration_sec, preview, drip_days, position, created_at, updated_at`

const lessonCols = lessonMeta + `, body_source, body_html`

func scanLesson(sc scanner, bodies bool) (courses.Lesson, error) {
	var l courses.Lesson
	var created, updated int64
	dest := []any{&l.ID, &l.CourseID, &l.ModuleID, &l.Title, &l.Format, &l.VideoURL, &l.DurationSec, &l.Preview, &l.DripDays, &l.Position, &created, &updated}
	if bodies {
		dest = append(dest, &l.Source, &l.HTML)
	}
	err := sc.Scan(dest...)
	l.CreatedAt, l.UpdatedAt = fromMS(created), fromMS(updated)
	return l, err
}

// Outline returns a course with its modules and lessons in order.
func (s *Courses) Outline(ctx context.Context, id int64, bodies bool) (courses.Outline, error) {
	c, err := s.Course(ctx, id)
	if err != nil {
		return courses.Outline{}, err
	}
	o := courses.Outline{Course: c, Modules: []courses.ModuleOutline{}}
	index := map[int64]int{}
	err = s.db.Fresh().Query(ctx, func(rows *sql.Rows) error {
		m, err := scanModule(rows)
		index[m.ID] = len(o.Modules)
		o.Modules = append(o.Modules, courses.ModuleOutline{Module: m, Lessons: []courses.Lesson{}})
		return err
	}, `SELECT `+moduleCols+` FROM course_modules WHERE course_id = ? ORDER BY position, id`, id)
	if err != nil {
		return o, err
	}
	cols := lessonMeta
	if bodies {
		cols = lessonCols
	}
	err = s.db.Fresh().Query(ctx, func(rows *sql.Rows) error {
		l, err := scanLesson(rows, bodies)
		if i, ok := index[l.ModuleID]; ok && err == nil {
			o.Modules[i].Lessons = append(o.Modules[i].Lessons, l)
		}
		return err
	}, `SELECT `+cols+` FROM course_lessons WHERE course_id = ? ORDER BY position, id`, id)
	return o, err
}

// nextPosition is the position after the last one of the rows of table
// whose column equals id.
func nextPosition(ctx context.Context, tx *sql.Tx, table, column string, id int64) (int, error) {
	var p int
	err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(position), 0) + 1 FROM `+table+` WHERE `+column+` = ?`, id).Scan(&p)
	return p, err
}

// CreateModule appends a module to a course.
func (s *Courses) CreateModule(ctx context.Context, m courses.Module) (courses.Module, error) {
	err := s.db.Write().Tx(ctx, func(tx *sql.Tx) error {
		// Locking the course serialises appends to it.
		var id int64
		err := tx.QueryRowContext(ctx, `SELECT id FROM courses WHERE id = ?`+forUpdate(s.db), m.CourseID).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("course")
		}
		if err != nil {
			return err
		}
		if m.Position == 0 {
			if m.Position, err = nextPosition(ctx, tx, "course_modules", "course_id", m.CourseID); err != nil {
				return err
			}
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO course_modules (course_id, title, position, created_at) VALUES (?, ?, ?, ?)`,
			m.CourseID, m.Title, m.Position, ms(m.CreatedAt))
		if err != nil {
			return err
		}
		m.ID, err = res.LastInsertId()
		return err
	})
	m.CreatedAt = fromMS(ms(m.CreatedAt))
	return m, err
}

// Module returns one module.
func (s *Courses) Module(ctx context.Context, id int64) (courses.Module, error) {
	var m courses.Module
	found := false
	err := s.db.Fresh().Query(ctx, func(rows *sql.Rows) error {
		var err error
		m, err = scanModule(rows)
		found = true
		return err
	}, `SELECT `+moduleCols+` FROM course_modules WHERE id = ?`, id)
	if err == nil && !found {
		err = notFound("module")
	}
	return m, err
}

func lessonByID(ctx context.Context, q sqldb.Querier, id int64, lock string) (courses.Lesson, error) {
	var l courses.Lesson
	found := false
	err := sqldb.QueryRows(ctx, q, func(rows *sql.Rows) error {
		var err error
		l, err = scanLesson(rows, true)
		found = true
		return err
	}, `SELECT `+lessonCols+` FROM course_lessons WHERE id = ?`+lock, id)
	if err == nil && !found {
		err = notFound("lesson")
	}
	return l, err
}

// moduleCourse returns the course of a module, locking the module.
func (s *Courses) moduleCourse(ctx context.Context, tx *sql.Tx, moduleID int64) (int64, error) {
	var courseID int64
	err := tx.QueryRowContext(ctx, `SELECT course_id FROM course_modules WHERE id = ?`+forUpdate(s.db), moduleID).Scan(&courseID)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, notFound("module")
	}
	return courseID, err
}

// CreateLesson appends a lesson to a module.
func (s *Courses) CreateLesson(ctx context.Context, l courses.Lesson) (courses.Lesson, error) {
	err := s.db.Write().Tx(ctx, func(tx *sql.Tx) error {
		var err error
		if l.CourseID, err = s.moduleCourse(ctx, tx, l.ModuleID); err != nil {
			return err
		}
		if l.Position == 0 {
			if l.Position, err = nextPosition(ctx, tx, "course_lessons", "module_id", l.ModuleID); err != nil {
				return err
			}
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO course_lessons (course_id, module_id, title, body_format, body_source, body_html,
			video_url, duration_sec, preview, drip_days, position, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			l.CourseID, l.ModuleID, l.Title, l.Format, l.Source, l.HTML, l.VideoURL, l.DurationSec, l.Preview, l.DripDays, l.Position,
			ms(l.CreatedAt), ms(l.UpdatedAt))
		if err != nil {
			return err
		}
		l.ID, err = res.LastInsertId()
		return err
	})
	l.CreatedAt, l.UpdatedAt = fromMS(ms(l.CreatedAt)), fromMS(ms(l.UpdatedAt))
	return l, err
}

// UpdateLesson replaces a lesson's fields; a move must stay in its course.
func (s *Courses) UpdateLesson(ctx context.Context, l courses.Lesson) (courses.Lesson, error) {
	err := s.db.Write().Tx(ctx, func(tx *sql.Tx) error {
		cur, err := lessonByID(ctx, tx, l.ID, forUpdate(s.db))
		if err != nil {
			return err
		}
		if l.ModuleID != cur.ModuleID {
			courseID, err := s.moduleCourse(ctx, tx, l.ModuleID)
			if apperr.Is(err, apperr.NotFound) || (err == nil && courseID != cur.CourseID) {
				return apperr.Invalid(map[string]string{"moduleId": "must be a module of the lesson's course"})
			}
			if err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE course_lessons SET module_id = ?, title = ?, body_format = ?, body_source = ?, body_html = ?,
			video_url = ?, duration_sec = ?, preview = ?, drip_days = ?, position = ?, updated_at = ? WHERE id = ?`,
			l.ModuleID, l.Title, l.Format, l.Source, l.HTML, l.VideoURL, l.DurationSec, l.Preview, l.DripDays, l.Position, ms(l.UpdatedAt), l.ID); err != nil {
			return err
		}
		l, err = lessonByID(ctx, tx, l.ID, "")
		return err
	})
	return l, err
}

// DeleteLesson removes a lesson; its completions go with it, and the
// progress counts of the users who had completed it drop by one.
func (s *Courses) DeleteLesson(ctx context.Context, id int64) (courses.Lesson, error) {
	var l courses.Lesson
	err := s.db.Write().Tx(ctx, func(tx *sql.Tx) error {
		var err error
		if l, err = lessonByID(ctx, tx, id, forUpdate(s.db)); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE course_enrollments SET completed_lessons = completed_lessons - 1
			WHERE course_id = ? AND user_id IN (SELECT user_id FROM lesson_completions WHERE lesson_id = ?)`, l.CourseID, id); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM course_lessons WHERE id = ?`, id)
		return err
	})
	return l, err
}

// Lesson returns one lesson with its body.
func (s *Courses) Lesson(ctx context.Context, id int64) (courses.Lesson, error) {
	var l courses.Lesson
	found := false
	err := s.db.Fresh().Query(ctx, func(rows *sql.Rows) error {
		var err error
		l, err = scanLesson(rows, true)
		found = true
		return err
	}, `SELECT `+lessonCols+` FROM course_lessons WHERE id = ?`, id)
	if err == nil && !found {
		err = notFound("lesson")
	}
	return l, err
}

// ---- enrollment and progress ----

// Enroll enrolls a user if admit agrees, once.
func (s *Courses) Enroll(ctx context.Context, userID, courseID int64, now time.Time, admit func(courses.Admission) error) (courses.Enrollment, bool, error) {
	var e courses.Enrollment
	created := false
	err := s.db.Write().Tx(ctx, func(tx *sql.Tx) error {
		// A locking read sees the latest commit on MySQL, also after a
		// concurrent enrollment made the insert below a duplicate.
		existing := func() (bool, error) {
			var at int64
			var done sql.NullInt64
			err := tx.QueryRowContext(ctx, `SELECT enrolled_at, completed_at FROM course_enrollments WHERE user_id = ? AND course_id = ?`+forUpdate(s.db),
				userID, courseID).Scan(&at, &done)
			if errors.Is(err, sql.ErrNoRows) {
				return false, nil
			}
			e = courses.Enrollment{UserID: userID, CourseID: courseID, EnrolledAt: fromMS(at)}
			if t, ok := nullMS(done); ok {
				e.CompletedAt = &t
			}
			return err == nil, err
		}
		if ok, err := existing(); ok || err != nil {
			return err
		}
		a := courses.Admission{}
		var err error
		if a.Course, err = scanCourse(tx.QueryRowContext(ctx, `SELECT `+courseCols+` FROM courses WHERE id = ?`, courseID)); errors.Is(err, sql.ErrNoRows) {
			return notFound("course")
		} else if err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx, `SELECT level FROM users WHERE id = ?`, userID).Scan(&a.Level); errors.Is(err, sql.ErrNoRows) {
			return notFound("user")
		} else if err != nil {
			return err
		}
		if a.Granted, err = granted(ctx, tx, userID, courseID); err != nil {
			return err
		}
		if err := admit(a); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO course_enrollments (user_id, course_id, enrolled_at) VALUES (?, ?, ?)`, userID, courseID, ms(now))
		if _, dup := sqldb.IsDuplicate(err); dup {
			_, err = existing()
			return err
		}
		if err != nil {
			return err
		}
		e, created = courses.Enrollment{UserID: userID, CourseID: courseID, EnrolledAt: fromMS(ms(now))}, true
		return nil
	})
	return e, created, err
}

func granted(ctx context.Context, tx *sql.Tx, userID, courseID int64) (bool, error) {
	var n int
	err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM course_grants WHERE user_id = ? AND course_id = ?`, userID, courseID).Scan(&n)
	return n > 0, err
}

// Standing reads a user's enrollment, grant and completions in a course in
// one query.
func (s *Courses) Standing(ctx context.Context, userID, courseID int64) (courses.Standing, error) {
	st := courses.Standing{Completed: map[int64]bool{}}
	err := s.db.Fresh().Query(ctx, func(rows *sql.Rows) error {
		var kind, v int64
		if err := rows.Scan(&kind, &v); err != nil {
			return err
		}
		switch kind {
		case 1:
			st.Enrolled, st.EnrolledAt = true, fromMS(v)
		case 2:
			st.Granted = true
		case 3:
			st.Completed[v] = true
		}
		return nil
	}, `SELECT 1, enrolled_at FROM course_enrollments WHERE user_id = ? AND course_id = ?
		UNION ALL SELECT 2, 0 FROM course_grants WHERE user_id = ? AND course_id = ?
		UNION ALL SELECT 3, lesson_id FROM lesson_completions WHERE user_id = ? AND course_id = ?`,
		userID, courseID, userID, courseID, userID, courseID)
	return st, err
}

// Progress returns a user's completed-lesson count in each course they are
// enrolled in: one range read of their enrollments (the counts are kept by
// Complete and DeleteLesson).
func (s *Courses) Progress(ctx context.Context, userID int64) (map[int64]int, error) {
	out := map[int64]int{}
	// Run on every signed-in catalog read: prepared once, not per call.
	err := s.db.Fresh().QueryPrepared(ctx, func(rows *sql.Rows) error {
		var course int64
		var n int
		err := rows.Scan(&course, &n)
		out[course] = n
		return err
	}, `SELECT course_id, completed_lessons FROM course_enrollments WHERE user_id = ?`, userID)
	return out, err
}

// Complete marks a lesson complete and awards its XP, and the course's
// when it was the last, in one transaction. The user's row is locked
// first: the ledger locks it to award, and taking it before the
// completion insert (whose foreign key check share-locks it) keeps two
// completions by one user from deadlocking; it also serialises them, so
// each sees the other's count.
func (s *Courses) Complete(ctx context.Context, c courses.Completion, open func(courses.Gate) error) (courses.CompletionResult, error) {
	var res courses.CompletionResult
	err := s.db.Write().Tx(ctx, func(tx *sql.Tx) error {
		res = courses.CompletionResult{}
		err := tx.QueryRowContext(ctx, `SELECT xp, level FROM users WHERE id = ?`+forUpdate(s.db), c.UserID).Scan(&res.XP, &res.Level)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("user")
		}
		if err != nil {
			return err
		}
		res.PrevLevel = res.Level
		var g courses.Gate
		var at int64
		var finished sql.NullInt64 // the enrollment's completed_at: the course bonus was paid
		err = tx.QueryRowContext(ctx, `SELECT enrolled_at, completed_at FROM course_enrollments WHERE user_id = ? AND course_id = ?`, c.UserID, c.CourseID).Scan(&at, &finished)
		switch {
		case err == nil:
			g.Enrolled, g.EnrolledAt = true, fromMS(at)
		case !errors.Is(err, sql.ErrNoRows):
			return err
		}
		if g.Granted, err = granted(ctx, tx, c.UserID, c.CourseID); err != nil {
			return err
		}
		if g.Lesson, err = lessonByID(ctx, tx, c.LessonID, ""); err != nil {
			return err
		}
		if g.Lesson.CourseID != c.CourseID {
			return notFound("lesson")
		}
		if err := open(g); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO lesson_completions (user_id, lesson_id, course_id, completed_at) VALUES (?, ?, ?, ?)`,
			c.UserID, c.LessonID, c.CourseID, ms(c.At))
		_, again := sqldb.IsDuplicate(err)
		if err != nil && !again {
			return err
		}
		if !again {
			if err := s.award(ctx, tx, c, &res, gamification.ReasonLesson, "lesson:"+strconv.FormatInt(c.LessonID, 10), c.LessonXP); err != nil {
				return err
			}
		}
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM lesson_completions WHERE user_id = ? AND course_id = ?`, c.UserID, c.CourseID).Scan(&res.Completed); err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM course_lessons WHERE course_id = ?`, c.CourseID).Scan(&res.Total); err != nil {
			return err
		}
		res.CourseCompleted = res.Total > 0 && res.Completed >= res.Total
		// A lesson completed again changes nothing, unless the course is
		// complete now and was not before: lessons deleted since the last
		// completion may have left only completed ones, and the course's
		// completion (its bonus, its achievements) happens now. The
		// ledger's unique cause keeps the bonus to one.
		if again && !(res.CourseCompleted && !finished.Valid) {
			return nil
		}
		var done sql.NullInt64
		if res.CourseCompleted {
			done = sql.NullInt64{Int64: ms(c.At), Valid: true}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE course_enrollments SET completed_lessons = ?, completed_at = COALESCE(completed_at, ?)
			WHERE user_id = ? AND course_id = ?`, res.Completed, done, c.UserID, c.CourseID); err != nil {
			return err
		}
		if !res.CourseCompleted {
			return nil
		}
		if err := achievementCheckTx(ctx, tx, s.db, c.At, c.UserID); err != nil { // course achievements
			return err
		}
		return s.award(ctx, tx, c, &res, gamification.ReasonCourse, "course:"+strconv.FormatInt(c.CourseID, 10), c.CourseXP)
	})
	return res, err
}

// award makes one XP award in tx and folds it into res.
func (s *Courses) award(ctx context.Context, tx *sql.Tx, c courses.Completion, res *courses.CompletionResult, reason gamification.Reason, ref string, amount int64) error {
	if amount <= 0 {
		return nil
	}
	r, err := s.xp.AwardTx(ctx, tx, c.At, gamification.Award{UserID: c.UserID, Amount: amount, Reason: reason, Ref: ref})
	if err != nil {
		return err
	}
	res.XPAwarded += r.Awarded
	res.XP, res.Level = r.XP, r.Level
	return nil
}

// ---- grants ----

// Grant opens a course to a user in a transaction of its own.
func (s *Courses) Grant(ctx context.Context, userID, courseID int64, source, ref string, now time.Time) (bool, error) {
	var created bool
	err := s.db.Write().Tx(ctx, func(tx *sql.Tx) error {
		var err error
		created, err = s.GrantTx(ctx, tx, userID, courseID, source, ref, now)
		return err
	})
	return created, err
}

// GrantTx opens a course to a user inside the caller's transaction (the
// payments webhook records its event and grants together); false when a
// grant existed already.
func (s *Courses) GrantTx(ctx context.Context, tx *sql.Tx, userID, courseID int64, source, ref string, now time.Time) (bool, error) {
	var users, courseRows int
	if err := tx.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM users WHERE id = ?), (SELECT COUNT(*) FROM courses WHERE id = ?)`,
		userID, courseID).Scan(&users, &courseRows); err != nil {
		return false, err
	}
	if users == 0 {
		return false, notFound("user")
	}
	if courseRows == 0 {
		return false, notFound("course")
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO course_grants (user_id, course_id, source, ref, granted_at) VALUES (?, ?, ?, ?, ?)`,
		userID, courseID, source, ref, ms(now))
	if _, dup := sqldb.IsDuplicate(err); dup {
		return false, nil
	}
	return err == nil, err
}

// RevokeGrant deletes a grant.
func (s *Courses) RevokeGrant(ctx context.Context, userID, courseID int64) (bool, error) {
	res, err := s.db.Write().Exec(ctx, `DELETE FROM course_grants WHERE user_id = ? AND course_id = ?`, userID, courseID)
	if err != nil {
		return false, err
	}
	return affected(res) > 0, nil
}
