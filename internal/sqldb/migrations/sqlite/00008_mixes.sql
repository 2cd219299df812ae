-- +goose Up
-- Mixes published by creators. genres is the display list ("house,techno");
-- mix_genres holds the same genres one per row, for listing by genre.
-- plays and likes are counters: likes move in the like's transaction,
-- plays in batches from each instance's play counter.
CREATE TABLE mixes (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    creator_id   INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    title        TEXT    NOT NULL,
    genres       TEXT    NOT NULL DEFAULT '',
    duration_sec INTEGER NOT NULL,
    audio_path   TEXT    NOT NULL,
    cover_path   TEXT    NOT NULL DEFAULT '',
    plays        INTEGER NOT NULL DEFAULT 0,
    likes        INTEGER NOT NULL DEFAULT 0,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);
-- recent: the primary key; by creator; popular (plays, then newest).
CREATE INDEX idx_mixes_creator ON mixes (creator_id, id);
CREATE INDEX idx_mixes_popular ON mixes (plays, id);

CREATE TABLE mix_genres (
    mix_id INTEGER NOT NULL REFERENCES mixes (id) ON DELETE CASCADE,
    genre  TEXT    NOT NULL,
    PRIMARY KEY (mix_id, genre)
);
-- by genre, newest first.
CREATE INDEX idx_mix_genres_genre ON mix_genres (genre, mix_id);

CREATE TABLE mix_likes (
    mix_id     INTEGER NOT NULL REFERENCES mixes (id) ON DELETE CASCADE,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (mix_id, user_id)
);
-- "which of these mixes do I like": one probe per listed mix.
CREATE INDEX idx_mix_likes_user ON mix_likes (user_id, mix_id);

-- What is on air now: one row (id 1), written by PUT /api/live/now-playing.
CREATE TABLE now_playing (
    id           INTEGER PRIMARY KEY,
    live         INTEGER NOT NULL DEFAULT 0,
    dj_id        INTEGER REFERENCES users (id) ON DELETE SET NULL,
    title        TEXT    NOT NULL DEFAULT '',
    artist       TEXT    NOT NULL DEFAULT '',
    artwork_path TEXT    NOT NULL DEFAULT '',
    has_track    INTEGER NOT NULL DEFAULT 0,
    started_at   INTEGER,
    updated_at   INTEGER NOT NULL
);

INSERT INTO now_playing (id, updated_at) VALUES (1, 0);

-- Every track put on air, newest last (paged by id).
CREATE TABLE now_playing_history (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    dj_id        INTEGER REFERENCES users (id) ON DELETE SET NULL,
    title        TEXT    NOT NULL,
    artist       TEXT    NOT NULL,
    artwork_path TEXT    NOT NULL,
    started_at   INTEGER NOT NULL
);

-- +goose Down
DROP TABLE now_playing_history;
DROP TABLE now_playing;
DROP TABLE mix_likes;
DROP TABLE mix_genres;
DROP TABLE mixes;
