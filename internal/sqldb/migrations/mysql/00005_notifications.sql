-- +goose Up
CREATE TABLE notifications (
    id         BIGINT      NOT NULL AUTO_INCREMENT PRIMARY KEY,
    user_id    BIGINT      NOT NULL,
    kind       VARCHAR(16) NOT NULL,
    actor_id   BIGINT      NOT NULL,
    context_id BIGINT      NOT NULL,
    ref_id     BIGINT      NOT NULL,
    created_at BIGINT      NOT NULL,
    mailed_at  BIGINT      NULL,
    KEY idx_notifications_user (user_id, mailed_at, id),
    CONSTRAINT fk_notifications_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- +goose Down
DROP TABLE notifications;
