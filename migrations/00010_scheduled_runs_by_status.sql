-- +goose Up
-- A schedule's pending ScheduledRuns (a launch's, a run-now's, a fired slot's
-- not yet started) are looked up on every claim of it, by FireSlot and when
-- its next due time is computed. Without this index each lookup reads every
-- ScheduledRun the schedule ever had: a schedule firing every minute has half
-- a million after a year, and its claim slowed with its history.
-- (schedule_id, status) rather than a partial index on the pending ones: with
-- statistics from before a burst of launches, the planner took a partial
-- index for nearly empty and scanned all of it per joined row.
CREATE INDEX scheduled_runs_schedule_status_idx ON scheduled_runs (schedule_id, status);

-- +goose Down
DROP INDEX scheduled_runs_schedule_status_idx;
