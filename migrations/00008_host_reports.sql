-- +goose Up
-- The dashboard's host pages show a host's latest service map and GPU
-- report: the newest completed job of that task on that host. Only those two
-- tasks' completed jobs enter this index, so it costs nothing to the claims
-- and finishes of every other job.
CREATE INDEX jobs_host_report_idx ON jobs (worker_host_id, task_type, completed_at DESC, id DESC)
    WHERE status = 'completed' AND task_type IN ('service_map', 'gpu_report');

-- +goose Down
DROP INDEX jobs_host_report_idx;
