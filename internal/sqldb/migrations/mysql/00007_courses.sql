-- +goose Up
-- Courses: modules, ordered lessons, enrollments, completions, and the
-- grants that open paid courses. Lesson bodies keep what the author wrote
-- (body_source) and the sanitized HTML served to readers (body_html).
-- course_enrollments.completed_lessons counts the user's completions in the
-- course (kept by completion and lesson deletion), so the course list's
-- per-user overlay is one read of the user's enrollments.
CREATE TABLE courses (
    id           BIGINT        NOT NULL AUTO_INCREMENT PRIMARY KEY,
    slug         VARCHAR(64)   NOT NULL,
    title        VARCHAR(200)  NOT NULL,
    summary      VARCHAR(2000) NOT NULL DEFAULT '',
    cover_path   VARCHAR(512)  NOT NULL DEFAULT '',
    price_cents  BIGINT        NOT NULL DEFAULT 0,
    currency     CHAR(3)       NOT NULL DEFAULT 'usd',
    unlock_kind  VARCHAR(16)   NOT NULL DEFAULT 'open',
    unlock_level INT           NOT NULL DEFAULT 0,
    unlock_at    BIGINT        NULL,
    published    TINYINT(1)    NOT NULL DEFAULT 0,
    created_at   BIGINT        NOT NULL,
    updated_at   BIGINT        NOT NULL,
    UNIQUE KEY uq_courses_slug (slug),
    KEY idx_courses_published (published, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE course_modules (
    id         BIGINT       NOT NULL AUTO_INCREMENT PRIMARY KEY,
    course_id  BIGINT       NOT NULL,
    title      VARCHAR(200) NOT NULL,
    position   INT          NOT NULL,
    created_at BIGINT       NOT NULL,
    KEY idx_course_modules_course (course_id, position),
    CONSTRAINT fk_course_modules_course FOREIGN KEY (course_id) REFERENCES courses (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE course_lessons (
    id           BIGINT       NOT NULL AUTO_INCREMENT PRIMARY KEY,
    course_id    BIGINT       NOT NULL,
    module_id    BIGINT       NOT NULL,
    title        VARCHAR(200) NOT NULL,
    body_format  VARCHAR(16)  NOT NULL DEFAULT 'markdown',
    body_source  MEDIUMTEXT   NOT NULL,
    body_html    MEDIUMTEXT   NOT NULL,
    video_url    VARCHAR(512) NOT NULL DEFAULT '',
    duration_sec INT          NOT NULL DEFAULT 0,
    preview      TINYINT(1)   NOT NULL DEFAULT 0,
    drip_days    INT          NOT NULL DEFAULT 0,
    position     INT          NOT NULL,
    created_at   BIGINT       NOT NULL,
    updated_at   BIGINT       NOT NULL,
    KEY idx_course_lessons_course (course_id),
    KEY idx_course_lessons_module (module_id, position),
    CONSTRAINT fk_course_lessons_course FOREIGN KEY (course_id) REFERENCES courses (id) ON DELETE CASCADE,
    CONSTRAINT fk_course_lessons_module FOREIGN KEY (module_id) REFERENCES course_modules (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE course_enrollments (
    user_id           BIGINT NOT NULL,
    course_id         BIGINT NOT NULL,
    enrolled_at       BIGINT NOT NULL,
    completed_at      BIGINT NULL,
    completed_lessons INT    NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, course_id),
    KEY idx_course_enrollments_course (course_id),
    CONSTRAINT fk_course_enrollments_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT fk_course_enrollments_course FOREIGN KEY (course_id) REFERENCES courses (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE lesson_completions (
    user_id      BIGINT NOT NULL,
    lesson_id    BIGINT NOT NULL,
    course_id    BIGINT NOT NULL,
    completed_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, lesson_id),
    KEY idx_lesson_completions_progress (user_id, course_id),
    KEY idx_lesson_completions_lesson (lesson_id),
    CONSTRAINT fk_lesson_completions_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT fk_lesson_completions_lesson FOREIGN KEY (lesson_id) REFERENCES course_lessons (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE course_grants (
    user_id    BIGINT      NOT NULL,
    course_id  BIGINT      NOT NULL,
    source     VARCHAR(32) NOT NULL,
    ref        VARCHAR(64) NOT NULL DEFAULT '',
    granted_at BIGINT      NOT NULL,
    PRIMARY KEY (user_id, course_id),
    KEY idx_course_grants_course (course_id),
    CONSTRAINT fk_course_grants_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT fk_course_grants_course FOREIGN KEY (course_id) REFERENCES courses (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Admins' rows are locked when a role changes (the last admin stays).
CREATE INDEX idx_users_role ON users (role);

-- +goose Down
DROP INDEX idx_users_role ON users;
DROP TABLE course_grants;
DROP TABLE lesson_completions;
DROP TABLE course_enrollments;
DROP TABLE course_lessons;
DROP TABLE course_modules;
DROP TABLE courses;
