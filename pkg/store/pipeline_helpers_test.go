package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/cyberbrain/cyberbrain/pkg/store"
	"github.com/cyberbrain/cyberbrain/pkg/testenv"
)

// leaseTTL is the job and schedule lease the tests take: long enough that no
// lease expires by itself while a test runs; tests expire leases by SQL.
const leaseTTL = 2 * time.Minute

// noopStore returns a fresh database with the noop task enabled (it is
// seeded disabled), as the scheduler tests do.
func noopStore(t *testing.T) *store.Store {
	t.Helper()
	st := testenv.NewStore(t)
	mustExec(t, st, `UPDATE task_definitions SET enabled = true WHERE key = 'noop'`)
	return st
}

// secondHandle opens another store on st's database: a second replica.
func secondHandle(t *testing.T, st *store.Store) *store.Store {
	t.Helper()
	st2, err := store.Open(context.Background(), st.URL(), store.Options{MaxConns: 8})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st2.Close() })
	return st2
}

func mustExec(t *testing.T, st *store.Store, sql string, args ...any) int64 {
	t.Helper()
	res := testenv.SQL(t, st).Exec(sql, args...)
	if res.Error != nil {
		t.Fatalf("%s: %v", sql, res.Error)
	}
	return res.RowsAffected
}

// launchRun launches one run of the given tasks (the API's path).
func launchRun(t *testing.T, st *store.Store, tasks ...string) *store.RunDetail {
	t.Helper()
	d, err := st.Launch(context.Background(), store.LaunchRequest{Tasks: tasks})
	if err != nil {
		t.Fatalf("launch %v: %v", tasks, err)
	}
	return d
}

// claimAndHandOff does a replica's claim step (store.ClaimDue) without
// starting anything: launches and run-nows are handed off, due slots leased.
// It returns the hand-offs.
func claimAndHandOff(t *testing.T, st *store.Store, claimant string, max int) []store.Handoff {
	t.Helper()
	return claimAll(t, st, claimant, max).Handoffs
}

// startJobs does a replica's start step: limited jobs first, then the rest.
func startJobs(t *testing.T, st *store.Store, claimant string, max int) []store.StartedJob {
	t.Helper()
	out, err := tryStartJobs(st, claimant, max)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func tryStartJobs(st *store.Store, claimant string, max int) ([]store.StartedJob, error) {
	ctx := context.Background()
	l, err := st.LoadLimits(ctx)
	if err != nil {
		return nil, err
	}
	var out []store.StartedJob
	if l.Any() {
		lim, err := st.StartLimitedJobs(ctx, claimant, leaseTTL, max, l)
		if err != nil {
			return nil, err
		}
		out = append(out, lim...)
	}
	if rest := max - len(out); rest > 0 {
		more, err := st.StartFreeJobs(ctx, claimant, leaseTTL, rest, l)
		if err != nil {
			return nil, err
		}
		out = append(out, more...)
	}
	return out, nil
}

// runningNoop launches a noop run, hands it off and starts its job as
// claimant: the job is running under claimant's lease, attempt 1.
func runningNoop(t *testing.T, st *store.Store, claimant string) store.StartedJob {
	t.Helper()
	d := launchRun(t, st, "noop")
	claimAndHandOff(t, st, claimant, 100)
	for _, j := range startJobs(t, st, claimant, 100) {
		if j.ID == d.Jobs[0].ID {
			return j
		}
	}
	t.Fatalf("job %d of run %d did not start", d.Jobs[0].ID, d.ID)
	return store.StartedJob{}
}

// expireLease moves a running job's lease into the past: its replica
// stopped heartbeating. Nobody has rescued it yet.
func expireLease(t *testing.T, st *store.Store, jobID int64) {
	t.Helper()
	if n := mustExec(t, st, `UPDATE jobs SET claimed_until = now() - interval '1 second' WHERE id = ?`, jobID); n != 1 {
		t.Fatalf("expire lease of job %d: %d rows", jobID, n)
	}
}

func getJob(t *testing.T, st *store.Store, id int64) store.Job {
	t.Helper()
	var j store.Job
	if err := testenv.SQL(t, st).Raw(`SELECT * FROM jobs WHERE id = ?`, id).Scan(&j).Error; err != nil {
		t.Fatal(err)
	}
	if j.ID == 0 {
		t.Fatalf("job %d not found", id)
	}
	return j
}

func getRun(t *testing.T, st *store.Store, id int64) store.Run {
	t.Helper()
	var r store.Run
	if err := testenv.SQL(t, st).Raw(`SELECT * FROM runs WHERE id = ?`, id).Scan(&r).Error; err != nil {
		t.Fatal(err)
	}
	if r.ID == 0 {
		t.Fatalf("run %d not found", id)
	}
	return r
}

func getAttempts(t *testing.T, st *store.Store, jobID int64) []store.JobAttempt {
	t.Helper()
	var out []store.JobAttempt
	if err := testenv.SQL(t, st).Raw(`SELECT * FROM job_attempts WHERE job_id = ? ORDER BY attempt`, jobID).Scan(&out).Error; err != nil {
		t.Fatal(err)
	}
	return out
}

func getScheduledRun(t *testing.T, st *store.Store, jobID int64) store.ScheduledRun {
	t.Helper()
	var sr store.ScheduledRun
	if err := testenv.SQL(t, st).Raw(`SELECT * FROM scheduled_runs WHERE job_id = ?`, jobID).Scan(&sr).Error; err != nil {
		t.Fatal(err)
	}
	if sr.ID == 0 {
		t.Fatalf("no ScheduledRun for job %d", jobID)
	}
	return sr
}

func dbNow(t *testing.T, st *store.Store) time.Time {
	t.Helper()
	now, err := st.Now(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return now
}

func finish(t *testing.T, st *store.Store, claimant string, fs ...store.Finish) *store.FinishResult {
	t.Helper()
	res, err := st.FinishJobs(context.Background(), claimant, fs)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func completed(j store.StartedJob) store.Finish {
	return store.Finish{JobID: j.ID, Attempt: j.Attempt, Outcome: store.FinishCompleted,
		Result: store.JSON(`{"summary": "all good"}`)}
}

func ids(jobs []store.StartedJob) []int64 {
	out := make([]int64, len(jobs))
	for i, j := range jobs {
		out[i] = j.ID
	}
	return out
}
