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

// A paused replica whose job was rescued may, once resumed, claim that same
// job again (a new attempt) while its stale execution of the old attempt is
// still running. The stale execution must still be stopped (lease lost), and
// its end must not make the replica forget the new attempt: the new attempt
// completes and the replica shuts down cleanly.
func TestResumedReplicaReclaimingItsJobStopsTheStaleExecution(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	started := make(chan int, 4)
	staleStopped := make(chan error, 1)
	task := tasks.TaskFunc(func(ctx context.Context, env tasks.Env) (*tasks.Result, error) {
		started <- env.Job.Attempt
		if env.Job.Attempt == 1 { // the stale execution: runs until stopped
			<-ctx.Done()
			staleStopped <- context.Cause(ctx)
			return nil, ctx.Err()
		}
		// The new attempt outlives several heartbeats: it must keep its lease.
		select {
		case <-time.After(2 * time.Second):
			return &tasks.Result{Summary: "attempt " + itoa(int64(env.Job.Attempt))}, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	})
	r := startReplica(t, st, "resumed", tasks.Registry{"noop": task}, func(c *scheduler.Config) {
		c.ClaimTTL = 900 * time.Millisecond
		c.RetryBackoff = func(int) time.Duration { return 0 }
	})
	runID := launchNoop(t, st, 1)[0]
	if a := <-started; a != 1 {
		t.Fatalf("first execution is attempt %d", a)
	}
	r.Pause(true)
	// Another replica's maintenance rescues the expired lease (the paused one
	// does no maintenance).
	waitLeaseExpired(t, st, runID)
	if _, err := st.RescueExpired(context.Background(), 10, func(int) time.Duration { return 0 }); err != nil {
		t.Fatal(err)
	}
	if countWhere(t, st, "jobs WHERE run_id = ? AND status = 'pending' AND attempt = 1", runID) != 1 {
		t.Fatal("expired lease not rescued")
	}
	r.Pause(false) // the replica claims the job again at once, before its next heartbeat
	select {
	case a := <-started:
		if a != 2 {
			t.Fatalf("re-claimed execution is attempt %d", a)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("resumed replica did not re-claim the job")
	}
	select {
	case cause := <-staleStopped:
		if cause == nil || cause.Error() != "lease lost" {
			t.Fatalf("stale execution stopped with %v, want lease lost", cause)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the stale execution of attempt 1 was never stopped")
	}
	waitFor(t, 10*time.Second, "run completed by attempt 2", func() bool {
		return countWhere(t, st, "runs WHERE id = ? AND status = 'completed'", runID) == 1
	}, flushed(r)...)
	if n := countWhere(t, st, "job_attempts a JOIN jobs j ON j.id = a.job_id WHERE j.run_id = ?", runID); n != 2 {
		t.Fatalf("attempts = %d, want 2 (the new attempt must keep its lease)", n)
	}
	stopped := make(chan struct{})
	go func() { r.stop(t); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(10 * time.Second):
		t.Fatal("replica did not shut down")
	}
}

// waitLeaseExpired sleeps until the lease of the run's job has expired on
// the database clock (the lease's only clock). It reads the lease again
// after each sleep: a heartbeat in flight when the replica was paused may
// still renew it once.
func waitLeaseExpired(t *testing.T, st *store.Store, runID int64) {
	t.Helper()
	for range 3 {
		var left float64
		if err := testenv.SQL(t, st).Raw(`SELECT coalesce(extract(epoch FROM max(claimed_until) - now()), 0) FROM jobs WHERE run_id = ?`,
			runID).Scan(&left).Error; err != nil {
			t.Fatal(err)
		}
		if left <= 0 {
			return
		}
		time.Sleep(time.Duration(left*float64(time.Second)) + 10*time.Millisecond)
	}
	t.Fatal("the lease kept being renewed while its replica was paused")
}
