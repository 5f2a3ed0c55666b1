package scheduler_test

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cyberbrain/cyberbrain/pkg/domain"
	"github.com/cyberbrain/cyberbrain/pkg/scheduler"
	"github.com/cyberbrain/cyberbrain/pkg/store"
	"github.com/cyberbrain/cyberbrain/pkg/tasks"
	"github.com/cyberbrain/cyberbrain/pkg/testenv"
)

// jobOfRun returns the only job of a run.
func jobOfRun(t *testing.T, st *store.Store, runID int64) store.Job {
	t.Helper()
	var j store.Job
	if err := testenv.SQL(t, st).Where("run_id = ?", runID).Take(&j).Error; err != nil {
		t.Fatal(err)
	}
	return j
}

// attemptsOf returns a job's attempts in order.
func attemptsOf(t *testing.T, st *store.Store, jobID int64) []store.JobAttempt {
	t.Helper()
	var atts []store.JobAttempt
	if err := testenv.SQL(t, st).Where("job_id = ?", jobID).Order("attempt").Find(&atts).Error; err != nil {
		t.Fatal(err)
	}
	return atts
}

// A task that panics fails its job at once (a panic is permanent, §9), even
// with attempts left; the replica survives and runs the next job.
func TestPanickingTaskFailsPermanentlyAndReplicaSurvives(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	testenv.SQL(t, st).Exec(`UPDATE task_definitions SET max_attempts = 3 WHERE key = 'noop'`)
	var calls atomic.Int32
	task := tasks.TaskFunc(func(ctx context.Context, env tasks.Env) (*tasks.Result, error) {
		if calls.Add(1) == 1 {
			panic("boom in the task")
		}
		return &tasks.Result{Summary: "after the panic"}, nil
	})
	r := startReplica(t, st, "r", tasks.Registry{"noop": task}, nil)
	first := launchNoop(t, st, 1)[0]
	if f := r.TestSignals.Finished.WaitOrTimeout(); f.Status != "failed" || f.Attempt != 1 {
		t.Fatalf("panicking job finished as %+v, want failed at attempt 1", f)
	}
	j := jobOfRun(t, st, first)
	if j.Status != domain.StatusFailed || j.Attempt != 1 || !strings.Contains(j.ErrorMessage, "panicked: boom in the task") {
		t.Fatalf("panicking job: status %s, attempt %d, error %q", j.Status, j.Attempt, j.ErrorMessage)
	}
	if atts := attemptsOf(t, st, j.ID); len(atts) != 1 || atts[0].Outcome != domain.OutcomeFailed {
		t.Fatalf("attempts of the panicking job = %+v, want one failed", atts)
	}
	second := launchNoop(t, st, 1)[0]
	if f := r.TestSignals.Finished.WaitOrTimeout(); f.Status != "completed" {
		t.Fatalf("job after the panic finished as %+v", f)
	}
	if n := countWhere(t, st, "runs WHERE id = ? AND status = 'completed'", second); n != 1 {
		t.Fatal("the replica did not complete a run after a task panicked")
	}
	if n := countWhere(t, st, "runs WHERE id = ? AND status = 'failed'", first); n != 1 {
		t.Fatal("the panicking job's run is not failed")
	}
}

