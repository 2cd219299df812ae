-- +goose Up
-- Bans: banned_at (already there) with the reason and an optional end; a
-- ban whose end has passed no longer holds (checked where it is read).
ALTER TABLE users ADD COLUMN ban_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN banned_until INTEGER;
CREATE INDEX idx_users_created ON users (created_at);

-- Archived channels keep their history and refuse new posts; topic is the
-- line shown under a channel's name.
ALTER TABLE channels ADD COLUMN topic TEXT NOT NULL DEFAULT '';
ALTER TABLE channels ADD COLUMN archived_at INTEGER;

-- Reports: one open report per reporter and target, held by the unique
-- index over open_slot, which is 0 while the report is open and its own id
-- once resolved (so resolved reports never collide). author_id is the
-- target's author (the user itself for a user report), for ban_author.
CREATE TABLE reports (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    reporter_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    target_kind TEXT    NOT NULL,
    target_id   INTEGER NOT NULL,
    author_id   INTEGER NOT NULL,
    reason      TEXT    NOT NULL,
    status      TEXT    NOT NULL DEFAULT 'open',
    open_slot   INTEGER NOT NULL DEFAULT 0,
    resolution  TEXT    NOT NULL DEFAULT '',
    note        TEXT    NOT NULL DEFAULT '',
    resolved_by INTEGER,
    resolved_at INTEGER,
    created_at  INTEGER NOT NULL
);
CREATE UNIQUE INDEX uq_reports_open ON reports (reporter_id, target_kind, target_id, open_slot);
CREATE INDEX idx_reports_status_target ON reports (status, target_kind, target_id, id);
CREATE INDEX idx_reports_target ON reports (target_kind, target_id, status);
CREATE INDEX idx_reports_author ON reports (author_id);

-- Stats: active users by when their sessions were last seen; messages per day.
CREATE INDEX idx_sessions_last_seen ON sessions (last_seen_at, user_id);
CREATE INDEX idx_messages_created ON messages (created_at);

-- +goose Down
DROP INDEX idx_messages_created;
DROP INDEX idx_sessions_last_seen;
DROP TABLE reports;
DROP INDEX idx_users_created;
ALTER TABLE channels DROP COLUMN archived_at;
ALTER TABLE channels DROP COLUMN topic;
ALTER TABLE users DROP COLUMN banned_until;
ALTER TABLE users DROP COLUMN ban_reason;
