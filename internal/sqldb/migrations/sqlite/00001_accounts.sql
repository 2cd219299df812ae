-- +goose Up
CREATE TABLE users (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    email             TEXT    NOT NULL,
    username          TEXT    NOT NULL,
    username_key      TEXT    NOT NULL, -- lower(username): uniqueness ignores case
    password_hash     TEXT    NOT NULL,
    display_name      TEXT    NOT NULL DEFAULT '',
    bio               TEXT    NOT NULL DEFAULT '',
    avatar_url        TEXT    NOT NULL DEFAULT '',
    settings          TEXT    NOT NULL DEFAULT '{}',
    role              TEXT    NOT NULL DEFAULT 'user',
    xp                INTEGER NOT NULL DEFAULT 0,
    level             INTEGER NOT NULL DEFAULT 1,
    email_verified_at INTEGER,
    mfa_secret        TEXT    NOT NULL DEFAULT '',
    mfa_enabled       INTEGER NOT NULL DEFAULT 0,
    mfa_last_step     INTEGER NOT NULL DEFAULT 0, -- last TOTP step accepted: no replay
    banned_at         INTEGER,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL
);
CREATE UNIQUE INDEX uq_users_email ON users (email);
CREATE UNIQUE INDEX uq_users_username_key ON users (username_key);
CREATE INDEX idx_users_xp ON users (xp DESC);
CREATE INDEX idx_users_level ON users (level DESC);
CREATE INDEX idx_users_username ON users (username);

CREATE TABLE sessions (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash   TEXT    NOT NULL,
    user_agent   TEXT    NOT NULL DEFAULT '',
    ip           TEXT    NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    revoked_at   INTEGER
);
CREATE UNIQUE INDEX uq_sessions_token_hash ON sessions (token_hash);
CREATE INDEX idx_sessions_user ON sessions (user_id, revoked_at);

CREATE TABLE email_verifications (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash  TEXT    NOT NULL,
    token_hash TEXT    NOT NULL,
    attempts   INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
);
CREATE UNIQUE INDEX uq_email_verifications_token_hash ON email_verifications (token_hash);
CREATE INDEX idx_email_verifications_user ON email_verifications (user_id, used_at);

CREATE TABLE password_resets (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
);
CREATE UNIQUE INDEX uq_password_resets_token_hash ON password_resets (token_hash);
CREATE INDEX idx_password_resets_user ON password_resets (user_id);

CREATE TABLE mfa_recovery_codes (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id   INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash TEXT    NOT NULL,
    used_at   INTEGER
);
CREATE INDEX idx_mfa_recovery_codes_user ON mfa_recovery_codes (user_id, code_hash);

-- +goose Down
DROP TABLE mfa_recovery_codes;
DROP TABLE password_resets;
DROP TABLE email_verifications;
DROP TABLE sessions;
DROP TABLE users;
