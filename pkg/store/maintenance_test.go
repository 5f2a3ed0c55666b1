package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/cyberbrain/cyberbrain/pkg/store"
	"github.com/cyberbrain/cyberbrain/pkg/testenv"
)

// finishedNoop runs a noop launch to its end with the given outcome, with an
// artifact and an LLM call count, and backdates completed_at by age.
func finishedNoop(t *testing.T, st *store.Store, outcome store.FinishOutcome, age time.Duration) store.StartedJob {
	t.Helper()
	j := runningNoop(t, st, "a")
	finish(t, st, "a", store.Finish{JobID: j.ID, Attempt: 1, Outcome: outcome, Error: "e",
		Save: func(ctx context.Context, tx *store.Tx, fj store.FinishedJob) error {
			return tx.SaveArtifacts(ctx, fj.RunID, fj.ID, []store.NewArtifact{{Name: "report.md", Content: []byte("r")}})
		}})
	jid := j.ID
	if err := st.RecordLLMCall(context.Background(), &store.LLMCall{JobID: &jid, Model: "m", TotalTokens: 3}); err != nil {
		t.Fatal(err)
	}
	mustExec(t, st, `UPDATE runs SET completed_at = now() - make_interval(secs => ?) WHERE id = ?`, age.Seconds(), j.RunID)
	return j
}

func exists(t *testing.T, st *store.Store, table string, col string, id int64) bool {
	t.Helper()
	return countInt(t, st, `SELECT count(*) FROM `+table+` WHERE `+col+` = ?`, id) > 0
}

// Retention deletes finished runs older than the age with everything that is
// part of them, and their ended launch schedules; it keeps recent runs,
// unfinished runs and recurring schedules (docs/DESIGN.md §10).
func TestPruneFinishedRunsDeletesOldFinishedRunsOnly(t *testing.T) {
	t.Parallel()
	st := noopStore(t)
	ctx := context.Background()
	const day = 24 * time.Hour
	old := []store.StartedJob{
		finishedNoop(t, st, store.FinishCompleted, 3*day),
		finishedNoop(t, st, store.FinishFailed, 2*day),
		finishedNoop(t, st, store.FinishCancelled, 4*day),
	}
	recent := finishedNoop(t, st, store.FinishCompleted, time.Hour)
	running := runningNoop(t, st, "a")
	pending := launchRun(t, st, "noop")
	// Even with an old completed_at (a cancelled job's row may carry one),
	// a run that is not finished is never pruned.
	mustExec(t, st, `UPDATE runs SET completed_at = now() - interval '10 days', created_at = now() - interval '10 days' WHERE id IN (?, ?)`,
		running.RunID, pending.ID)
	sc := limitedSchedule(t, st, "hourly", nil, nil)
	fired := fireSlots(t, st, sc, 1)[0]
	firedJob := getJob(t, st, fired)
	started := startJobs(t, st, "a", 10)
	finish(t, st, "a", completed(started[0]))
	mustExec(t, st, `UPDATE runs SET completed_at = now() - interval '5 days' WHERE id = ?`, firedJob.RunID)

	n, err := st.PruneFinishedRuns(ctx, day, 2)
	if err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Fatalf("first batch pruned %d runs, want the batch of 2", n)
	}
	// Oldest first: the fired run (5 days) and the cancelled one (4 days).
	if exists(t, st, "runs", "id", firedJob.RunID) || exists(t, st, "runs", "id", old[2].RunID) || !exists(t, st, "runs", "id", old[0].RunID) {
		t.Fatal("the batch did not take the oldest runs first")
	}
	n, err = st.PruneFinishedRuns(ctx, day, 100)
	if err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Fatalf("second batch pruned %d runs, want 2", n)
	}
	for _, j := range append(old, store.StartedJob{Job: store.Job{ID: fired, RunID: firedJob.RunID}}) {
		for table, col := range map[string]string{"jobs": "id", "job_attempts": "job_id", "artifacts": "job_id",
			"llm_calls": "job_id", "scheduled_runs": "job_id"} {
			if exists(t, st, table, col, j.ID) {
				t.Errorf("%s of pruned job %d left", table, j.ID)
			}
		}
		if exists(t, st, "runs", "id", j.RunID) {
			t.Errorf("run %d not pruned", j.RunID)
		}
		if n := countInt(t, st, `SELECT count(*) FROM schedules WHERE name = ?`, "launch-run-"+fmtInt(j.RunID)+"-noop"); n != 0 && j.ID != fired {
			t.Errorf("launch schedule of pruned run %d left", j.RunID)
		}
	}
	for _, kept := range []int64{recent.RunID, running.RunID, pending.ID} {
		if !exists(t, st, "runs", "id", kept) || !exists(t, st, "jobs", "run_id", kept) || !exists(t, st, "scheduled_runs", "run_id", kept) {
			t.Errorf("run %d (recent or unfinished) pruned", kept)
		}
		if n := countInt(t, st, `SELECT count(*) FROM schedules WHERE name = ?`, "launch-run-"+fmtInt(kept)+"-noop"); n != 1 {
			t.Errorf("launch schedule of kept run %d pruned", kept)
		}
	}
	if !exists(t, st, "artifacts", "job_id", recent.ID) || !exists(t, st, "llm_calls", "job_id", recent.ID) {
		t.Error("parts of the recent run pruned")
	}
	if !exists(t, st, "schedules", "id", sc.ID) {
		t.Error("recurring schedule pruned with its run")
	}
	if n, err := st.PruneFinishedRuns(ctx, day, 100); err != nil || n != 0 {
		t.Fatalf("third prune = %d, %v; want nothing left", n, err)
	}
}

