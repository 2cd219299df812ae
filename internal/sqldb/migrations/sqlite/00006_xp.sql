-- +goose Up
-- The XP ledger: append-only, one row per (user, reason, ref), so a cause
-- never awards twice and users.xp can be rebuilt from it.
CREATE TABLE xp_events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    amount     INTEGER NOT NULL,
    reason     TEXT    NOT NULL,
    ref        TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX uq_xp_events_cause ON xp_events (user_id, reason, ref);
CREATE INDEX idx_xp_events_user_time ON xp_events (user_id, created_at);
CREATE INDEX idx_xp_events_time ON xp_events (created_at);

-- +goose Down
DROP TABLE xp_events;
