-- +goose Up
-- idx_messages_sender (sender_id) is a prefix of idx_messages_sender_time
-- (sender_id, created_at), which serves every query on a sender's messages
-- (the moderation and achievement counts, the streak's days) and the
-- foreign key's lookups as well; each post wrote both. EXPLAIN on both
-- engines in BENCHMARKS.md ("Message post vs PocketBase, round 2").
DROP INDEX idx_messages_sender;

-- +goose Down
CREATE INDEX idx_messages_sender ON messages (sender_id);
