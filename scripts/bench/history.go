package main

// The history benchmark: what a launch, the claim that starts it and its
// completion cost per run, and what firing a recurring schedule costs, on an
// empty database and again after a history of -history finished runs has
// been loaded into the same database — the cost must stay flat (issue 15:
// from an empty history to 10 million finished runs). The product's own
// store calls do the work (store.LaunchBatch, store.ClaimDue,
// store.FinishJobs, store.FireSlot), one claimant on one connection, so
// the figures are statement costs without contention.

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"gorm.io/gorm"

	"github.com/cyberbrain/cyberbrain/pkg/store"
)

func historyMain(args []string) {
	fs := flag.NewFlagSet("history", flag.ExitOnError)
	history := fs.Int("history", 10_000_000, "finished runs loaded before the second measurement")
	runs := fs.Int("runs", 5000, "runs launched, started and completed in each measurement")
	fires := fs.Int("fires", 100, "slots of a recurring schedule fired in each measurement")
	_ = fs.Parse(args)
	if err := benchHistory(*history, *runs, *fires); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// historyCost is one measurement, per run (per fire for fire).
type historyCost struct {
	launch, claimStart, complete, fire time.Duration
}

func benchHistory(history, runs, fires int) error {
	st, done, err := scratchStore(envURL(), 4)
	if err != nil {
		return err
	}
	defer done()
	db := rawDB(st)
	if err := db.Exec(`UPDATE task_definitions SET enabled = true WHERE key = 'noop'`).Error; err != nil {
		return err
	}
	var every int64
	if err := db.Raw(`INSERT INTO schedules (name, task, schedule_type, interval_minutes, next_run_at, due_at)
		VALUES ('every-minute', 'noop', 'interval', 1, now() + interval '1 hour', now() + interval '1 hour') RETURNING id`).Scan(&every).Error; err != nil {
		return err
	}
	fmt.Printf("cyberbrain bench history — %s; %d runs and %d slot fires per measurement, one claimant, batches of 100\n",
		time.Now().UTC().Format(time.RFC3339), runs, fires)
	// Warm up (connections, prepared statements, caches), untimed.
	if _, err := measureHistory(st, every, 500, 5); err != nil {
		return err
	}
	empty, err := measureHistory(st, every, runs, fires)
	if err != nil {
		return err
	}
	printHistoryCost("empty history", empty)
	begin := time.Now()
	if err := seedHistoryRuns(db, history, every); err != nil {
		return err
	}
	if err := vacuumAnalyze(db); err != nil {
		return err
	}
	var rows string
	db.Raw(`SELECT format('%s runs, %s jobs, %s schedules, %s scheduled_runs (%s of them the recurring schedule''s), %s attempts',
		(SELECT count(*) FROM runs), (SELECT count(*) FROM jobs), (SELECT count(*) FROM schedules),
		(SELECT count(*) FROM scheduled_runs), (SELECT count(*) FROM scheduled_runs WHERE schedule_id = ?),
		(SELECT count(*) FROM job_attempts))`, every).Scan(&rows)
	fmt.Printf("loaded a history of %d finished runs in %.0fs (then VACUUM ANALYZE, as autovacuum would have long done, and a CHECKPOINT): %s\n",
		history, time.Since(begin).Seconds(), rows)
	full, err := measureHistory(st, every, runs, fires)
	if err != nil {
		return err
	}
	printHistoryCost(fmt.Sprintf("%d finished runs", history), full)
	fmt.Printf("\n%-22s %12s %12s %7s\n", "per run", "empty", "history", "ratio")
	for _, r := range []struct {
		name string
		a, b time.Duration
	}{
		{"launch", empty.launch, full.launch},
		{"claim + start", empty.claimStart, full.claimStart},
		{"completion", empty.complete, full.complete},
		{"recurring slot fire", empty.fire, full.fire},
	} {
		fmt.Printf("%-22s %12s %12s %7.2f\n", r.name, r.a.Round(time.Microsecond), r.b.Round(time.Microsecond), r.b.Seconds()/r.a.Seconds())
	}
	return nil
}

func printHistoryCost(label string, c historyCost) {
	fmt.Printf("%s: launch %s/run, claim+start %s/run, completion %s/run, recurring slot fire %s\n", label,
		c.launch.Round(time.Microsecond), c.claimStart.Round(time.Microsecond), c.complete.Round(time.Microsecond), c.fire.Round(time.Microsecond))
}

// measureHistory launches runs noop runs (batches of 100), claims and starts
// them (store.ClaimDue, 100 at a time), completes them (store.FinishJobs,
// 100 at a time), then fires the recurring schedule's slot fires times.
func measureHistory(st *store.Store, every int64, runs, fires int) (historyCost, error) {
	ctx := context.Background()
	var c historyCost
	begin := time.Now()
	for left := runs; left > 0; left -= 100 {
		reqs := make([]store.LaunchRequest, min(100, left))
		for i := range reqs {
			reqs[i] = store.LaunchRequest{Tasks: []string{"noop"}}
		}
		for _, r := range st.LaunchBatch(ctx, reqs) {
			if r.Err != nil {
				return c, r.Err
			}
		}
	}
	c.launch = time.Since(begin) / time.Duration(runs)
	var started []store.StartedJob
	begin = time.Now()
	for {
		cl, err := st.ClaimDue(ctx, "bench", time.Hour, 100, 100, store.Limits{})
		if err != nil {
			return c, err
		}
		if len(cl.Names) == 0 {
			break
		}
		started = append(started, cl.Started...)
	}
	c.claimStart = time.Since(begin) / time.Duration(runs)
	if len(started) != runs {
		return c, fmt.Errorf("started %d jobs, want %d", len(started), runs)
	}
	begin = time.Now()
	if err := completeAll(ctx, st, started); err != nil {
		return c, err
	}
	c.complete = time.Since(begin) / time.Duration(runs)
	took, err := fireSlots(st, every, fires)
	c.fire = took / time.Duration(fires)
	return c, err
}

// completeAll finishes jobs as completed, 100 per call.
func completeAll(ctx context.Context, st *store.Store, jobs []store.StartedJob) error {
	for len(jobs) > 0 {
		n := min(100, len(jobs))
		batch := make([]store.Finish, n)
		for i, j := range jobs[:n] {
			batch[i] = store.Finish{JobID: j.ID, Attempt: j.Attempt, Outcome: store.FinishCompleted}
		}
		res, err := st.FinishJobs(ctx, "bench", batch)
		if err != nil {
			return err
		}
		if len(res.Accepted) != n {
			return fmt.Errorf("%d of %d finishes accepted", len(res.Accepted), n)
		}
		jobs = jobs[n:]
	}
	return nil
}

// fireSlots makes the recurring schedule due n times and each time claims it
// (store.ClaimDue) and fires its slot (store.FireSlot); the fired runs are
// then started and completed untimed, so the next slot is not skipped.
func fireSlots(st *store.Store, every int64, n int) (time.Duration, error) {
	ctx := context.Background()
	db := rawDB(st)
	var took time.Duration
	for i := 0; i < n; i++ {
		// The schedule's next slot may have come due while the history
		// loaded, and the launches' claims leased it: clear that lease too.
		if err := db.Exec(`UPDATE schedules SET next_run_at = now() - interval '1 second', due_at = now() - interval '1 second',
			claimed_by = '', claimed_until = NULL WHERE id = ?`, every).Error; err != nil {
			return 0, err
		}
		begin := time.Now()
		cl, err := st.ClaimDue(ctx, "bench", time.Hour, 100, 100, store.Limits{})
		if err != nil {
			return 0, err
		}
		if len(cl.Slots) != 1 {
			return 0, fmt.Errorf("fire %d: claimed %d slots, want the recurring schedule's", i, len(cl.Slots))
		}
		sc := cl.Slots[0]
		next := sc.NextRunAt.Add(time.Minute)
		f, err := st.FireSlot(ctx, "bench", sc.Schedule, *sc.NextRunAt, &next)
		if err != nil {
			return 0, err
		}
		took += time.Since(begin)
		if f.RunID == 0 {
			return 0, fmt.Errorf("fire %d created no run: %+v", i, f)
		}
		jobs, err := st.StartFreeJobs(ctx, "bench", time.Hour, 10, store.Limits{})
		if err != nil {
			return 0, err
		}
		if err := completeAll(ctx, st, jobs); err != nil {
			return 0, err
		}
	}
	return took, nil
}

// seedHistoryRuns loads n finished runs shaped like real ones in one
// transaction (foreign keys not re-checked row by row, indexes maintained):
// each run with one noop job, its attempt and its ScheduledRun; nine in ten
// were launched (an ended launch schedule of their own), one in ten is a slot
// of the recurring schedule every, one a minute.
func seedHistoryRuns(db *gorm.DB, n int, every int64) error {
	return db.Transaction(func(tx *gorm.DB) error {
		for i, q := range []string{
			`SET LOCAL session_replication_role = replica`,
			`INSERT INTO runs (status, directive_snapshot, created_at, started_at, completed_at, report_markdown)
			 SELECT 'completed', '{"name":"default"}', t - interval '2 seconds', t - interval '1 second', t, '# Report'
			 FROM (SELECT now() - interval '3 years' + g * interval '1 second' AS t FROM generate_series(1, ?) g) s`,
			`INSERT INTO schedules (name, task, schedule_type, enabled, last_run_at, created_at)
			 SELECT 'launch-run-' || id || '-noop', 'noop', 'one_shot', false, created_at, created_at FROM runs
			 WHERE id % 10 <> 0 AND status = 'completed' AND report_markdown = '# Report'`,
			`INSERT INTO jobs (run_id, schedule_id, task_type, status, attempt, created_at, started_at, completed_at, claimed_by, result)
			 SELECT r.id, coalesce(s.id, ?), 'noop', 'completed', 1, r.created_at, r.started_at, r.completed_at, '', '{"summary":"ok"}'
			 FROM runs r LEFT JOIN schedules s ON s.name = 'launch-run-' || r.id || '-noop'
			 WHERE r.report_markdown = '# Report'`,
			`INSERT INTO job_attempts (job_id, attempt, claimant, started_at, ended_at, outcome)
			 SELECT id, 1, 'scheduler-1', started_at, completed_at, 'completed' FROM jobs WHERE claimed_by = '' AND result->>'summary' = 'ok' AND started_at < now() - interval '1 day'`,
			`INSERT INTO scheduled_runs (schedule_id, run_id, job_id, scheduled_for, status, created_at, started_at, finished_at)
			 SELECT schedule_id, run_id, id, created_at, 'finished', created_at, started_at, completed_at
			 FROM jobs WHERE started_at < now() - interval '1 day'`,
		} {
			args := []any{}
			switch i {
			case 1:
				args = append(args, n)
			case 3:
				args = append(args, every)
			}
			if err := tx.Exec(q, args...).Error; err != nil {
				return fmt.Errorf("seed statement %d: %w", i+1, err)
			}
		}
		return nil
	}, nil)
}

// vacuumAnalyze runs VACUUM ANALYZE (outside a transaction), then a
// CHECKPOINT: the load and the vacuum dirtied gigabytes of pages, and a
// checkpoint writing them out during the measurement would slow every commit.
func vacuumAnalyze(db *gorm.DB) error {
	if err := db.Exec(`VACUUM ANALYZE`).Error; err != nil {
		return err
	}
	return db.Exec(`CHECKPOINT`).Error
}
