-- +goose Up
-- The XP ledger: append-only, one row per (user, reason, ref), so a cause
-- never awards twice and users.xp can be rebuilt from it.
CREATE TABLE xp_events (
    id         BIGINT      NOT NULL AUTO_INCREMENT PRIMARY KEY,
    user_id    BIGINT      NOT NULL,
    amount     BIGINT      NOT NULL,
    reason     VARCHAR(32) NOT NULL,
    ref        VARCHAR(64) NOT NULL,
    created_at BIGINT      NOT NULL,
    UNIQUE KEY uq_xp_events_cause (user_id, reason, ref),
    KEY idx_xp_events_user_time (user_id, created_at),
    KEY idx_xp_events_time (created_at),
    CONSTRAINT fk_xp_events_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- +goose Down
DROP TABLE xp_events;
