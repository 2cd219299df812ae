-- +goose Up
CREATE INDEX idx_messages_channel_id ON messages (channel_id, id);

-- One thread per pair of users: user_a < user_b.
CREATE TABLE threads (
    id              BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    user_a          BIGINT NOT NULL,
    user_b          BIGINT NOT NULL,
    created_at      BIGINT NOT NULL,
    last_message_at BIGINT NOT NULL,
    last_message_id BIGINT NOT NULL DEFAULT 0,
    a_read_id       BIGINT NOT NULL DEFAULT 0,
    b_read_id       BIGINT NOT NULL DEFAULT 0,
    UNIQUE KEY uq_threads_pair (user_a, user_b),
    KEY idx_threads_b (user_b, last_message_at),
    KEY idx_threads_a (user_a, last_message_at),
    CONSTRAINT fk_threads_a FOREIGN KEY (user_a) REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT fk_threads_b FOREIGN KEY (user_b) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE thread_messages (
    id         BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    thread_id  BIGINT NOT NULL,
    sender_id  BIGINT NOT NULL,
    body       TEXT   NOT NULL,
    created_at BIGINT NOT NULL,
    KEY idx_thread_messages_thread (thread_id, id),
    CONSTRAINT fk_thread_messages_thread FOREIGN KEY (thread_id) REFERENCES threads (id) ON DELETE CASCADE,
    CONSTRAINT fk_thread_messages_sender FOREIGN KEY (sender_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE shouts (
    id         BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    user_id    BIGINT NOT NULL,
    body       VARCHAR(1200) NOT NULL,
    created_at BIGINT NOT NULL,
    KEY idx_shouts_user (user_id),
    CONSTRAINT fk_shouts_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- +goose Down
DROP TABLE shouts;
DROP TABLE thread_messages;
DROP TABLE threads;
DROP INDEX idx_messages_channel_id ON messages;