// NextWake reports the earliest future event after `since` and whether a
// running job's lease has expired.
func TestNextWake(t *testing.T) {
	t.Parallel()
	st := noopStore(t)
	ctx := context.Background()
	now := dbNow(t, st)
	w, err := st.NextWake(ctx, now)
	if err != nil {
		t.Fatal(err)
	}
	if w.OK || w.ExpiredLeases || w.DBNow.Before(now) {
		t.Fatalf("empty database: %+v", w)
	}
	limitedSchedule(t, st, "hourly", nil, nil) // due in an hour
	w, _ = st.NextWake(ctx, dbNow(t, st))
	if !w.OK || w.In < 58*time.Minute || w.In > time.Hour {
		t.Fatalf("next wake %+v, want the schedule's slot in about an hour", w)
	}
	j := runningNoop(t, st, "a") // lease expires in leaseTTL
	w, _ = st.NextWake(ctx, dbNow(t, st))
	if !w.OK || w.In < leaseTTL-10*time.Second || w.In > leaseTTL {
		t.Fatalf("next wake %+v, want the job's lease expiry in about %v", w, leaseTTL)
	}
	retry := runningNoop(t, st, "a")
	finish(t, st, "a", store.Finish{JobID: retry.ID, Attempt: 1, Outcome: store.FinishRetry, RetryInMS: 20000})
	w, _ = st.NextWake(ctx, dbNow(t, st))
	if !w.OK || w.In < 15*time.Second || w.In > 20*time.Second {
		t.Fatalf("next wake %+v, want the retry in about 20s", w)
	}
	// Something due before `since` was seen by the previous pass.
	w, _ = st.NextWake(ctx, dbNow(t, st).Add(30*time.Second))
	if !w.OK || w.In < leaseTTL-10*time.Second || w.In > leaseTTL {
		t.Fatalf("next wake after the retry's time %+v, want the lease expiry", w)
	}
	expireLease(t, st, j.ID)
	w, _ = st.NextWake(ctx, dbNow(t, st))
	if !w.ExpiredLeases {
		t.Fatalf("next wake %+v does not report the expired lease", w)
	}
}

