package scheduler_test

import (
	"context"
	"testing"
	"time"

	"github.com/cyberbrain/cyberbrain/pkg/scheduler"
	"github.com/cyberbrain/cyberbrain/pkg/store"
	"github.com/cyberbrain/cyberbrain/pkg/tasks"
	"github.com/cyberbrain/cyberbrain/pkg/testenv"
)

// Cancelling a run stops its running job within one heartbeat: the task's
// context ends, the attempt and job are recorded cancelled, the run keeps
// its cancelled status and gets its report.
func TestCancelStopsRunningJobWithinAHeartbeat(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	started, stopped := make(chan int64, 1), make(chan error, 1)
	r := startReplica(t, st, "r", tasks.Registry{"noop": blocking(started, stopped)}, func(c *scheduler.Config) {
		c.ClaimTTL = 900 * time.Millisecond // heartbeat every 300 ms
	})
	runID := launchNoop(t, st, 1)[0]
	jobID := <-started
	cancelledAt := time.Now()
	if _, err := st.CancelRun(context.Background(), runID); err != nil {
		t.Fatal(err)
	}
	select {
	case cause := <-stopped:
		if cause == nil || cause.Error() != "run cancelled" {
			t.Fatalf("task stopped with %v", cause)
		}
		if took := time.Since(cancelledAt); took > 2*time.Second {
			t.Fatalf("task stopped %s after the cancel", took)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("running task never stopped after its run was cancelled")
	}
	waitFor(t, 10*time.Second, "job recorded cancelled", func() bool {
		return countWhere(t, st, "jobs WHERE id = ? AND status = 'cancelled' AND completed_at IS NOT NULL", jobID) == 1
	}, flushed(r)...)
	if n := countWhere(t, st, "job_attempts WHERE job_id = ? AND outcome = 'cancelled' AND ended_at IS NOT NULL", jobID); n != 1 {
		t.Fatal("attempt not recorded cancelled")
	}
	var run store.Run
	testenv.SQL(t, st).Take(&run, runID)
	if run.Status != "cancelled" || run.ReportJSON == nil {
		t.Fatalf("run after cancel: status %s, report %s", run.Status, run.ReportJSON)
	}
	if n := countWhere(t, st, "scheduled_runs WHERE run_id = ? AND status = 'cancelled'", runID); n != 1 {
		t.Fatal("scheduled run not cancelled")
	}
}

// Cancelling a run whose jobs have not started yet cancels them at once;
// no replica ever starts them.
func TestCancelledPendingJobsNeverStart(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	runID := launchNoop(t, st, 1)[0]
	if _, err := st.CancelRun(context.Background(), runID); err != nil {
		t.Fatal(err)
	}
	tr := newTracker()
	r := startReplica(t, st, "r", tasks.Registry{"noop": tr.task(tasks.Noop())}, nil)
	other := launchNoop(t, st, 1)[0] // a later launch runs: the replica is working
	waitFor(t, 10*time.Second, "later run completed", func() bool {
		return countWhere(t, st, "runs WHERE id = ? AND status = 'completed'", other) == 1
	}, flushed(r)...)
	if n := countWhere(t, st, "job_attempts a JOIN jobs j ON j.id = a.job_id WHERE j.run_id = ?", runID); n != 0 {
		t.Fatalf("cancelled run's job was attempted %d times", n)
	}
	if n := countWhere(t, st, "schedules WHERE name = ? AND due_at IS NULL AND NOT enabled", "launch-run-"+itoa(runID)+"-noop"); n != 1 {
		t.Fatal("cancelled launch schedule still due or enabled")
	}
}

// Run-now of a recurring schedule with max_per_job = 2: three replicas never
// run more than two of its jobs at once, and two do run together.
func TestRunNowHonoursMaxPerJobAcrossReplicas(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	testenv.SQL(t, st).Exec(`UPDATE task_definitions SET default_config = '{"sleep_ms": 150}' WHERE key = 'noop'`)
	if err := testenv.SQL(t, st).Exec(`INSERT INTO schedules (id, name, task, schedule_type, interval_minutes, next_run_at, max_per_job)
		VALUES (600, 'hourly-noop', 'noop', 'interval', 60, now() + interval '1 hour', 2)`).Error; err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 8; i++ {
		if _, err := st.RunScheduleNow(context.Background(), 600); err != nil {
			t.Fatal(err)
		}
	}
	reg := tasks.Registry{"noop": tasks.Noop()}
	var rs []*replica
	for _, name := range []string{"a", "b", "c"} {
		rs = append(rs, startReplica(t, st, name, reg, nil))
	}
	waitFor(t, 30*time.Second, "all run-now jobs completed", func() bool {
		return countWhere(t, st, "jobs WHERE schedule_id = 600 AND status = 'completed'") == 8
	}, flushed(rs...)...)
	if peak := maxOverlap(t, st, "j.schedule_id = 600"); peak != 2 {
		t.Fatalf("peak concurrent attempts = %d, want exactly 2", peak)
	}
	var sch store.Schedule
	testenv.SQL(t, st).Take(&sch, 600)
	if sch.NextRunAt == nil || !sch.NextRunAt.After(time.Now()) || sch.ClaimedBy != "" {
		t.Fatalf("run-now moved next_run_at or kept the lease: %+v", sch)
	}
}
