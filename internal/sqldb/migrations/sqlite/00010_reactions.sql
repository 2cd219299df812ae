-- +goose Up
-- One row per (item, user, emoji): reacting twice with the same emoji is
-- one reaction. item_kind is 'message' (channel messages) or 'shout'.
-- The primary key serves the per-page counts (item_kind, item_id IN ...)
-- and the caller's own reactions on a page.
CREATE TABLE reactions (
    item_kind  TEXT    NOT NULL,
    item_id    INTEGER NOT NULL,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    emoji      TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (item_kind, item_id, user_id, emoji)
);

-- GET /api/users/me/xp pages a user's ledger by id.
CREATE INDEX idx_xp_events_user_id ON xp_events (user_id, id);

-- +goose Down
DROP INDEX idx_xp_events_user_id;
DROP TABLE reactions;
