-- +goose Up
-- Bans: banned_at (already there) with the reason and an optional end; a
-- ban whose end has passed no longer holds (checked where it is read).
ALTER TABLE users
    ADD COLUMN ban_reason   VARCHAR(500) NOT NULL DEFAULT '',
    ADD COLUMN banned_until BIGINT       NULL,
    ADD KEY idx_users_created (created_at);

-- Archived channels keep their history and refuse new posts; topic is the
-- line shown under a channel's name.
ALTER TABLE channels
    ADD COLUMN topic       VARCHAR(250) NOT NULL DEFAULT '',
    ADD COLUMN archived_at BIGINT       NULL;

-- Reports: one open report per reporter and target, held by the unique key
-- over open_slot, which is 0 while the report is open and its own id once
-- resolved (so resolved reports never collide). author_id is the target's
-- author (the user itself for a user report), for ban_author.
CREATE TABLE reports (
    id          BIGINT       NOT NULL AUTO_INCREMENT PRIMARY KEY,
    reporter_id BIGINT       NOT NULL,
    target_kind VARCHAR(16)  NOT NULL,
    target_id   BIGINT       NOT NULL,
    author_id   BIGINT       NOT NULL,
    reason      VARCHAR(500) NOT NULL,
    status      VARCHAR(16)  NOT NULL DEFAULT 'open',
    open_slot   BIGINT       NOT NULL DEFAULT 0,
    resolution  VARCHAR(16)  NOT NULL DEFAULT '',
    note        VARCHAR(500) NOT NULL DEFAULT '',
    resolved_by BIGINT       NULL,
    resolved_at BIGINT       NULL,
    created_at  BIGINT       NOT NULL,
    UNIQUE KEY uq_reports_open (reporter_id, target_kind, target_id, open_slot),
    KEY idx_reports_status_target (status, target_kind, target_id, id),
    KEY idx_reports_target (target_kind, target_id, status),
    KEY idx_reports_author (author_id),
    CONSTRAINT fk_reports_reporter FOREIGN KEY (reporter_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Stats: active users by when their sessions were last seen; messages per day.
CREATE INDEX idx_sessions_last_seen ON sessions (last_seen_at, user_id);
CREATE INDEX idx_messages_created ON messages (created_at);

-- +goose Down
DROP INDEX idx_messages_created ON messages;
DROP INDEX idx_sessions_last_seen ON sessions;
DROP TABLE reports;
ALTER TABLE channels DROP COLUMN archived_at, DROP COLUMN topic;
ALTER TABLE users DROP KEY idx_users_created, DROP COLUMN banned_until, DROP COLUMN ban_reason;
