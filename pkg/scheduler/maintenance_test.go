package scheduler_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/cyberbrain/cyberbrain/pkg/domain"
	"github.com/cyberbrain/cyberbrain/pkg/scheduler"
	"github.com/cyberbrain/cyberbrain/pkg/store"
	"github.com/cyberbrain/cyberbrain/pkg/tasks"
	"github.com/cyberbrain/cyberbrain/pkg/testenv"
)

// waitMaintained waits for the replica's next attempt at work and returns
// whether it ran (false: another replica held the lock).
func waitMaintained(t *testing.T, r *replica, work string) bool {
	t.Helper()
	for {
		if m := r.TestSignals.Maintained.WaitOrTimeout(); m.Work == work {
			return m.Ran
		}
	}
}

// Retention prunes runs that finished before the retention window, with
// their jobs, attempts, artifacts and ScheduledRuns, and the ended launch
// schedules left without history; recent runs, unfinished runs (however
// old) and recurring schedules stay (§10).
func TestRetentionPrunesOnlyOldFinishedRuns(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	ctx := context.Background()
	every := 60
	past := time.Now().Add(-time.Minute)
	sch, err := st.CreateSchedule(ctx, &store.ScheduleWrite{
		Schedule:          store.Schedule{Name: "hourly", Task: "noop", Enabled: true, ScheduleType: domain.ScheduleInterval, IntervalMinutes: &every},
		ExplicitNextRunAt: &past,
	})
	if err != nil {
		t.Fatal(err)
	}
	done := launchNoop(t, st, 3) // done[0], done[1] old; done[2] recent
	withArtifact := tasks.TaskFunc(func(ctx context.Context, env tasks.Env) (*tasks.Result, error) {
		return &tasks.Result{Summary: "ok", Artifacts: []tasks.Artifact{{Name: "report.md", ContentType: "text/markdown", Content: []byte("# ok")}}}, nil
	})
	once, err := scheduler.New(scheduler.Config{Store: st, Tasks: tasks.Registry{"noop": withArtifact}, Claimant: "once"})
	if err != nil {
		t.Fatal(err)
	}
	if err := once.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if n := countWhere(t, st, "runs WHERE status = 'completed'"); n != 4 {
		t.Fatalf("%d runs completed before pruning, want 4 (3 launches, 1 slot)", n)
	}
	var slotRun int64
	testenv.SQL(t, st).Raw(`SELECT run_id FROM scheduled_runs WHERE schedule_id = ?`, sch.ID).Scan(&slotRun)
	cancelled := launchNoop(t, st, 1)[0]
	if _, err := st.CancelRun(ctx, cancelled); err != nil {
		t.Fatal(err)
	}
	unfinished := launchNoop(t, st, 1)[0]
	old := []int64{done[0], done[1], slotRun, cancelled}
	sql := testenv.SQL(t, st)
	sql.Exec(`UPDATE runs SET completed_at = now() - interval '3 hours' WHERE id = ANY(?)`, store.Int64s(old))
	sql.Exec(`UPDATE runs SET created_at = now() - interval '3 hours' WHERE id = ?`, unfinished)
	sql.Exec(`UPDATE runs SET completed_at = now() - interval '50 minutes' WHERE id = ?`, done[2])
	var oldJobs []int64
	sql.Raw(`SELECT id FROM jobs WHERE run_id = ANY(?)`, store.Int64s(old)).Scan(&oldJobs)
	if countWhere(t, st, "artifacts WHERE run_id = ANY(?)", store.Int64s(old)) == 0 {
		t.Fatal("fixture: the old runs have no artifacts to prune")
	}

	started, stopped := make(chan int64, 1), make(chan error, 1)
	r := startReplica(t, st, "pruner", tasks.Registry{"noop": blocking(started, stopped)}, func(c *scheduler.Config) {
		c.Retention = time.Hour
		c.ShutdownTimeout = 50 * time.Millisecond
	})
	if !waitMaintained(t, r, "retention") {
		t.Fatal("the only replica did not get the retention lock")
	}
	for _, q := range []string{
		"runs WHERE id = ANY(?)", "jobs WHERE run_id = ANY(?)", "scheduled_runs WHERE run_id = ANY(?)", "artifacts WHERE run_id = ANY(?)",
	} {
		if n := countWhere(t, st, q, store.Int64s(old)); n != 0 {
			t.Errorf("%d rows left: %s", n, q)
		}
	}
	if n := countWhere(t, st, "job_attempts WHERE job_id = ANY(?)", store.Int64s(oldJobs)); n != 0 {
		t.Errorf("%d attempts of pruned jobs left", n)
	}
	for _, id := range []int64{done[2], unfinished} {
		if n := countWhere(t, st, "runs WHERE id = ?", id); n != 1 {
			t.Errorf("run %d (recent or unfinished) was pruned", id)
		}
	}
	for _, name := range []string{"launch-run-" + itoa(done[0]) + "-noop", "launch-run-" + itoa(cancelled) + "-noop"} {
		if n := countWhere(t, st, "schedules WHERE name = ?", name); n != 0 {
			t.Errorf("launch schedule %s of a pruned run kept", name)
		}
	}
	for _, name := range []string{"launch-run-" + itoa(done[2]) + "-noop", "launch-run-" + itoa(unfinished) + "-noop", "hourly"} {
		if n := countWhere(t, st, "schedules WHERE name = ?", name); n != 1 {
			t.Errorf("schedule %s pruned", name)
		}
	}
}

