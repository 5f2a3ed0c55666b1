-- +goose Up
-- Retention deletes old runs by the thousand. Deleting a job cascades to
-- its artifacts and findings by job_id, and PostgreSQL does that with one
-- lookup per deleted job: without an index on job_id each lookup scans the
-- whole table, so a batch of 2,000 runs took minutes on a large history
-- (scripts/bench retention -explain). Every other column a run's cascade
-- follows is indexed already.
CREATE INDEX artifacts_job_idx ON artifacts (job_id);
CREATE INDEX findings_job ON findings (job_id);

-- +goose Down
DROP INDEX findings_job;
DROP INDEX artifacts_job_idx;
