-- +goose Up
-- The audit log: append-only and hash-chained. id is the position in the
-- chain (1, 2, 3...), assigned from audit_head under its lock, so a gap is
-- a deleted row; hash covers the row's content and prev_hash.
CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY,
    at          INTEGER NOT NULL,
    actor_id    INTEGER NOT NULL,
    actor_ip    TEXT    NOT NULL,
    action      TEXT    NOT NULL,
    target_kind TEXT    NOT NULL,
    target_id   INTEGER NOT NULL,
    before_json TEXT    NOT NULL,
    after_json  TEXT    NOT NULL,
    reason      TEXT    NOT NULL,
    prev_hash   TEXT    NOT NULL,
    hash        TEXT    NOT NULL
);
CREATE INDEX idx_audit_log_actor ON audit_log (actor_id, id);
CREATE INDEX idx_audit_log_action ON audit_log (action, id);
CREATE INDEX idx_audit_log_target ON audit_log (target_kind, target_id, id);

-- The chain's head: the last id and hash. Appenders lock this one row, so
-- appends are serialised and each links to the one before.
CREATE TABLE audit_head (
    id      INTEGER PRIMARY KEY,
    last_id INTEGER NOT NULL,
    hash    TEXT    NOT NULL
);
INSERT INTO audit_head (id, last_id, hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

-- +goose Down
DROP TABLE audit_head;
DROP TABLE audit_log;
