-- +goose Up
-- The claim and lease indexes hold only the rows in the state their
-- queries ask for (claim: available; expired leases and heartbeats:
-- running). Every job moves available -> running -> completed, and a full
-- index rewrote each of its rows at every move; a partial one takes a row
-- in once and out once. MySQL/MariaDB have no partial indexes and keep the
-- full ones (no migration of this number there).
DROP INDEX idx_jobs_claim;
DROP INDEX idx_jobs_lease;
CREATE INDEX idx_jobs_claim ON jobs (priority DESC, run_at, id) WHERE state = 'available'; -- claim order: no sort
CREATE INDEX idx_jobs_lease ON jobs (lease_until) WHERE state = 'running';

-- +goose Down
DROP INDEX idx_jobs_claim;
DROP INDEX idx_jobs_lease;
CREATE INDEX idx_jobs_claim ON jobs (state, priority DESC, run_at, id);
CREATE INDEX idx_jobs_lease ON jobs (state, lease_until);
