-- +goose Up
-- Events with a capacity, RSVPs with a waitlist, and attendance. Going and
-- waitlisted counts are counted from event_rsvps through its
-- (event_id, status, wait_seq) index, so they cannot drift from the rows.
CREATE TABLE events (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    owner_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    title        TEXT    NOT NULL,
    description  TEXT    NOT NULL DEFAULT '',
    location     TEXT    NOT NULL DEFAULT '',
    stream_url   TEXT    NOT NULL DEFAULT '',
    starts_at    INTEGER NOT NULL,
    ends_at      INTEGER NOT NULL,
    capacity     INTEGER,          -- NULL: unlimited
    reminded_for INTEGER,          -- the starts_at whose reminder went out
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);
CREATE INDEX idx_events_starts ON events (starts_at, id);
CREATE INDEX idx_events_owner ON events (owner_id, starts_at);

CREATE TABLE event_rsvps (
    event_id   INTEGER NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    status     TEXT    NOT NULL, -- going, waitlisted, interested, not_going
    wait_seq   INTEGER NOT NULL DEFAULT 0, -- place in the waitlist while waitlisted, else 0
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (event_id, user_id)
);
CREATE INDEX idx_event_rsvps_status ON event_rsvps (event_id, status, wait_seq);
CREATE INDEX idx_event_rsvps_user ON event_rsvps (user_id, event_id);

CREATE TABLE event_attendance (
    event_id  INTEGER NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    user_id   INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    marked_at INTEGER NOT NULL,
    PRIMARY KEY (event_id, user_id)
);
CREATE INDEX idx_event_attendance_user ON event_attendance (user_id);

-- +goose Down
DROP TABLE event_attendance;
DROP TABLE event_rsvps;
DROP TABLE events;
