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

// On SIGTERM a replica waits the whole ShutdownTimeout for a running job
// before cancelling it (cause: shutting down), then hands it back: pending
// at once, with max_attempts raised so the hand-back uses up no attempt — a
// job on its last attempt still gets another one elsewhere (§6).
func TestShutdownWaitsItsTimeoutThenHandsBackWithoutUsingAnAttempt(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	testenv.SQL(t, st).Exec(`UPDATE task_definitions SET max_attempts = 1 WHERE key = 'noop'`)
	const timeout = 600 * time.Millisecond
	type stop struct {
		cause error
		at    time.Time
	}
	started, stopped := make(chan int64, 1), make(chan stop, 1)
	task := tasks.TaskFunc(func(ctx context.Context, env tasks.Env) (*tasks.Result, error) {
		started <- env.Job.ID
		<-ctx.Done()
		stopped <- stop{context.Cause(ctx), time.Now()}
		return nil, ctx.Err()
	})
	r := startReplica(t, st, "leaving", tasks.Registry{"noop": task}, func(c *scheduler.Config) {
		c.ShutdownTimeout = timeout
		c.ClaimTTL = time.Hour // a rescue would take an hour: only the hand-back can free the job
	})
	runID := launchNoop(t, st, 1)[0]
	jobID := <-started
	begin := time.Now()
	r.stop(t)
	took := time.Since(begin)
	s := <-stopped
	if s.cause == nil || s.cause.Error() != "scheduler shutting down" {
		t.Fatalf("task stopped with cause %v", s.cause)
	}
	if waited := s.at.Sub(begin); waited < timeout {
		t.Fatalf("task cancelled %s into the shutdown, before the %s timeout", waited, timeout)
	}
	if took < timeout || took > timeout+5*time.Second {
		t.Fatalf("stop took %s, want the %s timeout and little more", took, timeout)
	}
	var j store.Job
	testenv.SQL(t, st).Take(&j, jobID)
	if j.Status != domain.StatusPending || j.Attempt != 1 || j.MaxAttempts != 2 || j.ClaimedBy != "" || j.AvailableAt == nil {
		t.Fatalf("handed-back job: status %s, attempt %d of %d, claimed by %q, available %v",
			j.Status, j.Attempt, j.MaxAttempts, j.ClaimedBy, j.AvailableAt)
	}
	if n := countWhere(t, st, "jobs WHERE id = ? AND available_at <= now()", jobID); n != 1 {
		t.Fatal("handed-back job is not available at once")
	}
	atts := attemptsOf(t, st, jobID)
	if len(atts) != 1 || atts[0].Outcome != domain.OutcomeFailed || atts[0].Error != "released: scheduler shutting down" || atts[0].Claimant != "leaving" {
		t.Fatalf("attempts after the hand-back = %+v", atts)
	}
	next := startReplica(t, st, "next", tasks.Registry{"noop": quick("second life")}, nil)
	if f := next.TestSignals.Finished.WaitOrTimeout(); f.JobID != jobID || f.Attempt != 2 || f.Status != "completed" {
		t.Fatalf("next replica finished %+v, want job %d attempt 2 completed", f, jobID)
	}
	if n := countWhere(t, st, "runs WHERE id = ? AND status = 'completed'", runID); n != 1 {
		t.Fatal("run not completed after the hand-back")
	}
}

// A replica with nothing running stops at once, whatever its
// ShutdownTimeout.
func TestIdleReplicaStopsWithoutWaitingItsShutdownTimeout(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	r := startReplica(t, st, "idle", tasks.Registry{"noop": tasks.Noop()}, func(c *scheduler.Config) {
		c.ShutdownTimeout = time.Minute
	})
	launchNoop(t, st, 1)
	if f := r.TestSignals.Finished.WaitOrTimeout(); f.Status != "completed" {
		t.Fatalf("job finished %+v", f)
	}
	begin := time.Now()
	r.stop(t)
	if took := time.Since(begin); took > 5*time.Second {
		t.Fatalf("idle replica took %s to stop", took)
	}
}
