-- +goose Up
-- Achievements: the catalog (built-in rules are rows with a rule_kind and
-- rule_count; admin-defined ones may have a rule or none, for grants by
-- hand) and who earned what, at most once per user (the primary key).
CREATE TABLE achievements (
    id          BIGINT       NOT NULL AUTO_INCREMENT PRIMARY KEY,
    slug        VARCHAR(64)  NOT NULL,
    name        VARCHAR(200) NOT NULL,
    description TEXT         NOT NULL,
    icon_url    VARCHAR(512) NOT NULL DEFAULT '',
    xp          BIGINT       NOT NULL DEFAULT 0,
    rarity      VARCHAR(16)  NOT NULL,
    rule_kind   VARCHAR(16)  NOT NULL DEFAULT '',
    rule_count  INT          NOT NULL DEFAULT 0,
    created_at  BIGINT       NOT NULL,
    updated_at  BIGINT       NOT NULL,
    UNIQUE KEY uq_achievements_slug (slug)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE user_achievements (
    user_id        BIGINT      NOT NULL,
    achievement_id BIGINT      NOT NULL,
    source         VARCHAR(16) NOT NULL,
    awarded_at     BIGINT      NOT NULL,
    PRIMARY KEY (user_id, achievement_id),
    KEY idx_user_achievements_achievement (achievement_id),
    CONSTRAINT fk_user_achievements_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT fk_user_achievements_achievement FOREIGN KEY (achievement_id) REFERENCES achievements (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Collectibles: minted counts the serials handed out; a claim takes the
-- next one with a conditional UPDATE (minted < supply), so a limited
-- supply is never oversold. One of each per user.
CREATE TABLE collectibles (
    id             BIGINT       NOT NULL AUTO_INCREMENT PRIMARY KEY,
    slug           VARCHAR(64)  NOT NULL,
    name           VARCHAR(200) NOT NULL,
    image_url      VARCHAR(512) NOT NULL DEFAULT '',
    rarity         VARCHAR(16)  NOT NULL,
    supply         INT          NULL,
    minted         INT          NOT NULL DEFAULT 0,
    price_credits  BIGINT       NULL,
    achievement_id BIGINT       NULL,
    created_at     BIGINT       NOT NULL,
    updated_at     BIGINT       NOT NULL,
    UNIQUE KEY uq_collectibles_slug (slug),
    KEY idx_collectibles_achievement (achievement_id),
    CONSTRAINT fk_collectibles_achievement FOREIGN KEY (achievement_id) REFERENCES achievements (id) ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE user_collectibles (
    collectible_id BIGINT      NOT NULL,
    user_id        BIGINT      NOT NULL,
    serial         INT         NOT NULL,
    source         VARCHAR(16) NOT NULL,
    acquired_at    BIGINT      NOT NULL,
    PRIMARY KEY (collectible_id, user_id),
    UNIQUE KEY uq_user_collectibles_serial (collectible_id, serial),
    KEY idx_user_collectibles_user (user_id, acquired_at),
    CONSTRAINT fk_user_collectibles_collectible FOREIGN KEY (collectible_id) REFERENCES collectibles (id) ON DELETE CASCADE,
    CONSTRAINT fk_user_collectibles_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

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
DROP INDEX idx_shouts_user_time ON shouts;
DROP INDEX idx_messages_sender_time ON messages;
DROP TABLE user_collectibles;
DROP TABLE collectibles;
DROP TABLE user_achievements;
DROP TABLE achievements;
