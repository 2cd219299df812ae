-- +goose Up
CREATE TABLE jobs (
    id           BIGINT       NOT NULL AUTO_INCREMENT PRIMARY KEY,
    kind         VARCHAR(64)  NOT NULL,
    payload      MEDIUMTEXT   NOT NULL,
    priority     INT          NOT NULL DEFAULT 0,
    state        VARCHAR(16)  NOT NULL,
    attempts     INT          NOT NULL DEFAULT 0,
    max_attempts INT          NOT NULL,
    run_at       BIGINT       NOT NULL,
    lease_until  BIGINT       NULL,
    locked_by    VARCHAR(64)  NOT NULL DEFAULT '',
    unique_key   VARCHAR(255) NULL,
    errors       MEDIUMTEXT   NOT NULL,
    created_at   BIGINT       NOT NULL,
    updated_at   BIGINT       NOT NULL,
    finished_at  BIGINT       NULL,
    KEY idx_jobs_claim (state, priority DESC, run_at, id), -- claim order: no sort
    KEY idx_jobs_lease (state, lease_until),
    KEY idx_jobs_kind_state (kind, state),
    UNIQUE KEY uq_jobs_unique_key (unique_key)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE ai_requests (
    id         BIGINT      NOT NULL AUTO_INCREMENT PRIMARY KEY,
    user_id    BIGINT      NOT NULL,
    kind       VARCHAR(32) NOT NULL,
    input      TEXT        NOT NULL,
    status     VARCHAR(16) NOT NULL DEFAULT 'pending',
    output     MEDIUMTEXT  NOT NULL,
    error      TEXT        NOT NULL,
    created_at BIGINT      NOT NULL,
    updated_at BIGINT      NOT NULL,
    KEY idx_ai_requests_user (user_id, id),
    CONSTRAINT fk_ai_requests_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE analytics_daily (
    day    CHAR(10)     NOT NULL,
    metric VARCHAR(32)  NOT NULL,
    dim    VARCHAR(64)  NOT NULL DEFAULT '',
    value  BIGINT       NOT NULL,
    PRIMARY KEY (day, metric, dim)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- +goose Down
DROP TABLE analytics_daily;
DROP TABLE ai_requests;
DROP TABLE jobs;
