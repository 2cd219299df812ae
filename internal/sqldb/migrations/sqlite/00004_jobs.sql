-- +goose Up
CREATE TABLE jobs (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    kind         TEXT    NOT NULL,
    payload      TEXT    NOT NULL,
    priority     INTEGER NOT NULL DEFAULT 0, -- higher runs first
    state        TEXT    NOT NULL,           -- available, running, completed, dead, discarded
    attempts     INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL,
    run_at       INTEGER NOT NULL,
    lease_until  INTEGER,
    locked_by    TEXT    NOT NULL DEFAULT '',
    unique_key   TEXT,                       -- unique among jobs not finished
    errors       TEXT    NOT NULL DEFAULT '[]',
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    finished_at  INTEGER
);
CREATE INDEX idx_jobs_claim ON jobs (state, priority DESC, run_at, id); -- claim order: no sort
CREATE INDEX idx_jobs_lease ON jobs (state, lease_until);
CREATE INDEX idx_jobs_kind_state ON jobs (kind, state);
CREATE UNIQUE INDEX uq_jobs_unique_key ON jobs (unique_key);

CREATE TABLE ai_requests (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind       TEXT    NOT NULL,
    input      TEXT    NOT NULL,
    status     TEXT    NOT NULL DEFAULT 'pending', -- pending, done, failed
    output     TEXT    NOT NULL DEFAULT '',
    error      TEXT    NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX idx_ai_requests_user ON ai_requests (user_id, id);

CREATE TABLE analytics_daily (
    day    TEXT    NOT NULL, -- YYYY-MM-DD (UTC)
    metric TEXT    NOT NULL, -- dau, messages
    dim    TEXT    NOT NULL DEFAULT '', -- e.g. the channel id for messages
    value  INTEGER NOT NULL,
    PRIMARY KEY (day, metric, dim)
);

-- +goose Down
DROP TABLE analytics_daily;
DROP TABLE ai_requests;
DROP TABLE jobs;