// MetricsStats counts live jobs and runs, due schedules with their lag, and
// each host's state.
func TestMetricsStats(t *testing.T) {
	t.Parallel()
	st := noopStore(t)
	ctx := context.Background()
	finishedNoop(t, st, store.FinishCompleted, 0) // terminal rows are not counted
	runningNoop(t, st, "a")
	launchRun(t, st, "noop", "service_map") // two pending jobs, a pending run, two due launch schedules
	mustExec(t, st, `UPDATE schedules SET due_at = now() - interval '90 seconds' WHERE due_at IS NOT NULL`)
	h := &store.WorkerHost{Name: "gpu-box", Type: "docker_tcp", BaseURL: "tcp://10.0.0.2:2376", Capabilities: store.JSON(`{}`), Enabled: true}
	if err := testenv.SQL(t, st).Create(h).Error; err != nil {
		t.Fatal(err)
	}
	if err := st.RecordHostHealth(ctx, h.ID, store.HostHealth{Healthy: false, Error: "refused"}); err != nil {
		t.Fatal(err)
	}
	off := &store.WorkerHost{Name: "off", Type: "docker_tcp", BaseURL: "tcp://10.0.0.3:2376", Capabilities: store.JSON(`{}`)}
	if err := testenv.SQL(t, st).Create(off).Error; err != nil {
		t.Fatal(err)
	}
	mustExec(t, st, `UPDATE worker_hosts SET enabled = false WHERE id = ?`, off.ID)
	m, err := st.MetricsStats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if m.JobsByStatus["pending"] != 2 || m.JobsByStatus["running"] != 1 || len(m.JobsByStatus) != 2 {
		t.Errorf("jobs by status %v, want 2 pending, 1 running", m.JobsByStatus)
	}
	if m.RunsByStatus["pending"] != 1 || m.RunsByStatus["running"] != 1 || len(m.RunsByStatus) != 2 {
		t.Errorf("runs by status %v, want 1 pending, 1 running", m.RunsByStatus)
	}
	if m.DueSchedules != 2 || m.ScheduleLagSeconds < 89 || m.ScheduleLagSeconds > 120 {
		t.Errorf("due schedules %d lag %.1fs, want 2 and about 90s", m.DueSchedules, m.ScheduleLagSeconds)
	}
	want := map[string]string{"local": "unknown", "gpu-box": "unhealthy", "off": "disabled"}
	for name, state := range want {
		if m.HostStates[name] != state {
			t.Errorf("host %s: %q, want %q", name, m.HostStates[name], state)
		}
	}
}

// One replica at a time holds a maintenance lock; the others skip the work.
func TestTryMaintenanceLockIsExclusive(t *testing.T) {
	t.Parallel()
	st := noopStore(t)
	st2 := secondHandle(t, st)
	ctx := context.Background()
	ran := 0
	got, err := st.TryMaintenanceLock(ctx, "retention", func(ctx context.Context) error {
		ran++
		other, err := st2.TryMaintenanceLock(ctx, "retention", func(context.Context) error {
			t.Error("second replica ran while the first held the lock")
			return nil
		})
		if err != nil || other {
			t.Errorf("second replica got the held lock: %v, %v", other, err)
		}
		diff, err := st2.TryMaintenanceLock(ctx, "health", func(context.Context) error { ran++; return nil })
		if err != nil || !diff {
			t.Errorf("another maintenance lock was not free: %v, %v", diff, err)
		}
		return nil
	})
	if err != nil || !got || ran != 2 {
		t.Fatalf("first lock: got %v ran %d err %v", got, ran, err)
	}
	again, err := st2.TryMaintenanceLock(ctx, "retention", func(context.Context) error { ran++; return nil })
	if err != nil || !again || ran != 3 {
		t.Fatalf("lock not released: got %v ran %d err %v", again, ran, err)
	}
}

