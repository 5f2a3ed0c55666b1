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

// A run of two jobs on a replica that runs one job at a time: cancelling it
// while its first job runs stops that job within a heartbeat, and its
// second, still pending, never starts — not even once capacity frees. The
// cancelled attempt is not retried although the task returned a retryable
// error.
func TestCancelledRunsPendingSiblingNeverStarts(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	testenv.SQL(t, st).Exec(`UPDATE task_definitions SET enabled = true, max_attempts = 3 WHERE key IN ('noop', 'service_map')`)
	started, stopped := make(chan int64, 4), make(chan error, 1)
	var cancelledRun int64
	ready := make(chan struct{})
	task := tasks.TaskFunc(func(ctx context.Context, env tasks.Env) (*tasks.Result, error) {
		<-ready
		if env.Job.RunID != cancelledRun {
			return &tasks.Result{Summary: "other run"}, nil
		}
		started <- env.Job.ID
		<-ctx.Done()
		stopped <- context.Cause(ctx)
		return nil, ctx.Err() // unclassified: retryable, were it not cancelled
	})
	r := startReplica(t, st, "r", tasks.Registry{"noop": task, "service_map": task}, func(c *scheduler.Config) {
		c.MaxConcurrent = 1
		c.ClaimTTL = 900 * time.Millisecond
	})
	d, err := st.Launch(context.Background(), store.LaunchRequest{Tasks: []string{"noop", "service_map"}})
	if err != nil {
		t.Fatal(err)
	}
	cancelledRun = d.ID
	close(ready)
	first := <-started
	if _, err := st.CancelRun(context.Background(), cancelledRun); err != nil {
		t.Fatal(err)
	}
	select {
	case cause := <-stopped:
		if cause == nil || cause.Error() != "run cancelled" {
			t.Fatalf("task stopped with %v", cause)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("running job not stopped after its run was cancelled")
	}
	if f := r.TestSignals.Finished.WaitOrTimeout(); f.JobID != first || f.Status != "cancelled" || f.Attempt != 1 {
		t.Fatalf("first end written = %+v, want job %d cancelled at attempt 1", f, first)
	}
	// Capacity is free again: a later run starts and completes, the
	// cancelled run's other job does not.
	other := launchNoop(t, st, 1)[0]
	if f := r.TestSignals.Finished.WaitOrTimeout(); f.Status != "completed" || f.JobID != jobOfRun(t, st, other).ID {
		t.Fatalf("next end written = %+v, want the later run's job completed", f)
	}
	select {
	case id := <-started:
		t.Fatalf("job %d of the cancelled run started", id)
	default:
	}
	var jobs []store.Job
	testenv.SQL(t, st).Where("run_id = ?", cancelledRun).Order("id").Find(&jobs)
	if len(jobs) != 2 {
		t.Fatalf("cancelled run has %d jobs", len(jobs))
	}
	for _, j := range jobs {
		if j.Status != domain.StatusCancelled {
			t.Errorf("job %d (%s) is %s, want cancelled", j.ID, j.TaskType, j.Status)
		}
		want := 0
		if j.ID == first {
			want = 1
		}
		if j.Attempt != want || len(attemptsOf(t, st, j.ID)) != want {
			t.Errorf("job %d: attempt %d, want %d", j.ID, j.Attempt, want)
		}
	}
	if n := countWhere(t, st, "runs WHERE id = ? AND status = 'cancelled'", cancelledRun); n != 1 {
		t.Fatal("run not cancelled")
	}
}
