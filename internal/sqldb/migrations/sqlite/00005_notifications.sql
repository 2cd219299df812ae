-- +goose Up
CREATE TABLE notifications (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind       TEXT    NOT NULL, -- dm, mention
    actor_id   INTEGER NOT NULL,
    context_id INTEGER NOT NULL, -- thread or channel id
    ref_id     INTEGER NOT NULL, -- message id
    created_at INTEGER NOT NULL,
    mailed_at  INTEGER
);
CREATE INDEX idx_notifications_user ON notifications (user_id, mailed_at, id);

-- +goose Down
DROP TABLE notifications;
