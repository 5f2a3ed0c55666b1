package store_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cyberbrain/cyberbrain/pkg/store"
	"github.com/cyberbrain/cyberbrain/pkg/testenv"
)

// limitedSchedule creates an enabled hourly noop schedule with the given
// limits (its own slot is in the future, so claims leave it alone).
func limitedSchedule(t *testing.T, st *store.Store, name string, maxPerJob, maxGlobal *int) *store.Schedule {
	t.Helper()
	every := 60
	sc, err := st.CreateSchedule(context.Background(), &store.ScheduleWrite{Schedule: store.Schedule{
		Name: name, Task: "noop", Enabled: true, ScheduleType: "interval", IntervalMinutes: &every,
		Timezone: "UTC", MaxPerJob: maxPerJob, MaxGlobal: maxGlobal}})
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

// fireSlots gives sc n runs whose jobs are ready at once: its past slot
// fires, and since a schedule's own slots no longer pile up behind a waiting
// run (the next ones are skipped), the other n-1 are run-nows, handed off as
// a replica's claim of sc does.
func fireSlots(t *testing.T, st *store.Store, sc *store.Schedule, n int) []int64 {
	t.Helper()
	ctx := context.Background()
	f := fire(t, st, sc, time.Now().UTC().Truncate(time.Hour).Add(-2*time.Hour))
	if f.Duplicate || f.JobID == 0 {
		t.Fatalf("slot did not fire: %+v", f)
	}
	jobs := []int64{f.JobID}
	for i := 1; i < n; i++ {
		runID, err := st.RunScheduleNow(ctx, sc.ID)
		if err != nil {
			t.Fatalf("run-now %d: %v", i, err)
		}
		jobs = append(jobs, int64(countInt(t, st, `SELECT id FROM jobs WHERE run_id = ?`, runID)))
	}
	if n > 1 {
		if c := claimAll(t, st, "fire-slots", 100); len(c.Handoffs) != n-1 || len(c.Started) != 0 {
			t.Fatalf("claim handed off %d run-nows and started %d, want %d and 0", len(c.Handoffs), len(c.Started), n-1)
		}
	}
	return jobs
}

func intp(n int) *int { return &n }

func countInt(t testing.TB, st *store.Store, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := testenv.SQL(t, st).Raw(sql, args...).Scan(&n).Error; err != nil {
		t.Error(err)
	}
	return n
}

// raceStarts runs two replicas, each on its own store handle, that start
// jobs (up to 2 per pass) and finish the jobs of their previous pass, until
// total jobs completed. concerned says whether a started job counts toward
// the limit; running counts the limited jobs running in the database. The
// jobs a replica holds are a lower bound of what runs, so neither may ever
// exceed limit.
func raceStarts(t *testing.T, st *store.Store, total, limit int, concerned func(store.StartedJob) bool, running func() int) {
	t.Helper()
	st2 := secondHandle(t, st)
	var (
		mu      sync.Mutex
		held    int
		maxHeld int
		done    atomic.Int64
		starts  sync.Map
		wg      sync.WaitGroup
	)
	for i, s := range []*store.Store{st, st2} {
		wg.Add(1)
		go func(s *store.Store, claimant string) {
			defer wg.Done()
			var mine []store.StartedJob
			for iter := 0; done.Load() < int64(total); iter++ {
				if iter > 20000 {
					t.Errorf("%s: no progress after %d passes (%d of %d done)", claimant, iter, done.Load(), total)
					return
				}
				started, err := tryStartJobs(s, claimant, 2)
				if err != nil {
					t.Error(err)
					return
				}
				n := 0
				for _, j := range started {
					if _, dup := starts.LoadOrStore(j.ID, claimant); dup {
						t.Errorf("job %d started twice", j.ID)
					}
					if concerned(j) {
						n++
					}
				}
				mu.Lock()
				held += n
				if held > maxHeld {
					maxHeld = held
				}
				mu.Unlock()
				if r := running(); r > limit {
					t.Errorf("%d limited jobs running, limit %d", r, limit)
				}
				// Finish what this replica started in its previous pass.
				if len(mine) > 0 {
					n := 0
					fs := make([]store.Finish, len(mine))
					for i, j := range mine {
						fs[i] = completed(j)
						if concerned(j) {
							n++
						}
					}
					mu.Lock()
					held -= n
					mu.Unlock()
					res, err := s.FinishJobs(context.Background(), claimant, fs)
					if err != nil {
						t.Error(err)
						return
					}
					if len(res.Accepted) != len(fs) {
						t.Errorf("%s: %d of %d finishes accepted", claimant, len(res.Accepted), len(fs))
					}
					done.Add(int64(len(res.Accepted)))
				}
				mine = started
			}
			if len(mine) > 0 {
				t.Errorf("%s ends holding %d jobs", claimant, len(mine))
			}
		}(s, fmt.Sprintf("replica-%d", i))
	}
	wg.Wait()
	if maxHeld > limit {
		t.Errorf("up to %d limited jobs held at once, limit %d", maxHeld, limit)
	}
	if maxHeld < limit {
		t.Errorf("at most %d limited jobs ran at once: the limit %d was never reached", maxHeld, limit)
	}
	if n := countInt(t, st, `SELECT count(*) FROM jobs WHERE status = 'completed' AND attempt = 1`); n != total {
		t.Errorf("%d jobs completed on their first attempt, want %d", n, total)
	}
}

// Two replicas starting jobs at once never run more jobs of a task than its
// max_concurrent (docs/DESIGN.md §7).
func TestTaskMaxConcurrentHoldsAcrossReplicas(t *testing.T) {
	t.Parallel()
	st := noopStore(t)
	mustExec(t, st, `UPDATE task_definitions SET max_concurrent = 2 WHERE key = 'noop'`)
	const n = 12
	for i := 0; i < n; i++ {
		launchRun(t, st, "noop")
	}
	claimAndHandOff(t, st, "a", n)
	raceStarts(t, st, n, 2, func(j store.StartedJob) bool { return j.TaskType == "noop" },
		func() int {
			return countInt(t, st, `SELECT count(*) FROM jobs WHERE status = 'running' AND task_type = 'noop'`)
		})
}

// A host's capabilities.max_concurrency caps the jobs running on it across
// replicas.
func TestHostMaxConcurrencyHoldsAcrossReplicas(t *testing.T) {
	t.Parallel()
	st := noopStore(t)
	mustExec(t, st, `UPDATE worker_hosts SET capabilities = '{"max_concurrency": 2}' WHERE name = 'local'`)
	const n = 12
	for i := 0; i < n; i++ {
		launchRun(t, st, "service_map")
	}
	claimAndHandOff(t, st, "a", n)
	raceStarts(t, st, n, 2, func(j store.StartedJob) bool { return j.WorkerHostID != nil },
		func() int {
			return countInt(t, st, `SELECT count(*) FROM jobs j JOIN worker_hosts h ON h.id = j.worker_host_id
				WHERE j.status = 'running' AND h.name = 'local'`)
		})
}

// A schedule's max_per_job caps the running jobs of its task across
// replicas.
func TestScheduleMaxPerJobHoldsAcrossReplicas(t *testing.T) {
	t.Parallel()
	st := noopStore(t)
	sc := limitedSchedule(t, st, "per-job", intp(2), nil)
	const n = 12
	fireSlots(t, st, sc, n)
	raceStarts(t, st, n, 2, func(j store.StartedJob) bool { return j.TaskType == "noop" },
		func() int {
			return countInt(t, st, `SELECT count(*) FROM jobs WHERE status = 'running' AND task_type = 'noop'`)
		})
}

// A schedule's max_global caps its running runs across replicas.
func TestScheduleMaxGlobalHoldsAcrossReplicas(t *testing.T) {
	t.Parallel()
	st := noopStore(t)
	sc := limitedSchedule(t, st, "global", nil, intp(2))
	const n = 12
	fireSlots(t, st, sc, n)
	raceStarts(t, st, n, 2, func(j store.StartedJob) bool { return j.ScheduleID != nil && *j.ScheduleID == sc.ID },
		func() int {
			return countInt(t, st, `SELECT count(DISTINCT run_id) FROM jobs WHERE status = 'running' AND schedule_id = ?`, sc.ID)
		})
}

// Ready jobs start in FIFO order of (available_at, id); jobs not handed off
// or waiting for a retry delay do not start.
func TestFreeStartsAreFIFO(t *testing.T) {
	t.Parallel()
	st := noopStore(t)
	var jobs []int64
	for i := 0; i < 5; i++ {
		jobs = append(jobs, launchRun(t, st, "noop").Jobs[0].ID)
	}
	claimAndHandOff(t, st, "a", 10)
	notHanded := launchRun(t, st, "noop").Jobs[0].ID
	// Later jobs became ready earlier: FIFO is by available_at, not id.
	for i, id := range jobs {
		mustExec(t, st, `UPDATE jobs SET available_at = now() - make_interval(secs => ?) WHERE id = ?`, 10*(i+1), id)
	}
	mustExec(t, st, `UPDATE jobs SET available_at = now() + interval '1 hour' WHERE id = ?`, jobs[0])
	// The batch comes back in id order; which jobs it holds is FIFO.
	first := startJobs(t, st, "a", 2)
	if got := ids(first); len(got) != 2 || got[0] != jobs[3] || got[1] != jobs[4] {
		t.Fatalf("first starts %v, want %v", got, []int64{jobs[4], jobs[3]})
	}
	second := startJobs(t, st, "a", 10)
	if got := ids(second); len(got) != 2 || got[0] != jobs[1] || got[1] != jobs[2] {
		t.Fatalf("second starts %v, want %v (not the deferred %d nor the unhanded %d)", got, []int64{jobs[2], jobs[1]}, jobs[0], notHanded)
	}
	for _, id := range []int64{jobs[0], notHanded} {
		if g := getJob(t, st, id); g.Status != "pending" || g.Attempt != 0 {
			t.Errorf("job %d: %s attempt %d, want pending and never started", id, g.Status, g.Attempt)
		}
	}
}

// The free path never starts a job a limit concerns; the limited path starts
// it within the limit.
func TestFreeStartsLeaveLimitedJobsAlone(t *testing.T) {
	t.Parallel()
	st := noopStore(t)
	ctx := context.Background()
	mustExec(t, st, `UPDATE task_definitions SET max_concurrent = 1 WHERE key = 'noop'`)
	noop1 := launchRun(t, st, "noop").Jobs[0].ID
	noop2 := launchRun(t, st, "noop").Jobs[0].ID
	sm := launchRun(t, st, "service_map").Jobs[0].ID
	claimAndHandOff(t, st, "a", 10)
	l, err := st.LoadLimits(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !l.Tasks["noop"] || l.Tasks["service_map"] || len(l.Hosts) != 0 || len(l.Schedules) != 0 {
		t.Fatalf("limits = %+v, want noop only", l)
	}
	free, err := st.StartFreeJobs(ctx, "a", leaseTTL, 10, l)
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(free); len(got) != 1 || got[0] != sm {
		t.Fatalf("free starts %v, want only service_map job %d", got, sm)
	}
	lim, err := st.StartLimitedJobs(ctx, "a", leaseTTL, 10, l)
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(lim); len(got) != 1 || got[0] != noop1 {
		t.Fatalf("limited starts %v, want only the oldest noop job %d", got, noop1)
	}
	if again, _ := st.StartLimitedJobs(ctx, "a", leaseTTL, 10, l); len(again) != 0 {
		t.Fatalf("second noop job started over max_concurrent 1: %v", ids(again))
	}
	finish(t, st, "a", completed(lim[0]))
	if next, _ := st.StartLimitedJobs(ctx, "a", leaseTTL, 10, l); len(ids(next)) != 1 || next[0].ID != noop2 {
		t.Fatalf("after a finish: started %v, want %d", ids(next), noop2)
	}
}

// A job a full limit blocks keeps its place in the FIFO while later jobs
// with room start past it; it starts first once capacity frees.
func TestBlockedJobKeepsItsPlace(t *testing.T) {
	t.Parallel()
	st := noopStore(t)
	mustExec(t, st, `UPDATE worker_hosts SET capabilities = '{"max_concurrency": 1}' WHERE name = 'local'`)
	mustExec(t, st, `UPDATE task_definitions SET max_concurrent = 5 WHERE key = 'noop'`)
	s1 := launchRun(t, st, "service_map").Jobs[0].ID
	s2 := launchRun(t, st, "service_map").Jobs[0].ID
	n1 := launchRun(t, st, "noop").Jobs[0].ID
	claimAndHandOff(t, st, "a", 10)
	first := startJobs(t, st, "a", 1)
	if got := ids(first); len(got) != 1 || got[0] != s1 {
		t.Fatalf("first start %v, want %d", got, s1)
	}
	s3 := launchRun(t, st, "service_map").Jobs[0].ID
	claimAndHandOff(t, st, "a", 10)
	second := startJobs(t, st, "a", 10)
	if got := ids(second); len(got) != 1 || got[0] != n1 {
		t.Fatalf("starts while the host is full: %v, want only noop job %d", got, n1)
	}
	finish(t, st, "a", completed(first[0]))
	third := startJobs(t, st, "a", 10)
	if got := ids(third); len(got) != 1 || got[0] != s2 {
		t.Fatalf("starts after the host freed: %v, want the older %d, not %d", got, s2, s3)
	}
}

// max_per_job counts every running job of the schedule's task, launched ones
// included; launched jobs themselves are not held by it.
func TestMaxPerJobCountsEveryJobOfTheTask(t *testing.T) {
	t.Parallel()
	st := noopStore(t)
	sc := limitedSchedule(t, st, "per-job", intp(2), nil)
	for i := 0; i < 3; i++ {
		launchRun(t, st, "noop")
	}
	claimAndHandOff(t, st, "a", 10)
	launched := startJobs(t, st, "a", 10)
	if len(launched) != 3 {
		t.Fatalf("launched noop jobs started %d, want 3 (max_per_job limits only the schedule's jobs)", len(launched))
	}
	scheduled := fireSlots(t, st, sc, 2)
	if s := startJobs(t, st, "a", 10); len(s) != 0 {
		t.Fatalf("schedule jobs started while 3 noop jobs run, max_per_job 2: %v", ids(s))
	}
	finish(t, st, "a", completed(launched[0]))
	if s := startJobs(t, st, "a", 10); len(s) != 0 {
		t.Fatalf("schedule jobs started while 2 noop jobs run, max_per_job 2: %v", ids(s))
	}
	finish(t, st, "a", completed(launched[1]))
	s := startJobs(t, st, "a", 10)
	if got := ids(s); len(got) != 1 || got[0] != scheduled[0] {
		t.Fatalf("started %v, want the older schedule job %d only", got, scheduled[0])
	}
}

// max_global counts the running runs of that schedule only.
func TestMaxGlobalCountsOnlyItsSchedule(t *testing.T) {
	t.Parallel()
	st := noopStore(t)
	limited := limitedSchedule(t, st, "limited", nil, intp(1))
	free := limitedSchedule(t, st, "free", nil, nil)
	fj := fireSlots(t, st, free, 2)
	lj := fireSlots(t, st, limited, 2)
	s := startJobs(t, st, "a", 10)
	started := map[int64]bool{}
	for _, id := range ids(s) {
		started[id] = true
	}
	if len(s) != 3 || !started[fj[0]] || !started[fj[1]] || !started[lj[0]] || started[lj[1]] {
		t.Fatalf("started %v, want both free jobs %v and the first limited %d", ids(s), fj, lj[0])
	}
}

// Lowering a limit stops no running job; new starts wait until the running
// count is below it.
func TestLoweredLimitStopsNothingAndHoldsNewStarts(t *testing.T) {
	t.Parallel()
	st := noopStore(t)
	for i := 0; i < 5; i++ {
		launchRun(t, st, "noop")
	}
	claimAndHandOff(t, st, "a", 10)
	running := startJobs(t, st, "a", 3)
	mustExec(t, st, `UPDATE task_definitions SET max_concurrent = 2 WHERE key = 'noop'`)
	if s := startJobs(t, st, "a", 10); len(s) != 0 {
		t.Fatalf("started %v with 3 running over a limit of 2", ids(s))
	}
	if n := countInt(t, st, `SELECT count(*) FROM jobs WHERE status = 'running'`); n != 3 {
		t.Fatalf("%d running, want the 3 started before the limit", n)
	}
	finish(t, st, "a", completed(running[0]))
	if s := startJobs(t, st, "a", 10); len(s) != 0 {
		t.Fatalf("started %v with 2 running at a limit of 2", ids(s))
	}
	finish(t, st, "a", completed(running[1]))
	if s := startJobs(t, st, "a", 10); len(s) != 1 {
		t.Fatalf("started %d with 1 running at a limit of 2, want 1", len(s))
	}
}
