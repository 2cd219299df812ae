-- +goose Up
CREATE TABLE users (
    id                BIGINT       NOT NULL AUTO_INCREMENT PRIMARY KEY,
    email             VARCHAR(254) NOT NULL,
    username          VARCHAR(32)  NOT NULL,
    username_key      VARCHAR(32)  NOT NULL,
    password_hash     VARCHAR(255) NOT NULL,
    display_name      VARCHAR(64)  NOT NULL DEFAULT '',
    bio               TEXT         NOT NULL,
    avatar_url        VARCHAR(512) NOT NULL DEFAULT '',
    settings          TEXT         NOT NULL,
    role              VARCHAR(16)  NOT NULL DEFAULT 'user',
    xp                BIGINT       NOT NULL DEFAULT 0,
    level             INT          NOT NULL DEFAULT 1,
    email_verified_at BIGINT       NULL,
    mfa_secret        VARCHAR(64)  NOT NULL DEFAULT '',
    mfa_enabled       TINYINT(1)   NOT NULL DEFAULT 0,
    mfa_last_step     BIGINT       NOT NULL DEFAULT 0,
    banned_at         BIGINT       NULL,
    created_at        BIGINT       NOT NULL,
    updated_at        BIGINT       NOT NULL,
    UNIQUE KEY uq_users_email (email),
    UNIQUE KEY uq_users_username_key (username_key),
    KEY idx_users_xp (xp DESC),
    KEY idx_users_level (level DESC),
    KEY idx_users_username (username)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE sessions (
    id           BIGINT       NOT NULL AUTO_INCREMENT PRIMARY KEY,
    user_id      BIGINT       NOT NULL,
    token_hash   CHAR(64)     NOT NULL,
    user_agent   VARCHAR(255) NOT NULL DEFAULT '',
    ip           VARCHAR(64)  NOT NULL DEFAULT '',
    created_at   BIGINT       NOT NULL,
    last_seen_at BIGINT       NOT NULL,
    expires_at   BIGINT       NOT NULL,
    revoked_at   BIGINT       NULL,
    UNIQUE KEY uq_sessions_token_hash (token_hash),
    KEY idx_sessions_user (user_id, revoked_at),
    CONSTRAINT fk_sessions_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE email_verifications (
    id         BIGINT   NOT NULL AUTO_INCREMENT PRIMARY KEY,
    user_id    BIGINT   NOT NULL,
    code_hash  CHAR(64) NOT NULL,
    token_hash CHAR(64) NOT NULL,
    attempts   INT      NOT NULL DEFAULT 0,
    created_at BIGINT   NOT NULL,
    expires_at BIGINT   NOT NULL,
    used_at    BIGINT   NULL,
    UNIQUE KEY uq_email_verifications_token_hash (token_hash),
    KEY idx_email_verifications_user (user_id, used_at),
    CONSTRAINT fk_email_verifications_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE password_resets (
    id         BIGINT   NOT NULL AUTO_INCREMENT PRIMARY KEY,
    user_id    BIGINT   NOT NULL,
    token_hash CHAR(64) NOT NULL,
    created_at BIGINT   NOT NULL,
    expires_at BIGINT   NOT NULL,
    used_at    BIGINT   NULL,
    UNIQUE KEY uq_password_resets_token_hash (token_hash),
    KEY idx_password_resets_user (user_id),
    CONSTRAINT fk_password_resets_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE mfa_recovery_codes (
    id        BIGINT   NOT NULL AUTO_INCREMENT PRIMARY KEY,
    user_id   BIGINT   NOT NULL,
    code_hash CHAR(64) NOT NULL,
    used_at   BIGINT   NULL,
    KEY idx_mfa_recovery_codes_user (user_id, code_hash),
    CONSTRAINT fk_mfa_recovery_codes_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- +goose Down
DROP TABLE mfa_recovery_codes;
DROP TABLE password_resets;
DROP TABLE email_verifications;
DROP TABLE sessions;
DROP TABLE users;
