-- +goose Up
-- One row per (item, user, emoji): reacting twice with the same emoji is
-- one reaction. item_kind is 'message' (channel messages) or 'shout'.
-- The primary key serves the per-page counts (item_kind, item_id IN ...)
-- and the caller's own reactions on a page.
CREATE TABLE reactions (
    item_kind  VARCHAR(16) NOT NULL,
    item_id    BIGINT      NOT NULL,
    user_id    BIGINT      NOT NULL,
    emoji      VARCHAR(16) NOT NULL,
    created_at BIGINT      NOT NULL,
    PRIMARY KEY (item_kind, item_id, user_id, emoji),
    CONSTRAINT fk_reactions_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- GET /api/users/me/xp pages a user's ledger by id.
CREATE INDEX idx_xp_events_user_id ON xp_events (user_id, id);

-- +goose Down
DROP INDEX idx_xp_events_user_id ON xp_events;
DROP TABLE reactions;
