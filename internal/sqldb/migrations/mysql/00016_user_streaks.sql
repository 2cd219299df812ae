-- +goose Up
-- Each user's activity streak (a channel message or a shout on a UTC day),
-- kept by the writes themselves so that the achievement check reads one
-- row instead of every message of the user's last 60 days. Days are UTC
-- day numbers (unix ms / 86,400,000). A user has no row until their first
-- message or shout after this migration; that write (and a check before
-- it) counts their whole history once (internal/sqlstore/achievement_streak.go).
CREATE TABLE user_streaks (
    user_id  BIGINT NOT NULL PRIMARY KEY,
    last_day BIGINT NOT NULL, -- the latest day with activity
    run      BIGINT NOT NULL, -- consecutive active days ending on last_day
    best     BIGINT NOT NULL, -- the longest run of consecutive active days
    CONSTRAINT fk_user_streaks_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB;

-- +goose Down
DROP TABLE user_streaks;
