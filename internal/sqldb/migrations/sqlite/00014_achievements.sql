-- +goose Up
-- Achievements: the catalog (built-in rules are rows with a rule_kind and
-- rule_count; admin-defined ones may have a rule or none, for grants by
-- hand) and who earned what, at most once per user (the primary key).
CREATE TABLE achievements (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    slug        TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    description TEXT    NOT NULL DEFAULT '',
    icon_url    TEXT    NOT NULL DEFAULT '',
    xp          INTEGER NOT NULL DEFAULT 0,
    rarity      TEXT    NOT NULL,
    rule_kind   TEXT    NOT NULL DEFAULT '', -- '': granted by hand only
    rule_count  INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
CREATE UNIQUE INDEX uq_achievements_slug ON achievements (slug);

CREATE TABLE user_achievements (
    user_id        INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    achievement_id INTEGER NOT NULL REFERENCES achievements (id) ON DELETE CASCADE,
    source         TEXT    NOT NULL, -- rule, admin
    awarded_at     INTEGER NOT NULL,
    PRIMARY KEY (user_id, achievement_id)
);
CREATE INDEX idx_user_achievements_achievement ON user_achievements (achievement_id);

-- Collectibles: minted counts the serials handed out; a claim takes the
-- next one with a conditional UPDATE (minted < supply), so a limited
-- supply is never oversold. One of each per user.
CREATE TABLE collectibles (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    slug           TEXT    NOT NULL,
    name           TEXT    NOT NULL,
    image_url      TEXT    NOT NULL DEFAULT '',
    rarity         TEXT    NOT NULL,
    supply         INTEGER,          -- NULL: unlimited
    minted         INTEGER NOT NULL DEFAULT 0,
    price_credits  INTEGER,          -- NULL: not for sale
    achievement_id INTEGER REFERENCES achievements (id) ON DELETE SET NULL,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
);
CREATE UNIQUE INDEX uq_collectibles_slug ON collectibles (slug);
CREATE INDEX idx_collectibles_achievement ON collectibles (achievement_id);

CREATE TABLE user_collectibles (
    collectible_id INTEGER NOT NULL REFERENCES collectibles (id) ON DELETE CASCADE,
    user_id        INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    serial         INTEGER NOT NULL,
    source         TEXT    NOT NULL, -- achievement, purchase, admin
    acquired_at    INTEGER NOT NULL,
    PRIMARY KEY (collectible_id, user_id)
);
CREATE UNIQUE INDEX uq_user_collectibles_serial ON user_collectibles (collectible_id, serial);
CREATE INDEX idx_user_collectibles_user ON user_collectibles (user_id, acquired_at);

-- The activity streak reads a user's posting days.
CREATE INDEX idx_messages_sender_time ON messages (sender_id, created_at);
CREATE INDEX idx_shouts_user_time ON shouts (user_id, created_at);

INSERT INTO achievements (slug, name, description, icon_url, xp, rarity, rule_kind, rule_count, created_at, updated_at) VALUES
    ('first-message', 'First words', 'Posted your first channel message.', '', 5, 'common', 'messages', 1, 0, 0),
    ('first-shout', 'Heard in the lobby', 'Posted your first shout.', '', 5, 'common', 'shouts', 1, 0, 0),
    ('messages-100', 'Regular', 'Posted 100 channel messages.', '', 25, 'uncommon', 'messages', 100, 0, 0),
    ('streak-7', 'On a roll', 'Active (a message or a shout) 7 UTC days in a row.', '', 50, 'rare', 'streak', 7, 0, 0),
    ('first-course', 'Graduate', 'Completed every lesson of a course.', '', 50, 'uncommon', 'courses', 1, 0, 0),
    ('level-5', 'Level 5', 'Reached level 5.', '', 100, 'rare', 'level', 5, 0, 0),
    ('level-7', 'Level 7', 'Reached level 7.', '', 250, 'epic', 'level', 7, 0, 0),
    ('level-9', 'Level 9', 'Reached level 9.', '', 500, 'legendary', 'level', 9, 0, 0),
    ('first-mix', 'On the decks', 'Published your first mix.', '', 25, 'common', 'mixes', 1, 0, 0),
    ('events-5', 'Familiar face', 'Attended 5 events.', '', 50, 'uncommon', 'events', 5, 0, 0);

-- +goose Down
DROP INDEX idx_shouts_user_time;
DROP INDEX idx_messages_sender_time;
DROP TABLE user_collectibles;
DROP TABLE collectibles;
DROP TABLE user_achievements;
DROP TABLE achievements;
