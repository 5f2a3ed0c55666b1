package scheduler_test

import (
	"context"
	"testing"
	"time"

	"github.com/cyberbrain/cyberbrain/pkg/scheduler"
	"github.com/cyberbrain/cyberbrain/pkg/store"
	"github.com/cyberbrain/cyberbrain/pkg/tasks"
)

// On SIGTERM a replica lets running jobs finish within the shutdown timeout.
func TestShutdownLetsRunningJobsFinish(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	started := make(chan int64, 1)
	slow := tasks.TaskFunc(func(ctx context.Context, env tasks.Env) (*tasks.Result, error) {
		started <- env.Job.ID
		time.Sleep(300 * time.Millisecond)
		return &tasks.Result{Summary: "finished during shutdown"}, nil
	})
	r := startReplica(t, st, "leaving", tasks.Registry{"noop": slow}, nil)
	runID := launchNoop(t, st, 1)[0]
	<-started
	r.stop(t)
	if n := countWhere(t, st, "runs WHERE id = ? AND status = 'completed'", runID); n != 1 {
		t.Fatal("run did not complete during graceful shutdown")
	}
}

// Jobs still running when the shutdown timeout passes are handed back at
// once: another replica retries them without waiting for the lease to expire.
func TestShutdownHandsBackJobsThatOutlastTheTimeout(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	started, stopped := make(chan int64, 1), make(chan error, 1)
	r := startReplica(t, st, "leaving", tasks.Registry{"noop": blocking(started, stopped)}, func(c *scheduler.Config) {
		c.ShutdownTimeout = 100 * time.Millisecond
		c.ClaimTTL = time.Hour // a lease expiry would take an hour: the hand-back must not wait for it
	})
	runID := launchNoop(t, st, 1)[0]
	jobID := <-started
	r.stop(t)
	if n := countWhere(t, st, "jobs WHERE id = ? AND status = 'pending' AND claimed_by = ''", jobID); n != 1 {
		t.Fatal("job not handed back as pending")
	}
	if n := countWhere(t, st, "job_attempts WHERE job_id = ? AND attempt = 1 AND ended_at IS NOT NULL AND error LIKE 'released%'", jobID); n != 1 {
		t.Fatal("released attempt not recorded")
	}
	next := startReplica(t, st, "next", tasks.Registry{"noop": quick("picked up")}, nil)
	waitFor(t, 10*time.Second, "run completed by the next replica", func() bool {
		return countWhere(t, st, "runs WHERE id = ? AND status = 'completed'", runID) == 1
	}, flushed(next)...)
}

// --once: one claim pass, its jobs run to the end, then it returns.
func TestRunOnceExecutesOnePassAndReturns(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	runs := launchNoop(t, st, 3)
	s, err := scheduler.New(scheduler.Config{Store: st, Tasks: tasks.Registry{"noop": tasks.Noop()}, Claimant: "once"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := countWhere(t, st, "runs WHERE id = ANY(?) AND status = 'completed'", store.Int64s(runs)); n != 3 {
		t.Fatalf("%d of 3 runs completed after --once", n)
	}
}
