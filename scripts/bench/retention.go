package main

// The retention benchmark: how fast the scheduler's retention pass prunes a
// backlog of finished runs (docs/DESIGN.md §10), against a floor measured in
// the same run — a bare DELETE FROM runs WHERE id = ANY(...) of as many
// identically shaped runs, batch for batch, whose cascades do the same work
// but which finds nothing by completed_at and deletes no launch schedule.

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/cyberbrain/cyberbrain/pkg/scheduler"
	"github.com/cyberbrain/cyberbrain/pkg/store"
)

func retentionMain(args []string) {
	fs := flag.NewFlagSet("retention", flag.ExitOnError)
	runs := fs.Int("runs", 200000, "finished runs older than the retention to prune (and as many again for the floor)")
	batch := fs.Int("batch", scheduler.RetentionBatch, "runs per batch (one transaction each)")
	explain := fs.Bool("explain", false, "print EXPLAIN ANALYZE of one batch (rolled back) before timing")
	_ = fs.Parse(args)
	if err := benchRetention(*runs, *batch, *explain); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// retentionAge is the default --retention.
const retentionAge = 720 * time.Hour

// retentionSeed builds 2×$1 finished runs shaped like real ones: each with
// one job (one of the four built-in tasks), its attempt, its launch schedule
// (`launch-run-{run}-{task}`, ended) and ScheduledRun, a report.md and a
// <task>.json artifact; log_triage jobs also have two findings and an LLM
// call count. The first $1 finished 40 days ago (older than the retention),
// the other $1 a day ago (the floor's). One run in 20 failed.
var retentionSeed = []string{
	`INSERT INTO runs (status, directive_snapshot, worker_host_id, created_at, started_at, completed_at, error_message, report_markdown)
	 SELECT CASE WHEN g % 20 = 0 THEN 'failed' ELSE 'completed' END, '{"name":"default"}', 1,
	        t - interval '21 seconds', t - interval '20 seconds', t,
	        CASE WHEN g % 20 = 0 THEN 'container exited with code 1' ELSE '' END,
	        '# Report' || chr(10) || chr(10) || '- all quiet'
	 FROM (SELECT g, CASE WHEN g <= $1 THEN now() - interval '40 days' + g * interval '10 ms'
	                      ELSE now() - interval '1 day' + (g - $1) * interval '10 ms' END AS t
	       FROM generate_series(1, 2 * $1) g) s`,
	`INSERT INTO schedules (name, task, schedule_type, enabled, last_run_at, created_at)
	 SELECT 'launch-run-' || id || '-' || (ARRAY['log_triage','service_map','gpu_report','noop'])[1 + id % 4],
	        (ARRAY['log_triage','service_map','gpu_report','noop'])[1 + id % 4], 'one_shot', false, created_at, created_at
	 FROM runs`,
	`INSERT INTO jobs (run_id, schedule_id, task_type, status, attempt, created_at, started_at, completed_at,
	                  claimed_by, worker_host_id, error_message, result)
	 SELECT r.id, s.id, s.task, r.status, 1, r.created_at, r.started_at, r.completed_at, 'scheduler-1', 1, r.error_message,
	        '{"summary":"ok","containers":12}'
	 FROM runs r JOIN schedules s ON s.name = 'launch-run-' || r.id || '-' || (ARRAY['log_triage','service_map','gpu_report','noop'])[1 + r.id % 4]`,
	`INSERT INTO job_attempts (job_id, attempt, claimant, started_at, ended_at, outcome, error)
	 SELECT id, 1, 'scheduler-1', started_at, completed_at, status, error_message FROM jobs`,
	`INSERT INTO scheduled_runs (schedule_id, run_id, job_id, scheduled_for, status, created_at, started_at, finished_at)
	 SELECT schedule_id, run_id, id, created_at, CASE WHEN status = 'failed' THEN 'failed' ELSE 'finished' END,
	        created_at, started_at, completed_at FROM jobs`,
	`INSERT INTO artifacts (run_id, job_id, name, content_type, size, content, created_at)
	 SELECT j.run_id, j.id, a.name, a.ct, length(a.body), convert_to(a.body, 'UTF8'), j.completed_at
	 FROM jobs j, LATERAL (VALUES
	   ('report.md', 'text/markdown', '# ' || j.task_type || chr(10) || repeat('- container web-1: all quiet' || chr(10), 12)),
	   (j.task_type || '.json', 'application/json', '{"summary":"ok","items":[' || repeat('{"name":"web-1","state":"running"},', 10) || '{}]}')
	 ) AS a(name, ct, body)`,
	`INSERT INTO findings (run_id, job_id, worker_host_id, container_name, severity, kind, rank, statement, created_at)
	 SELECT j.run_id, j.id, 1, 'web-' || (j.id % 7), (ARRAY['critical','high','medium','low'])[1 + k], 'new_template', k,
	        'new error template in web-' || (j.id % 7), j.completed_at
	 FROM jobs j, generate_series(1, 2) k WHERE j.task_type = 'log_triage'`,
	`INSERT INTO llm_calls (job_id, endpoint, model, prompt_tokens, completion_tokens, total_tokens, duration_ms)
	 SELECT id, 'http://llm:8080/v1', 'small', 900, 120, 1020, 850 FROM jobs WHERE task_type = 'log_triage'`,
}

func benchRetention(runs, batch int, explain bool) error {
	st, done, err := scratchStore(envURL(), 4)
	if err != nil {
		return err
	}
	defer done()
	ctx := context.Background()
	db := rawDB(st)
	begin := time.Now()
	for i, q := range retentionSeed {
		args := []any{}
		if strings.Contains(q, "$1") {
			args = append(args, runs)
		}
		if err := db.Exec(q, args...).Error; err != nil {
			return fmt.Errorf("seed statement %d: %w", i+1, err)
		}
	}
	// A real history is long vacuumed by the time it is 30 days old.
	if err := db.Exec(`VACUUM ANALYZE`).Error; err != nil {
		return fmt.Errorf("vacuum: %w", err)
	}
	var rows string
	if err := db.Raw(`SELECT format('%s runs, %s jobs, %s attempts, %s schedules, %s scheduled_runs, %s artifacts, %s findings, %s llm_calls',
		(SELECT count(*) FROM runs), (SELECT count(*) FROM jobs), (SELECT count(*) FROM job_attempts), (SELECT count(*) FROM schedules),
		(SELECT count(*) FROM scheduled_runs), (SELECT count(*) FROM artifacts), (SELECT count(*) FROM findings), (SELECT count(*) FROM llm_calls))`).
		Scan(&rows).Error; err != nil {
		return err
	}
	fmt.Printf("retention: seeded %s in %.0fs; batches of %d, pass budget %s\n", rows, time.Since(begin).Seconds(), batch, scheduler.RetentionBudget)
	if explain {
		if err := explainBatch(st, batch); err != nil {
			return err
		}
	}

	// The product: retention passes as a replica runs them, back to back
	// while a pass ends with runs left.
	begin = time.Now()
	var pruned int64
	passes := 0
	for {
		n, more, err := scheduler.RetentionPass(ctx, st, retentionAge, scheduler.RealClock{}, batch, scheduler.RetentionBudget)
		pruned += n
		passes++
		if err != nil {
			return err
		}
		if !more {
			break
		}
	}
	took := time.Since(begin)
	if pruned != int64(runs) {
		return fmt.Errorf("retention pruned %d runs, want %d", pruned, runs)
	}
	var leftSchedules int64
	db.Raw(`SELECT count(*) FROM schedules`).Scan(&leftSchedules)
	if leftSchedules != int64(runs) {
		return fmt.Errorf("%d schedules left after pruning, want the floor's %d", leftSchedules, runs)
	}
	rate := float64(pruned) / took.Seconds()
	fmt.Printf("retention: pruned %d runs (with their launch schedules) in %d passes: %.1fs, %.0f runs/s\n",
		pruned, passes, took.Seconds(), rate)

	// The floor: the same number of identically shaped runs, deleted by id
	// in batches of the same size, each its own transaction.
	var ids []int64
	if err := db.Raw(`SELECT id FROM runs ORDER BY completed_at`).Scan(&ids).Error; err != nil {
		return err
	}
	begin = time.Now()
	for len(ids) > 0 {
		n := min(batch, len(ids))
		if err := db.Exec(`DELETE FROM runs WHERE id = ANY(?)`, store.Int64s(ids[:n])).Error; err != nil {
			return fmt.Errorf("floor: %w", err)
		}
		ids = ids[n:]
	}
	floorTook := time.Since(begin)
	floor := float64(runs) / floorTook.Seconds()
	fmt.Printf("floor: DELETE FROM runs WHERE id = ANY(...) of %d runs, %d per statement: %.1fs, %.0f runs/s\n",
		runs, batch, floorTook.Seconds(), floor)
	fmt.Printf("retention at %.2f× the floor's rate; bar ≥ 1000 runs/s: %s\n", rate/floor, map[bool]string{true: "met", false: "MISSED"}[rate >= 1000])
	return nil
}

// explainBatch prints the plan of one prune batch with its cascades'
// trigger times, in a transaction it rolls back.
func explainBatch(st *store.Store, batch int) error {
	tx := rawDB(st).Begin()
	defer tx.Rollback()
	var lines []string
	q := `EXPLAIN (ANALYZE, BUFFERS) WITH doomed AS MATERIALIZED (
	    SELECT id FROM runs WHERE status IN ('completed', 'failed', 'cancelled')
	    AND completed_at < now() - make_interval(secs => ?) ORDER BY completed_at LIMIT ? FOR UPDATE SKIP LOCKED)
	DELETE FROM runs WHERE id IN (SELECT id FROM doomed)`
	if err := tx.Raw(q, retentionAge.Seconds(), batch).Scan(&lines).Error; err != nil {
		return fmt.Errorf("explain: %w", err)
	}
	fmt.Println("explain: one batch (rolled back)\n  " + strings.Join(lines, "\n  "))
	return nil
}
