package main

import (
	"fmt"
	"strings"

	"github.com/cyberbrain/cyberbrain/pkg/store"
)

// seedStatements build a history like a busy installation's: runs over 30
// days (the last hour busiest), one job and attempt each, every tenth run
// fired by one of 50 cron schedules and the others launched (each with its
// one-shot schedule), failures with errors, findings, and a
// local host with health recorded. $1 is the number of runs.
var seedStatements = []string{
	`UPDATE task_definitions SET enabled = true`,
	`INSERT INTO directives (name, description) VALUES ('nightly triage', 'bench')`,
	`UPDATE worker_hosts SET healthy = true, last_checked_at = now(), last_seen_at = now(), engine_version = '28.2.2'`,
	`INSERT INTO schedules (name, task, schedule_type, cron_expr, timezone, next_run_at, due_at)
	 SELECT 'schedule ' || g, 'log_triage', 'cron', '0 2 * * *', 'Europe/Berlin', now() + interval '1 day', now() + interval '1 day'
	 FROM generate_series(1, 50) g`,
	`INSERT INTO runs (directive_id, status, directive_snapshot, worker_host_id, created_at, started_at, completed_at, error_message, report_markdown)
	 SELECT 1, s.status, '{"name":"nightly triage"}', 1, s.t, s.t + interval '1 second',
	        CASE WHEN s.status IN ('completed','failed') THEN s.t + interval '20 seconds' END,
	        CASE WHEN s.status = 'failed' THEN 'container exited with code 1' ELSE '' END,
	        '# Report' || chr(10) || chr(10) || '- all quiet'
	 FROM (SELECT g, now() - (CASE WHEN g > $1 - 3000 THEN ($1 - g) * interval '1 second'
	                              ELSE ($1 - g) * interval '26 seconds' END) AS t,
	              CASE WHEN g % 20 = 0 THEN 'failed' WHEN g > $1 - 5 THEN 'pending' ELSE 'completed' END AS status
	       FROM generate_series(1, $1) g) s`,
	`INSERT INTO jobs (run_id, task_type, status, attempt, created_at, started_at, completed_at, claimed_by, worker_host_id, error_message)
	 SELECT id, (ARRAY['log_triage','service_map','gpu_report','noop'])[1 + id % 4], status, 1, created_at, started_at, completed_at,
	        'scheduler-1', 1, error_message FROM runs`,
	`INSERT INTO job_attempts (job_id, attempt, claimant, started_at, ended_at, outcome, error)
	 SELECT id, 1, 'scheduler-1', started_at, completed_at,
	        CASE WHEN status = 'pending' THEN 'running' ELSE status END, error_message FROM jobs WHERE status <> 'pending'`,
	`INSERT INTO scheduled_runs (schedule_id, run_id, job_id, scheduled_for, status, started_at, finished_at)
	 SELECT 1 + (j.run_id / 10) % 50, j.run_id, j.id, j.created_at, 'finished', j.started_at, j.completed_at
	 FROM jobs j WHERE j.run_id % 10 = 0 AND j.status <> 'pending'`,
	// Every other run is a launch: its one-shot schedule and slot, as the
	// launch path writes them.
	`INSERT INTO schedules (name, task, schedule_type, enabled, created_at)
	 SELECT 'launch-run-' || j.run_id || '-' || j.task_type, j.task_type, 'one_shot', false, j.created_at
	 FROM jobs j WHERE j.run_id % 10 <> 0`,
	`INSERT INTO scheduled_runs (schedule_id, run_id, job_id, scheduled_for, status, started_at, finished_at)
	 SELECT s.id, j.run_id, j.id, j.created_at, CASE WHEN j.status = 'pending' THEN 'pending' ELSE 'finished' END,
	        j.started_at, j.completed_at
	 FROM jobs j JOIN schedules s ON s.name = 'launch-run-' || j.run_id || '-' || j.task_type`,
	`INSERT INTO findings (run_id, job_id, worker_host_id, container_name, severity, kind, rank, statement)
	 SELECT run_id, id, 1, 'web-' || (id % 7), (ARRAY['critical','high','medium','low'])[1 + id % 4], 'new_error', 1,
	        'new error template in web-' || (id % 7)
	 FROM jobs WHERE task_type = 'log_triage' AND id % 50 = 0`,
	`ANALYZE`,
}

// seedHistory loads the history and returns the rows the pages link to.
func seedHistory(st *store.Store, runs int) (seeded, error) {
	db := rawDB(st)
	for i, q := range seedStatements {
		args := []any{}
		if strings.Contains(q, "$1") {
			args = append(args, runs)
		}
		if err := db.Exec(q, args...).Error; err != nil {
			return seeded{}, fmt.Errorf("seed statement %d: %w", i+1, err)
		}
	}
	var s seeded
	err := db.Raw(`SELECT (SELECT max(id) FROM runs), (SELECT min(id) FROM runs), (SELECT min(id) FROM schedules),
		(SELECT min(id) FROM worker_hosts), (SELECT max(id) FROM directives)`).Row().
		Scan(&s.newest, &s.oldest, &s.schedule, &s.host, &s.directive)
	return s, err
}
