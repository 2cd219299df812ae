-- +goose Up
-- Mixes published by creators. genres is the display list ("house,techno");
-- mix_genres holds the same genres one per row, for listing by genre.
-- plays and likes are counters: likes move in the like's transaction,
-- plays in batches from each instance's play counter.
CREATE TABLE mixes (
    id           BIGINT        NOT NULL AUTO_INCREMENT PRIMARY KEY,
    creator_id   BIGINT        NOT NULL,
    title        VARCHAR(800)  NOT NULL,
    genres       VARCHAR(255)  NOT NULL DEFAULT '',
    duration_sec INT           NOT NULL,
    audio_path   VARCHAR(255)  NOT NULL,
    cover_path   VARCHAR(255)  NOT NULL DEFAULT '',
    plays        BIGINT        NOT NULL DEFAULT 0,
    likes        BIGINT        NOT NULL DEFAULT 0,
    created_at   BIGINT        NOT NULL,
    updated_at   BIGINT        NOT NULL,
    -- recent: the primary key; by creator; popular (plays, then newest).
    KEY idx_mixes_creator (creator_id, id),
    KEY idx_mixes_popular (plays, id),
    CONSTRAINT fk_mixes_creator FOREIGN KEY (creator_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE mix_genres (
    mix_id BIGINT      NOT NULL,
    genre  VARCHAR(32) NOT NULL,
    PRIMARY KEY (mix_id, genre),
    -- by genre, newest first.
    KEY idx_mix_genres_genre (genre, mix_id),
    CONSTRAINT fk_mix_genres_mix FOREIGN KEY (mix_id) REFERENCES mixes (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE mix_likes (
    mix_id     BIGINT NOT NULL,
    user_id    BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (mix_id, user_id),
    -- "which of these mixes do I like": one probe per listed mix.
    KEY idx_mix_likes_user (user_id, mix_id),
    CONSTRAINT fk_mix_likes_mix FOREIGN KEY (mix_id) REFERENCES mixes (id) ON DELETE CASCADE,
    CONSTRAINT fk_mix_likes_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB;

-- What is on air now: one row (id 1), written by PUT /api/live/now-playing.
CREATE TABLE now_playing (
    id           BIGINT       NOT NULL PRIMARY KEY,
    live         TINYINT(1)   NOT NULL DEFAULT 0,
    dj_id        BIGINT       NULL,
    title        VARCHAR(800) NOT NULL DEFAULT '',
    artist       VARCHAR(800) NOT NULL DEFAULT '',
    artwork_path VARCHAR(255) NOT NULL DEFAULT '',
    has_track    TINYINT(1)   NOT NULL DEFAULT 0,
    started_at   BIGINT       NULL,
    updated_at   BIGINT       NOT NULL,
    CONSTRAINT fk_now_playing_dj FOREIGN KEY (dj_id) REFERENCES users (id) ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

INSERT INTO now_playing (id, updated_at) VALUES (1, 0);

-- Every track put on air, newest last (paged by id).
CREATE TABLE now_playing_history (
    id           BIGINT       NOT NULL AUTO_INCREMENT PRIMARY KEY,
    dj_id        BIGINT       NULL,
    title        VARCHAR(800) NOT NULL,
    artist       VARCHAR(800) NOT NULL,
    artwork_path VARCHAR(255) NOT NULL,
    started_at   BIGINT       NOT NULL,
    CONSTRAINT fk_now_playing_history_dj FOREIGN KEY (dj_id) REFERENCES users (id) ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- +goose Down
DROP TABLE now_playing_history;
DROP TABLE now_playing;
DROP TABLE mix_likes;
DROP TABLE mix_genres;
DROP TABLE mixes;
