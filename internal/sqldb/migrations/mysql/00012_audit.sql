-- +goose Up
-- The audit log: append-only and hash-chained. id is the position in the
-- chain (1, 2, 3...), assigned from audit_head under its lock, so a gap is
-- a deleted row; hash covers the row's content and prev_hash.
CREATE TABLE audit_log (
    id          BIGINT       NOT NULL PRIMARY KEY,
    at          BIGINT       NOT NULL,
    actor_id    BIGINT       NOT NULL,
    actor_ip    VARCHAR(64)  NOT NULL,
    action      VARCHAR(64)  NOT NULL,
    target_kind VARCHAR(32)  NOT NULL,
    target_id   BIGINT       NOT NULL,
    before_json MEDIUMTEXT   NOT NULL,
    after_json  MEDIUMTEXT   NOT NULL,
    reason      TEXT         NOT NULL,
    prev_hash   CHAR(64)     NOT NULL,
    hash        CHAR(64)     NOT NULL,
    KEY idx_audit_log_actor (actor_id, id),
    KEY idx_audit_log_action (action, id),
    KEY idx_audit_log_target (target_kind, target_id, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- The chain's head: the last id and hash. Appenders lock this one row, so
-- appends are serialised and each links to the one before.
CREATE TABLE audit_head (
    id      INT      NOT NULL PRIMARY KEY,
    last_id BIGINT   NOT NULL,
    hash    CHAR(64) NOT NULL
) ENGINE=InnoDB;
INSERT INTO audit_head (id, last_id, hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

-- +goose Down
DROP TABLE audit_head;
DROP TABLE audit_log;
