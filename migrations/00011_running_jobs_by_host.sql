-- +goose NO TRANSACTION
-- +goose Up
-- Each launch counts the running jobs of every worker host (routing picks the
-- least loaded; the launch path's input fingerprint includes the counts).
-- Without this index the count walked jobs_lease_idx — every running job of
-- every host — and, until vacuum or a later scan cleaned them, the entries of
-- every job that had run since: right after a drain of 20,000 jobs a launch
-- took 50-60 ms instead of 4 (docs/BENCHMARKS.md). Jobs without a host (tasks
-- that need no Docker) stay out of it, so they pay nothing for it.
-- CONCURRENTLY: a large jobs table keeps taking writes while it is built.
CREATE INDEX CONCURRENTLY IF NOT EXISTS jobs_host_running_idx ON jobs (worker_host_id)
    WHERE status = 'running' AND worker_host_id IS NOT NULL;

-- +goose Down
DROP INDEX CONCURRENTLY IF EXISTS jobs_host_running_idx;