// A history of launched and scheduled runs is pruned batch by batch: each
// batch takes its oldest finished runs with their jobs, attempts, artifacts,
// LLM call counts and ScheduledRuns, and the launch schedules that belonged
// only to them. Recent and unfinished runs stay whole; schedules people made
// stay even when all their runs are gone, and so does a launch schedule a
// kept run still uses (docs/DESIGN.md §10).
func TestPruneFinishedRunsInBatches(t *testing.T) {
	t.Parallel()
	st := noopStore(t)
	ctx := context.Background()
	const day = 24 * time.Hour
	launchName := func(run int64) string { return "launch-run-" + fmtInt(run) + "-noop" }

	var launched []store.StartedJob // old launches, oldest last
	for i, o := range []store.FinishOutcome{store.FinishCompleted, store.FinishFailed, store.FinishCancelled,
		store.FinishCompleted, store.FinishFailed, store.FinishCompleted, store.FinishCompleted} {
		launched = append(launched, finishedNoop(t, st, o, time.Duration(3+i)*day))
	}
	// A run-now of the first old launch's schedule: that schedule now has
	// a recent run too.
	var reused struct{ ID int64 }
	testenv.SQL(t, st).Raw(`SELECT id FROM schedules WHERE name = ?`, launchName(launched[0].RunID)).Scan(&reused)
	again, err := st.RunScheduleNow(ctx, reused.ID)
	if err != nil {
		t.Fatal(err)
	}
	claimAndHandOff(t, st, "a", 100)
	finish(t, st, "a", completed(startJobs(t, st, "a", 100)[0]))

	// Schedules people made: an interval schedule with an old and a recent
	// run, one whose only run is old, and an ended one-shot one.
	kept := limitedSchedule(t, st, "kept", nil, nil)
	keptJobs := fireSlots(t, st, kept, 2)
	gone := limitedSchedule(t, st, "gone", nil, nil)
	goneJobs := fireSlots(t, st, gone, 1)
	past := time.Now().Add(-time.Hour)
	once, err := st.CreateSchedule(ctx, &store.ScheduleWrite{
		Schedule:          store.Schedule{Name: "once-off", Task: "noop", Enabled: true, ScheduleType: "one_shot", Timezone: "UTC"},
		ExplicitNextRunAt: &past,
	})
	if err != nil {
		t.Fatal(err)
	}
	mustExec(t, st, `UPDATE schedules SET claimed_by = 't', claimed_until = now() + interval '1 minute' WHERE id = ?`, once.ID)
	onceFired, err := st.FireSlot(ctx, "t", *once, past, nil)
	if err != nil || onceFired.JobID == 0 {
		t.Fatalf("one-shot did not fire: %+v, %v", onceFired, err)
	}
	started := startJobs(t, st, "a", 100)
	if len(started) != 4 {
		t.Fatalf("%d scheduled jobs started, want 4", len(started))
	}
	for _, j := range started {
		finish(t, st, "a", completed(j))
	}
	runOf := func(job int64) int64 { return getJob(t, st, job).RunID }
	oldScheduled := []int64{runOf(keptJobs[0]), runOf(goneJobs[0]), runOf(onceFired.JobID)}
	mustExec(t, st, `UPDATE runs SET completed_at = now() - interval '5 days' WHERE id = ANY(?)`, store.Int64s(oldScheduled))

	recent := finishedNoop(t, st, store.FinishCompleted, time.Hour)
	running := runningNoop(t, st, "a")
	pending := launchRun(t, st, "noop")
	mustExec(t, st, `UPDATE runs SET completed_at = now() - interval '10 days', created_at = now() - interval '10 days' WHERE id IN (?, ?)`,
		running.RunID, pending.ID)

	var oldRuns []int64
	for _, j := range launched {
		oldRuns = append(oldRuns, j.RunID)
	}
	oldRuns = append(oldRuns, oldScheduled...)
	var oldJobs []int64
	testenv.SQL(t, st).Raw(`SELECT id FROM jobs WHERE run_id = ANY(?)`, store.Int64s(oldRuns)).Scan(&oldJobs)
	if len(oldJobs) != len(oldRuns) {
		t.Fatalf("fixture: %d jobs for %d old runs", len(oldJobs), len(oldRuns))
	}

	var batches []int64
	for {
		n, err := st.PruneFinishedRuns(ctx, day, 3)
		if err != nil {
			t.Fatal(err)
		}
		batches = append(batches, n)
		if n < 3 {
			break
		}
	}
	if fmt.Sprint(batches) != "[3 3 3 1]" {
		t.Fatalf("batches pruned %v runs, want [3 3 3 1] (10 old runs)", batches)
	}

	for _, q := range []string{"runs WHERE id = ANY(?)", "jobs WHERE run_id = ANY(?)", "scheduled_runs WHERE run_id = ANY(?)",
		"artifacts WHERE run_id = ANY(?)"} {
		if n := countInt(t, st, "SELECT count(*) FROM "+q, store.Int64s(oldRuns)); n != 0 {
			t.Errorf("%d rows of pruned runs left: %s", n, q)
		}
	}
	for _, q := range []string{"job_attempts WHERE job_id = ANY(?)", "llm_calls WHERE job_id = ANY(?)", "artifacts WHERE job_id = ANY(?)"} {
		if n := countInt(t, st, "SELECT count(*) FROM "+q, store.Int64s(oldJobs)); n != 0 {
			t.Errorf("%d rows of pruned jobs left: %s", n, q)
		}
	}
	for _, j := range launched[1:] {
		if countInt(t, st, `SELECT count(*) FROM schedules WHERE name = ?`, launchName(j.RunID)) != 0 {
			t.Errorf("launch schedule of pruned run %d left", j.RunID)
		}
	}
	keptRuns := []int64{again, runOf(keptJobs[1]), recent.RunID, running.RunID, pending.ID}
	for _, id := range keptRuns {
		if !exists(t, st, "runs", "id", id) || !exists(t, st, "jobs", "run_id", id) || !exists(t, st, "scheduled_runs", "run_id", id) {
			t.Errorf("run %d (recent or unfinished) not whole", id)
		}
	}
	if !exists(t, st, "job_attempts", "job_id", recent.ID) || !exists(t, st, "artifacts", "job_id", recent.ID) ||
		!exists(t, st, "llm_calls", "job_id", recent.ID) {
		t.Error("parts of the recent run pruned")
	}
	for _, id := range []int64{recent.RunID, running.RunID, pending.ID} {
		if countInt(t, st, `SELECT count(*) FROM schedules WHERE name = ?`, launchName(id)) != 1 {
			t.Errorf("launch schedule of kept run %d pruned", id)
		}
	}
	if !exists(t, st, "schedules", "id", reused.ID) {
		t.Error("the launch schedule of a kept run-now was pruned with its old run")
	}
	for _, sc := range []int64{kept.ID, gone.ID, once.ID} {
		if !exists(t, st, "schedules", "id", sc) {
			t.Errorf("schedule %d people made was pruned", sc)
		}
	}
}

// WaitMaintenanceLock gives up (without running its work) when another
// replica holds the lock longer than the wait, and runs once it is free.
func TestWaitMaintenanceLock(t *testing.T) {
	t.Parallel()
	st := testenv.NewStore(t)
	ctx := context.Background()
	held, release := make(chan struct{}), make(chan struct{})
	holder := make(chan error, 1)
	go func() {
		_, err := st.TryMaintenanceLock(ctx, "statistics", func(context.Context) error {
			close(held)
			<-release
			return nil
		})
		holder <- err
	}()
	<-held
	ran, err := st.WaitMaintenanceLock(ctx, "statistics", 50*time.Millisecond, func(context.Context) error {
		t.Error("ran while another held the lock")
		return nil
	})
	if ran || err != nil {
		t.Fatalf("wait on a held lock: ran %v, %v; want false, nil", ran, err)
	}
	close(release)
	if err := <-holder; err != nil {
		t.Fatal(err)
	}
	var calls int
	ran, err = st.WaitMaintenanceLock(ctx, "statistics", time.Minute, func(context.Context) error { calls++; return nil })
	if !ran || err != nil || calls != 1 {
		t.Fatalf("free lock: ran %v, %v, %d calls", ran, err, calls)
	}
}
