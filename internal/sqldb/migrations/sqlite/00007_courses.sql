-- +goose Up
-- Courses: modules, ordered lessons, enrollments, completions, and the
-- grants that open paid courses. Lesson bodies keep what the author wrote
-- (body_source) and the sanitized HTML served to readers (body_html).
-- course_enrollments.completed_lessons counts the user's completions in the
-- course (kept by completion and lesson deletion), so the course list's
-- per-user overlay is one read of the user's enrollments.
CREATE TABLE courses (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    slug         TEXT    NOT NULL,
    title        TEXT    NOT NULL,
    summary      TEXT    NOT NULL DEFAULT '',
    cover_path   TEXT    NOT NULL DEFAULT '',
    price_cents  INTEGER NOT NULL DEFAULT 0,
    currency     TEXT    NOT NULL DEFAULT 'usd',
    unlock_kind  TEXT    NOT NULL DEFAULT 'open',
    unlock_level INTEGER NOT NULL DEFAULT 0,
    unlock_at    INTEGER,
    published    INTEGER NOT NULL DEFAULT 0,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);
CREATE UNIQUE INDEX uq_courses_slug ON courses (slug);
CREATE INDEX idx_courses_published ON courses (published, id);

CREATE TABLE course_modules (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    course_id  INTEGER NOT NULL REFERENCES courses (id) ON DELETE CASCADE,
    title      TEXT    NOT NULL,
    position   INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX idx_course_modules_course ON course_modules (course_id, position);

CREATE TABLE course_lessons (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    course_id    INTEGER NOT NULL REFERENCES courses (id) ON DELETE CASCADE,
    module_id    INTEGER NOT NULL REFERENCES course_modules (id) ON DELETE CASCADE,
    title        TEXT    NOT NULL,
    body_format  TEXT    NOT NULL DEFAULT 'markdown',
    body_source  TEXT    NOT NULL,
    body_html    TEXT    NOT NULL,
    video_url    TEXT    NOT NULL DEFAULT '',
    duration_sec INTEGER NOT NULL DEFAULT 0,
    preview      INTEGER NOT NULL DEFAULT 0,
    drip_days    INTEGER NOT NULL DEFAULT 0,
    position     INTEGER NOT NULL,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);
CREATE INDEX idx_course_lessons_course ON course_lessons (course_id);
CREATE INDEX idx_course_lessons_module ON course_lessons (module_id, position);

-- Clustered on (user_id, course_id) like InnoDB, so a user's progress
-- across every course is one range read (GET /api/courses).
CREATE TABLE course_enrollments (
    user_id           INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    course_id         INTEGER NOT NULL REFERENCES courses (id) ON DELETE CASCADE,
    enrolled_at       INTEGER NOT NULL,
    completed_at      INTEGER,
    completed_lessons INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, course_id)
) WITHOUT ROWID;
CREATE INDEX idx_course_enrollments_course ON course_enrollments (course_id);

CREATE TABLE lesson_completions (
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    lesson_id    INTEGER NOT NULL REFERENCES course_lessons (id) ON DELETE CASCADE,
    course_id    INTEGER NOT NULL,
    completed_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, lesson_id)
) WITHOUT ROWID;
CREATE INDEX idx_lesson_completions_progress ON lesson_completions (user_id, course_id);
CREATE INDEX idx_lesson_completions_lesson ON lesson_completions (lesson_id);

CREATE TABLE course_grants (
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    course_id  INTEGER NOT NULL REFERENCES courses (id) ON DELETE CASCADE,
    source     TEXT    NOT NULL,
    ref        TEXT    NOT NULL DEFAULT '',
    granted_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, course_id)
);
CREATE INDEX idx_course_grants_course ON course_grants (course_id);

-- Admins' rows are locked when a role changes (the last admin stays).
CREATE INDEX idx_users_role ON users (role);

-- +goose Down
DROP INDEX idx_users_role;
DROP TABLE course_grants;
DROP TABLE lesson_completions;
DROP TABLE course_enrollments;
DROP TABLE course_lessons;
DROP TABLE course_modules;
DROP TABLE courses;
