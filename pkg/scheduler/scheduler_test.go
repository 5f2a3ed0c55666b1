package scheduler_test

import (
	"context"
	"testing"
	"time"

	"github.com/cyberbrain/cyberbrain/pkg/domain"
	"github.com/cyberbrain/cyberbrain/pkg/scheduler"
	"github.com/cyberbrain/cyberbrain/pkg/store"
	"github.com/cyberbrain/cyberbrain/pkg/tasks"
	"github.com/cyberbrain/cyberbrain/pkg/testenv"
)

// A launch wakes a replica at its 30 s poll interval through NOTIFY; the run
// ends completed with its schedule disabled and released and its
// ScheduledRun finished.
func TestLaunchedRunCompletesThroughNotify(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	r := startReplica(t, st, "r1", tasks.Registry{"noop": tasks.Noop()}, nil)
	runID := launchNoop(t, st, 1)[0]
	waitFor(t, 5*time.Second, "run completed", func() bool {
		return countWhere(t, st, "runs WHERE id = ? AND status = 'completed'", runID) == 1
	}, flushed(r)...)
	if f := r.TestSignals.Finished.WaitOrTimeout(); f.Status != "completed" || f.Attempt != 1 {
		t.Fatalf("finished signal = %+v", f)
	}
	var sch store.Schedule
	if err := testenv.SQL(t, st).Where("name = ?", "launch-run-"+itoa(runID)+"-noop").Take(&sch).Error; err != nil {
		t.Fatal(err)
	}
	if sch.Enabled || sch.NextRunAt != nil || sch.ClaimedBy != "" || sch.ClaimedUntil != nil || sch.DueAt != nil {
		t.Fatalf("launch schedule not ended and released: %+v", sch)
	}
	if n := countWhere(t, st, "scheduled_runs WHERE run_id = ? AND status = 'finished' AND finished_at IS NOT NULL", runID); n != 1 {
		t.Fatalf("finished scheduled runs = %d", n)
	}
	var run store.Run
	testenv.SQL(t, st).Take(&run, runID)
	if run.StartedAt == nil || run.CompletedAt == nil || run.ReportJSON == nil || run.ReportMarkdown == "" {
		t.Fatalf("run timestamps/report missing: %+v", run)
	}
	if n := countWhere(t, st, "job_attempts a JOIN jobs j ON j.id = a.job_id WHERE j.run_id = ? AND a.outcome = 'completed' AND a.claimant = 'r1'", runID); n != 1 {
		t.Fatalf("completed attempts = %d", n)
	}
}

// Several replicas drain many launched runs: every job executes exactly once.
func TestReplicasExecuteEachJobExactlyOnce(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	tr := newTracker()
	reg := tasks.Registry{"noop": tr.task(tasks.Noop())}
	var rs []*replica
	for _, name := range []string{"a", "b", "c"} {
		rs = append(rs, startReplica(t, st, name, reg, nil))
	}
	runs := launchNoop(t, st, 300)
	waitFor(t, 30*time.Second, "all runs completed", func() bool {
		return countWhere(t, st, "runs WHERE status = 'completed'") == len(runs)
	}, flushed(rs...)...)
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if len(tr.overlap) > 0 {
		t.Fatal(tr.overlap)
	}
	for id, n := range tr.runs {
		if n != 1 {
			t.Errorf("job %d executed %d times", id, n)
		}
	}
	if len(tr.runs) != len(runs) {
		t.Fatalf("executed %d jobs, want %d", len(tr.runs), len(runs))
	}
	if n := countWhere(t, st, "job_attempts WHERE outcome = 'completed' AND attempt = 1"); n != len(runs) {
		t.Fatalf("attempts = %d, want one each", n)
	}
	if n := countWhere(t, st, "schedules WHERE due_at IS NOT NULL OR claimed_by <> ''"); n != 0 {
		t.Fatalf("%d schedules still due or claimed", n)
	}
}

// blocking is a task that runs until its context ends, reporting the cause.
func blocking(started chan<- int64, stopped chan<- error) tasks.Task {
	return tasks.TaskFunc(func(ctx context.Context, env tasks.Env) (*tasks.Result, error) {
		select {
		case started <- env.Job.ID:
		default:
		}
		<-ctx.Done()
		select {
		case stopped <- context.Cause(ctx):
		default:
		}
		return nil, ctx.Err()
	})
}

func quick(summary string) tasks.Task {
	return tasks.TaskFunc(func(ctx context.Context, env tasks.Env) (*tasks.Result, error) {
		return &tasks.Result{Summary: summary}, nil
	})
}

