-- +goose Up
-- Indexes the dashboard's run views read. Neither covers a column that a
-- run's or a job's progress updates (status, timestamps of start and end),
-- so those updates stay HOT.
--
-- Runs per minute of the last hour (the overview chart) and the newest runs
-- by creation time: created_at is written once, at insert.
CREATE INDEX runs_created_idx ON runs (created_at);
-- "Runs that ran task X", newest first (the runs list's task filter): one
-- range of this index instead of a probe of every run's jobs.
CREATE INDEX jobs_task_run_idx ON jobs (task_type, run_id);
-- The newest findings across hosts (the overview).
CREATE INDEX findings_created ON findings (created_at DESC);

-- +goose Down
DROP INDEX findings_created;
DROP INDEX jobs_task_run_idx;
DROP INDEX runs_created_idx;
