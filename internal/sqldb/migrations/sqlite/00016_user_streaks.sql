-- +goose Up
-- Each user's activity streak (a channel message or a shout on a UTC day),
-- kept by the writes themselves so that the achievement check reads one
-- row instead of every message of the user's last 60 days. Days are UTC
-- day numbers (unix ms / 86,400,000). A user has no row until their first
-- message or shout after this migration; that write (and a check before
-- it) counts their whole history once (internal/sqlstore/achievement_streak.go).
CREATE TABLE user_streaks (
    user_id  INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    last_day INTEGER NOT NULL, -- the latest day with activity
    run      INTEGER NOT NULL, -- consecutive active days ending on last_day
    best     INTEGER NOT NULL  -- the longest run of consecutive active days
);

-- +goose Down
DROP TABLE user_streaks;