// A replica whose heartbeats stop (a paused process) loses its lease; another
// replica retries the job; when the first comes back it stops its task and
// its result is never written.
func TestPausedReplicaLosesLeaseAndWritesNothing(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	started, stopped := make(chan int64, 1), make(chan error, 1)
	a := startReplica(t, st, "paused", tasks.Registry{"noop": blocking(started, stopped)}, func(c *scheduler.Config) {
		c.ClaimTTL = 900 * time.Millisecond
	})
	runID := launchNoop(t, st, 1)[0]
	jobID := <-started
	a.Pause(true)
	rescuer := startReplica(t, st, "rescuer", tasks.Registry{"noop": quick("done by rescuer")}, func(c *scheduler.Config) {
		c.ClaimTTL = 900 * time.Millisecond
	})
	if id := rescuer.TestSignals.Rescued.WaitOrTimeout(); id != jobID {
		t.Fatalf("rescuer rescued job %d, want %d", id, jobID)
	}
	waitFor(t, 10*time.Second, "job completed by the rescuer", func() bool {
		return countWhere(t, st, "jobs WHERE id = ? AND status = 'completed' AND result->>'summary' = 'done by rescuer'", jobID) == 1
	}, flushed(rescuer)...)
	a.Pause(false)
	select {
	case cause := <-stopped:
		if cause == nil || cause.Error() != "lease lost" {
			t.Fatalf("paused replica's task stopped with %v, want lease lost", cause)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("paused replica never stopped its task after losing the lease")
	}
	var atts []store.JobAttempt
	testenv.SQL(t, st).Where("job_id = ?", jobID).Order("attempt").Find(&atts)
	if len(atts) != 2 || atts[0].Outcome != domain.OutcomeLost || atts[0].Claimant != "paused" ||
		atts[1].Outcome != domain.OutcomeCompleted || atts[1].Claimant != "rescuer" {
		t.Fatalf("attempts = %+v", atts)
	}
	if atts[1].StartedAt.Before(*atts[0].EndedAt) {
		t.Fatalf("attempts overlap: %+v", atts)
	}
	if n := countWhere(t, st, "runs WHERE id = ? AND status = 'completed'", runID); n != 1 {
		t.Fatal("run not completed")
	}
}

// A killed replica (no more writes, leases left to expire) has its job
// retried by another replica.
func TestKilledReplicasJobIsRetriedElsewhere(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	started, stopped := make(chan int64, 1), make(chan error, 1)
	a := startReplica(t, st, "victim", tasks.Registry{"noop": blocking(started, stopped)}, func(c *scheduler.Config) {
		c.ClaimTTL = 900 * time.Millisecond
	})
	launchNoop(t, st, 1)
	jobID := <-started
	a.Kill()
	survivor := startReplica(t, st, "survivor", tasks.Registry{"noop": quick("survived")}, func(c *scheduler.Config) {
		c.ClaimTTL = 900 * time.Millisecond
	})
	if id := survivor.TestSignals.Rescued.WaitOrTimeout(); id != jobID {
		t.Fatalf("survivor rescued job %d, want %d", id, jobID)
	}
	waitFor(t, 10*time.Second, "job completed by the survivor", func() bool {
		return countWhere(t, st, "jobs WHERE id = ? AND status = 'completed' AND attempt = 2", jobID) == 1
	}, flushed(survivor)...)
	if n := countWhere(t, st, "job_attempts WHERE job_id = ? AND attempt = 1 AND outcome = 'lost' AND claimant = 'victim' AND error LIKE '%victim%'", jobID); n != 1 {
		t.Fatal("lost attempt not recorded with the claimant's name")
	}
}

// With no attempt left, a lost job fails with an error naming the claimant.
func TestLostJobWithoutAttemptsLeftFails(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	testenv.SQL(t, st).Exec(`UPDATE task_definitions SET max_attempts = 1 WHERE key = 'noop'`)
	started, stopped := make(chan int64, 1), make(chan error, 1)
	a := startReplica(t, st, "gone", tasks.Registry{"noop": blocking(started, stopped)}, func(c *scheduler.Config) {
		c.ClaimTTL = 900 * time.Millisecond
	})
	runID := launchNoop(t, st, 1)[0]
	<-started
	a.Kill()
	other := startReplica(t, st, "other", tasks.Registry{"noop": quick("x")}, func(c *scheduler.Config) {
		c.ClaimTTL = 900 * time.Millisecond
	})
	waitFor(t, 10*time.Second, "run failed", func() bool {
		return countWhere(t, st, "runs WHERE id = ? AND status = 'failed' AND error_message LIKE '%gone%'", runID) == 1
	}, sig(&other.TestSignals.Rescued)) // rescue, not the completer, fails a job with no attempt left
	if n := countWhere(t, st, "scheduled_runs WHERE run_id = ? AND status = 'failed'", runID); n != 1 {
		t.Fatal("scheduled run not failed")
	}
}
