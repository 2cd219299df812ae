-- +goose Up
CREATE INDEX idx_messages_channel_id ON messages (channel_id, id);

-- One thread per pair of users: user_a < user_b.
CREATE TABLE threads (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    user_a          INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    user_b          INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at      INTEGER NOT NULL,
    last_message_at INTEGER NOT NULL,
    last_message_id INTEGER NOT NULL DEFAULT 0,
    a_read_id       INTEGER NOT NULL DEFAULT 0, -- last message user_a has read
    b_read_id       INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX uq_threads_pair ON threads (user_a, user_b);
CREATE INDEX idx_threads_b ON threads (user_b, last_message_at);
CREATE INDEX idx_threads_a ON threads (user_a, last_message_at);

CREATE TABLE thread_messages (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    thread_id  INTEGER NOT NULL REFERENCES threads (id) ON DELETE CASCADE,
    sender_id  INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    body       TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX idx_thread_messages_thread ON thread_messages (thread_id, id);

CREATE TABLE shouts (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    body       TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX idx_shouts_user ON shouts (user_id);

-- +goose Down
DROP TABLE shouts;
DROP TABLE thread_messages;
DROP TABLE threads;
DROP INDEX idx_messages_channel_id;
