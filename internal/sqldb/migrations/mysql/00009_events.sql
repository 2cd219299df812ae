-- +goose Up
-- Events with a capacity, RSVPs with a waitlist, and attendance. Going and
-- waitlisted counts are counted from event_rsvps through its
-- (event_id, status, wait_seq) index, so they cannot drift from the rows.
CREATE TABLE events (
    id           BIGINT        NOT NULL AUTO_INCREMENT PRIMARY KEY,
    owner_id     BIGINT        NOT NULL,
    title        VARCHAR(120)  NOT NULL,
    description  TEXT          NOT NULL,
    location     VARCHAR(200)  NOT NULL DEFAULT '',
    stream_url   VARCHAR(500)  NOT NULL DEFAULT '',
    starts_at    BIGINT        NOT NULL,
    ends_at      BIGINT        NOT NULL,
    capacity     INT           NULL,
    reminded_for BIGINT        NULL,
    created_at   BIGINT        NOT NULL,
    updated_at   BIGINT        NOT NULL,
    KEY idx_events_starts (starts_at, id),
    KEY idx_events_owner (owner_id, starts_at),
    CONSTRAINT fk_events_owner FOREIGN KEY (owner_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE event_rsvps (
    event_id   BIGINT      NOT NULL,
    user_id    BIGINT      NOT NULL,
    status     VARCHAR(16) NOT NULL,
    wait_seq   BIGINT      NOT NULL DEFAULT 0,
    created_at BIGINT      NOT NULL,
    updated_at BIGINT      NOT NULL,
    PRIMARY KEY (event_id, user_id),
    KEY idx_event_rsvps_status (event_id, status, wait_seq),
    KEY idx_event_rsvps_user (user_id, event_id),
    CONSTRAINT fk_event_rsvps_event FOREIGN KEY (event_id) REFERENCES events (id) ON DELETE CASCADE,
    CONSTRAINT fk_event_rsvps_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE event_attendance (
    event_id  BIGINT NOT NULL,
    user_id   BIGINT NOT NULL,
    marked_at BIGINT NOT NULL,
    PRIMARY KEY (event_id, user_id),
    KEY idx_event_attendance_user (user_id),
    CONSTRAINT fk_event_attendance_event FOREIGN KEY (event_id) REFERENCES events (id) ON DELETE CASCADE,
    CONSTRAINT fk_event_attendance_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- +goose Down
DROP TABLE event_attendance;
DROP TABLE event_rsvps;
DROP TABLE events;