// Host health checks run on one replica at a time: while one replica's
// check runs, the other's attempts skip it; once it is over, the other may
// run it.
func TestHostHealthChecksRunOnOneReplicaAtATime(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	var mu sync.Mutex
	inflight, peak := 0, 0
	calls := map[string]int{}
	entered := make(chan string, 16)
	release := make(chan struct{})
	check := func(name string) func(ctx context.Context) error {
		return func(ctx context.Context) error {
			mu.Lock()
			inflight++
			peak = max(peak, inflight)
			calls[name]++
			mu.Unlock()
			defer func() {
				mu.Lock()
				inflight--
				mu.Unlock()
			}()
			entered <- name
			select {
			case <-release:
			case <-ctx.Done():
			}
			return nil
		}
	}
	rs := map[string]*replica{}
	for _, name := range []string{"a", "b"} {
		rs[name] = startReplica(t, st, name, tasks.Registry{"noop": tasks.Noop()}, func(c *scheduler.Config) {
			c.HealthCheck = check(name)
			c.HealthInterval = time.Millisecond // every pass attempts it
		})
	}
	holder := <-entered
	other := map[string]string{"a": "b", "b": "a"}[holder]
	// The other replica's attempts while the holder's check runs: skipped.
	for range 3 {
		rs[other].Nudge()
		if waitMaintained(t, rs[other], "host-health") {
			t.Fatalf("replica %s ran a health check while %s's was running", other, holder)
		}
	}
	close(release)
	// The holder's own later attempts skipped too (its check held the lock);
	// its first one reports run once it ends.
	for !waitMaintained(t, rs[holder], "host-health") {
	}
	// Now the lock is free: the other replica gets its turn (the holder may
	// take it again first, so try a few passes).
	ran := false
	for i := 0; i < 50 && !ran; i++ {
		rs[other].Nudge()
		ran = waitMaintained(t, rs[other], "host-health")
	}
	if !ran {
		t.Fatalf("replica %s never ran a health check after %s's ended", other, holder)
	}
	mu.Lock()
	defer mu.Unlock()
	if peak != 1 {
		t.Fatalf("%d health checks ran at once, want 1", peak)
	}
	if calls[holder] < 1 || calls[other] < 1 {
		t.Fatalf("health check calls = %v", calls)
	}
}

// oldFinishedRuns launches n noop runs, runs them to their end on a
// one-pass replica and backdates their completed_at by two hours.
func oldFinishedRuns(t *testing.T, st *store.Store, n int) []int64 {
	t.Helper()
	ids := launchNoop(t, st, n)
	once, err := scheduler.New(scheduler.Config{Store: st, Tasks: tasks.Registry{"noop": tasks.Noop()}, Claimant: "once", MaxClaim: n, MaxConcurrent: n})
	if err != nil {
		t.Fatal(err)
	}
	if err := once.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	if c := countWhere(t, st, "runs WHERE id = ANY(?) AND status = 'completed'", store.Int64s(ids)); c != n {
		t.Fatalf("%d of %d runs completed", c, n)
	}
	testenv.SQL(t, st).Exec(`UPDATE runs SET completed_at = now() - interval '2 hours' WHERE id = ANY(?)`, store.Int64s(ids))
	return ids
}