// A task that returns neither result nor error, and a task this replica has
// no implementation for, fail permanently on their first attempt.
func TestNoResultAndUnknownTaskFailPermanently(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		reg  tasks.Registry
		want string
	}{
		{"no result", tasks.Registry{"noop": tasks.TaskFunc(func(context.Context, tasks.Env) (*tasks.Result, error) { return nil, nil })},
			"task noop returned no result"},
		{"unknown task", tasks.Registry{"other": quick("never")}, `unknown task "noop"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			st := newStore(t)
			testenv.SQL(t, st).Exec(`UPDATE task_definitions SET max_attempts = 5 WHERE key = 'noop'`)
			r := startReplica(t, st, "r", tc.reg, nil)
			runID := launchNoop(t, st, 1)[0]
			if f := r.TestSignals.Finished.WaitOrTimeout(); f.Status != "failed" || f.Attempt != 1 {
				t.Fatalf("finished %+v, want failed at attempt 1", f)
			}
			j := jobOfRun(t, st, runID)
			if !strings.Contains(j.ErrorMessage, tc.want) || strings.Contains(j.ErrorMessage, "no retry left") {
				t.Fatalf("error = %q, want it to contain %q (and not be a retryable's)", j.ErrorMessage, tc.want)
			}
		})
	}
}

// The task timeout cancels the task's context with a cause naming the
// timeout, and counts as retryable even when the task itself returns a
// permanent error as it gives up: the next attempt runs.
func TestTimeoutIsRetryableWhateverTheTaskReturns(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	testenv.SQL(t, st).Exec(`UPDATE task_definitions SET timeout_seconds = 1, max_attempts = 2 WHERE key = 'noop'`)
	type stop struct {
		cause error
		after time.Duration
	}
	stopped := make(chan stop, 1)
	task := tasks.TaskFunc(func(ctx context.Context, env tasks.Env) (*tasks.Result, error) {
		if env.Job.Attempt > 1 {
			return &tasks.Result{Summary: "second attempt"}, nil
		}
		begin := time.Now()
		<-ctx.Done()
		stopped <- stop{context.Cause(ctx), time.Since(begin)}
		return nil, domain.Permanentf("gave up: %w", ctx.Err())
	})
	r := startReplica(t, st, "r", tasks.Registry{"noop": task}, nil)
	runID := launchNoop(t, st, 1)[0]
	s := <-stopped
	if s.cause == nil || s.cause.Error() != "task noop timed out after 1s" {
		t.Fatalf("task context ended with cause %v", s.cause)
	}
	if s.after < 900*time.Millisecond || s.after > 3*time.Second {
		t.Fatalf("task context ended %s after the start, want about 1s", s.after)
	}
	if f := r.TestSignals.Finished.WaitOrTimeout(); f.Status != "pending" || f.Attempt != 1 {
		t.Fatalf("timed-out attempt finished as %+v, want a retry (pending)", f)
	}
	if f := r.TestSignals.Finished.WaitOrTimeout(); f.Status != "completed" || f.Attempt != 2 {
		t.Fatalf("second attempt finished as %+v", f)
	}
	j := jobOfRun(t, st, runID)
	atts := attemptsOf(t, st, j.ID)
	if len(atts) != 2 || atts[0].Outcome != domain.OutcomeFailed || atts[0].Error != "task noop timed out after 1s" ||
		atts[1].Outcome != domain.OutcomeCompleted {
		t.Fatalf("attempts = %+v", atts)
	}
}

// Artifacts and OnCommit are saved only with an accepted attempt: an
// attempt whose lease was lost while the task ran returns a result that is
// not written — no artifact, no log cursor, OnCommit never called — and the
// retried attempt's outputs are saved exactly once.
func TestArtifactsAndOnCommitSavedOnlyForTheAcceptedAttempt(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	var hostID int64
	testenv.SQL(t, st).Raw(`SELECT id FROM worker_hosts WHERE name = 'local'`).Scan(&hostID)
	started, release := make(chan int64, 1), make(chan struct{})
	var mu sync.Mutex
	var committed []string
	task := tasks.TaskFunc(func(ctx context.Context, env tasks.Env) (*tasks.Result, error) {
		tag := "attempt-" + itoa(int64(env.Job.Attempt))
		if env.Job.Attempt == 1 {
			started <- env.Job.ID
			<-release
		}
		return &tasks.Result{
			Summary:   tag,
			Artifacts: []tasks.Artifact{{Name: tag + ".txt", ContentType: "text/plain", Content: []byte(tag)}},
			OnCommit: func(ctx context.Context, tx tasks.LogCursorSaver) error {
				mu.Lock()
				committed = append(committed, tag)
				mu.Unlock()
				return tx.SaveLogState(ctx, hostID, tag, time.Now(), nil)
			},
		}, nil
	})
	// An hour-long lease: no heartbeat runs during the test, so the replica
	// learns of the loss only from the rejected write.
	r := startReplica(t, st, "r", tasks.Registry{"noop": task}, func(c *scheduler.Config) { c.ClaimTTL = time.Hour })
	runID := launchNoop(t, st, 1)[0]
	jobID := <-started
	if err := testenv.SQL(t, st).Exec(`UPDATE jobs SET claimed_until = now() - interval '1 second' WHERE id = ?`, jobID).Error; err != nil {
		t.Fatal(err)
	}
	close(release)
	if n := r.TestSignals.Flushed.WaitOrTimeout(); n != 1 {
		t.Fatalf("first flushed batch holds %d ends", n)
	}
	// The replica's own rescue retries the job; attempt 2 is accepted.
	if f := r.TestSignals.Finished.WaitOrTimeout(); f.JobID != jobID || f.Attempt != 2 || f.Status != "completed" {
		t.Fatalf("first accepted end = %+v, want attempt 2 of job %d completed", f, jobID)
	}
	var names []string
	testenv.SQL(t, st).Raw(`SELECT name FROM artifacts WHERE job_id = ? ORDER BY name`, jobID).Scan(&names)
	if len(names) != 1 || names[0] != "attempt-2.txt" {
		t.Fatalf("artifacts of the job = %v, want only attempt 2's", names)
	}
	var cursors []string
	testenv.SQL(t, st).Raw(`SELECT container_name FROM container_log_state ORDER BY 1`).Scan(&cursors)
	if len(cursors) != 1 || cursors[0] != "attempt-2" {
		t.Fatalf("log cursors = %v, want only attempt 2's", cursors)
	}
	mu.Lock()
	if len(committed) != 1 || committed[0] != "attempt-2" {
		t.Errorf("OnCommit ran for %v, want only attempt 2", committed)
	}
	mu.Unlock()
	atts := attemptsOf(t, st, jobID)
	if len(atts) != 2 || atts[0].Outcome != domain.OutcomeLost || atts[1].Outcome != domain.OutcomeCompleted {
		t.Fatalf("attempts = %+v, want lost then completed", atts)
	}
	if n := countWhere(t, st, "jobs WHERE id = ? AND result->>'summary' = 'attempt-2'", jobID); n != 1 {
		t.Fatal("job result is not attempt 2's")
	}
	if n := countWhere(t, st, "runs WHERE id = ? AND status = 'completed'", runID); n != 1 {
		t.Fatal("run not completed")
	}
}