// waitPruned waits for the replica's next retention pass under the lock.
func waitPruned(t *testing.T, r *replica) scheduler.PrunedSignal {
	t.Helper()
	p := r.TestSignals.Pruned.WaitOrTimeout()
	if !waitMaintained(t, r, "retention") {
		t.Fatal("a retention pass ran without the lock")
	}
	return p
}

// A replica attempts retention at its first pass and then every minute of
// its clock, not at every loop pass (§10).
func TestRetentionRunsEveryMinute(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	clock := scheduler.NewFakeClock(t)
	t0 := clock.Now()
	r := startReplica(t, st, "pruner", tasks.Registry{"noop": tasks.Noop()}, func(c *scheduler.Config) {
		c.Retention = time.Hour
		c.Clock = clock
	})
	if p := waitPruned(t, r); p.Runs != 0 || !p.At.Equal(t0) {
		t.Fatalf("first pass %+v, want nothing pruned at the start", p)
	}
	// The replica runs three launches to their end; they are backdated.
	old := launchNoop(t, st, 3)
	for range old {
		r.TestSignals.Finished.WaitOrTimeout()
	}
	testenv.SQL(t, st).Exec(`UPDATE runs SET completed_at = now() - interval '2 hours' WHERE id = ANY(?)`, store.Int64s(old))
	// Loop passes before the minute is up (each launch's NOTIFY makes one)
	// leave retention alone.
	clock.Advance(scheduler.RetentionEvery - time.Second)
	launchNoop(t, st, 1)
	r.TestSignals.Started.WaitOrTimeout()
	r.TestSignals.Finished.WaitOrTimeout()
	clock.Advance(time.Second)
	r.Nudge()
	p := waitPruned(t, r)
	if want := t0.Add(scheduler.RetentionEvery); !p.At.Equal(want) || p.Runs != 3 || p.More {
		t.Fatalf("second pass %+v, want the 3 old runs pruned at %v", p, want)
	}
	if n := countWhere(t, st, "runs WHERE id = ANY(?)", store.Int64s(old)); n != 0 {
		t.Fatalf("%d old runs left", n)
	}
}

// A pass deletes batch after batch until one comes back short; a pass
// whose budget runs out with runs left is followed at once by another, not a
// minute later, and the backlog drains without the clock moving.
func TestRetentionDrainsABacklogInBatches(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	old := oldFinishedRuns(t, st, 5)
	clock := scheduler.NewFakeClock(t)
	mod := func(c *scheduler.Config) {
		c.Retention = time.Hour
		c.Clock = clock
	}
	// No budget: every pass ends after its first batch.
	r := startReplica(t, st, "pruner", tasks.Registry{"noop": tasks.Noop()}, mod,
		func(s *scheduler.Scheduler) { s.SetRetentionBatches(2, 0) })
	for i, want := range []scheduler.PrunedSignal{{Runs: 2, More: true}, {Runs: 2, More: true}, {Runs: 1}} {
		want.At = clock.Now()
		if p := waitPruned(t, r); p != want {
			t.Fatalf("pass %d: %+v, want %+v", i+1, p, want)
		}
	}
	if n := countWhere(t, st, "runs WHERE id = ANY(?)", store.Int64s(old)); n != 0 {
		t.Fatalf("%d old runs left", n)
	}
	// Caught up: the next pass is a minute later (an earlier one would
	// report the earlier time).
	clock.Advance(scheduler.RetentionEvery)
	r.Nudge()
	if p, want := waitPruned(t, r), (scheduler.PrunedSignal{At: clock.Now()}); p != want {
		t.Fatalf("pass after catching up: %+v, want %+v", p, want)
	}

	// With a budget, one pass takes batch after batch until a short one.
	st2 := newStore(t)
	old = oldFinishedRuns(t, st2, 5)
	r2 := startReplica(t, st2, "pruner", tasks.Registry{"noop": tasks.Noop()}, mod,
		func(s *scheduler.Scheduler) { s.SetRetentionBatches(2, time.Hour) })
	if p := waitPruned(t, r2); p.Runs != 5 || p.More {
		t.Fatalf("pass %+v, want all 5 old runs in one pass", p)
	}
	if n := countWhere(t, st2, "runs WHERE id = ANY(?)", store.Int64s(old)); n != 0 {
		t.Fatalf("%d old runs left", n)
	}
}
