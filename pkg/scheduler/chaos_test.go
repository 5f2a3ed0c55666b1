package scheduler_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/cyberbrain/cyberbrain/pkg/scheduler"
	"github.com/cyberbrain/cyberbrain/pkg/store"
	"github.com/cyberbrain/cyberbrain/pkg/tasks"
	"github.com/cyberbrain/cyberbrain/pkg/testenv"
)

// The chaos drill of SPEC §11 at test scale: four replicas, each with its own
// connection pool, drain a stream of noop runs while one replica at a time is
// killed (SIGKILL: replaced by a fresh one under a new claimant name) or
// paused for longer than its lease (SIGSTOP / cut connection), then resumed.
// Afterwards the database must show every run terminal, every attempt
// recorded and ended, no two attempts of a job overlapping, and the tasks
// themselves must never have run one job twice at once — except for the one
// overlap the design allows (see chaosTracker.check).
func TestChaosKillAndPauseReplicas(t *testing.T) {
	t.Parallel()
	const (
		runs       = 360
		launchFor  = 9 * time.Second // runs are launched as a stream over this long
		ttl        = time.Second
		everyMin   = 250 * time.Millisecond
		everyMax   = 550 * time.Millisecond
		pauseFor   = 1500 * time.Millisecond // > ttl: the lease expires under the paused replica
		replicas   = 4
		maxAttempt = 10
	)
	url := testenv.NewDatabaseURL(t)
	st, err := store.Open(context.Background(), url, store.Options{MaxConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.DB.Exec(`UPDATE task_definitions SET enabled = true, max_attempts = ?, default_config = '{"sleep_ms": 40}'
		WHERE key = 'noop'`, maxAttempt).Error; err != nil {
		t.Fatal(err)
	}

	h := newChaos(t, url, ttl)
	for i := 0; i < replicas; i++ {
		h.start()
	}

	// Launch a stream of runs; every tenth job runs longer than a pause (and
	// so the lease), so its lease must be renewed by heartbeats while chaos
	// strikes, and a paused replica still runs it when it resumes.
	launched := make(chan error, 1)
	go func() {
		launched <- func() error {
			every := launchFor / runs
			for i := 0; i < runs; i++ {
				d, err := st.Launch(context.Background(), store.LaunchRequest{Tasks: []string{"noop"}})
				if err != nil {
					return err
				}
				if i%10 == 0 {
					if err := st.DB.Exec(`UPDATE jobs SET config = '{"sleep_ms": 3000}' WHERE run_id = ? AND status = 'pending'`, d.ID).Error; err != nil {
						return err
					}
				}
				time.Sleep(every)
			}
			return nil
		}()
	}()

	// The chaos loop: runs until the launches are done. Once, half-way, every
	// replica is paused together (the database cut off from all of them): on
	// resuming, a replica may then re-claim a job whose stale execution it
	// still runs.
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	var pauses sync.WaitGroup
	t.Cleanup(pauses.Wait)
	var launchErr error
	begin, pausedAll := time.Now(), false
chaos:
	for {
		select {
		case launchErr = <-launched:
			break chaos
		case <-time.After(everyMin + time.Duration(rng.Int64N(int64(everyMax-everyMin)))):
		}
		if !pausedAll && time.Since(begin) > launchFor/2 {
			pausedAll = true
			for _, r := range h.unpaused(false) {
				h.pause(r, pauseFor, &pauses)
			}
			continue
		}
		victim := h.pick(rng)
		if victim == nil {
			continue
		}
		if rng.IntN(2) == 0 {
			h.kill(victim)
			h.start()
		} else {
			h.pause(victim, pauseFor, &pauses)
		}
	}
	if launchErr != nil {
		t.Fatalf("launch: %v", launchErr)
	}
	pauses.Wait() // every paused replica is resumed

	eventually(t, 60*time.Second, "every run terminal", func() bool {
		return countWhere(t, st, "runs WHERE status NOT IN ('completed', 'failed')") == 0
	})
	kills, paused := h.kills.Load(), h.pauses.Load()
	lost := countWhere(t, st, "job_attempts WHERE outcome = 'lost'")
	t.Logf("chaos: %d runs, %d kills, %d pauses, %d attempts lost, %d runs failed",
		runs, kills, paused, lost, countWhere(t, st, "runs WHERE status = 'failed'"))
	if kills == 0 || paused == 0 || lost == 0 {
		t.Fatalf("the chaos did not bite: %d kills, %d pauses, %d lost attempts", kills, paused, lost)
	}
	checkChaosInvariants(t, st, runs, maxAttempt)
	h.tracker.check(t, h, ttl)
}

// checkChaosInvariants asserts, from the database, what SPEC §6 promises
// after replicas died or were paused (scripts/bench's chaos mode runs the
// same checks at scale).
func checkChaosInvariants(t *testing.T, st *store.Store, runs, maxAttempts int) {
	t.Helper()
	q := func(what, sql string) {
		t.Helper()
		var bad []string
		if err := st.DB.Raw(sql).Scan(&bad).Error; err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if len(bad) > 0 {
			if len(bad) > 10 {
				bad = append(bad[:10], fmt.Sprintf("… and %d more", len(bad)-10))
			}
			t.Errorf("%s:\n  %s", what, strings.Join(bad, "\n  "))
		}
	}
	if n := countWhere(t, st, "runs"); n != runs {
		t.Errorf("runs = %d, want %d", n, runs)
	}
	q("every run is terminal, one job each, consistent with it", `
		SELECT format('run %s is %s, its job %s is %s', r.id, r.status, j.id, j.status)
		FROM runs r LEFT JOIN jobs j ON j.run_id = r.id
		WHERE r.status NOT IN ('completed', 'failed') OR j.id IS NULL OR j.status <> r.status
		   OR r.completed_at IS NULL OR r.started_at IS NULL`)
	q("terminal jobs hold no lease", `
		SELECT format('job %s: claimed_by %L until %s', id, claimed_by, claimed_until) FROM jobs
		WHERE claimed_by <> '' OR claimed_until IS NOT NULL OR completed_at IS NULL`)
	q("a job fails only when out of attempts, naming the lost claimant", fmt.Sprintf(`
		SELECT format('job %%s failed at attempt %%s/%%s: %%s', j.id, j.attempt, j.max_attempts, j.error_message)
		FROM jobs j JOIN job_attempts a ON a.job_id = j.id AND a.attempt = j.attempt
		WHERE j.status = 'failed' AND (j.attempt < j.max_attempts OR j.max_attempts <> %d
		   OR a.outcome <> 'lost' OR position(a.claimant IN j.error_message) = 0)`, maxAttempts))
	q("attempts are numbered 1..n without gaps, n = jobs.attempt", `
		SELECT format('job %s: attempt %s, attempts recorded %s', j.id, j.attempt, array_agg(a.attempt ORDER BY a.attempt))
		FROM jobs j LEFT JOIN job_attempts a ON a.job_id = j.id
		GROUP BY j.id, j.attempt
		HAVING count(a.*) <> j.attempt OR coalesce(min(a.attempt), 0) <> 1 OR coalesce(max(a.attempt), 0) <> j.attempt`)
	q("every attempt ended with an outcome", `
		SELECT format('job %s attempt %s: outcome %s, %s..%s', job_id, attempt, outcome, started_at, ended_at)
		FROM job_attempts WHERE outcome = 'running' OR ended_at IS NULL OR ended_at < started_at`)
	q("the last attempt's outcome is the job's; earlier attempts were lost, naming their claimant", `
		SELECT format('job %s (%s) attempt %s/%s by %s: %s %L', j.id, j.status, a.attempt, j.attempt, a.claimant, a.outcome, a.error)
		FROM jobs j JOIN job_attempts a ON a.job_id = j.id
		WHERE (a.attempt = j.attempt AND NOT (a.outcome = j.status OR j.status = 'failed' AND a.outcome = 'lost'))
		   OR (a.attempt < j.attempt AND a.outcome <> 'lost')
		   OR (a.outcome = 'lost' AND position(a.claimant IN a.error) = 0)`)
	q("no two attempts of a job overlap in time", `
		SELECT format('job %s: attempt %s (%s, %s..%s) overlaps attempt %s (%s, %s..%s)', a.job_id,
		       a.attempt, a.claimant, a.started_at, a.ended_at, b.attempt, b.claimant, b.started_at, b.ended_at)
		FROM job_attempts a JOIN job_attempts b ON b.job_id = a.job_id AND b.attempt > a.attempt
		WHERE b.started_at < a.ended_at`)
	q("each ScheduledRun ended with its job", `
		SELECT format('scheduled run %s (%s) of job %s (%s)', sr.id, sr.status, j.id, j.status)
		FROM jobs j LEFT JOIN scheduled_runs sr ON sr.job_id = j.id
		WHERE sr.id IS NULL OR sr.finished_at IS NULL OR sr.started_at IS NULL
		   OR sr.status <> CASE j.status WHEN 'completed' THEN 'finished' ELSE j.status END`)
	q("no schedule left due or claimed", `
		SELECT format('schedule %s: due %s, claimed by %L', id, due_at, claimed_by) FROM schedules
		WHERE due_at IS NOT NULL OR claimed_by <> '' OR enabled`)
}

// chaos holds the replicas of a drill.
type chaos struct {
	t       *testing.T
	url     string
	ttl     time.Duration
	tracker *chaosTracker
	logs    *observer.ObservedLogs // warnings and errors of every replica, shown on failure
	core    zapcore.Core

	mu     sync.Mutex
	live   []*chaosReplica
	serial int

	kills, pauses atomic.Int64
}

type chaosReplica struct {
	*scheduler.Scheduler
	name   string
	st     *store.Store
	cancel context.CancelFunc
	done   chan struct{}

	mu       sync.Mutex
	paused   bool
	pausedAt []pauseSpan // every pause, for the tracker's check
}

type pauseSpan struct{ from, to time.Time } // to is zero while paused

func newChaos(t *testing.T, url string, ttl time.Duration) *chaos {
	core, logs := observer.New(zap.WarnLevel)
	return &chaos{t: t, url: url, ttl: ttl, tracker: &chaosTracker{}, core: core, logs: logs}
}

// start runs a fresh replica with its own connection pool (a separate
// process would have one) under a new claimant name.
func (h *chaos) start() *chaosReplica {
	t := h.t
	h.mu.Lock()
	h.serial++
	name := fmt.Sprintf("chaos-%d", h.serial)
	h.mu.Unlock()
	st, err := store.Open(context.Background(), h.url, store.Options{MaxConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	r := &chaosReplica{name: name, st: st, done: make(chan struct{})}
	s, err := scheduler.New(scheduler.Config{
		Store:           st,
		Logger:          zap.New(h.core), // hundreds of runs: only warnings and errors, shown on failure
		Tasks:           tasks.Registry{"noop": h.tracker.task(r, tasks.Noop())},
		Claimant:        name,
		Interval:        30 * time.Second, // NOTIFY and next-due wake-ups (lease expiry included) do the work
		MaxClaim:        50,
		ClaimTTL:        h.ttl,
		MaxConcurrent:   10,
		ShutdownTimeout: 5 * time.Second,
		RetryBackoff:    func(int) time.Duration { return 20 * time.Millisecond },
	})
	if err != nil {
		t.Fatal(err)
	}
	r.Scheduler = s
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	go func() {
		defer close(r.done)
		_ = s.Run(ctx)
	}()
	t.Cleanup(func() { // killed, paused or live: stop it and close its pool
		r.Pause(false)
		cancel()
		select {
		case <-r.done:
		case <-time.After(20 * time.Second):
			t.Errorf("replica %s did not stop", name)
		}
		st.Close()
	})
	h.mu.Lock()
	h.live = append(h.live, r)
	h.mu.Unlock()
	return r
}

// unpaused returns the live replicas not paused now; settled ones only when
// they resumed at least a lease ago (so they heartbeat between two pauses).
func (h *chaos) unpaused(settled bool) []*chaosReplica {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []*chaosReplica
	for _, r := range h.live {
		r.mu.Lock()
		n := len(r.pausedAt)
		if !r.paused && (!settled || n == 0 || time.Since(r.pausedAt[n-1].to) > h.ttl) {
			out = append(out, r)
		}
		r.mu.Unlock()
	}
	return out
}

// pick chooses a live, unpaused replica, preferably one executing jobs so
// the kill or pause lands mid-task.
func (h *chaos) pick(rng *rand.Rand) *chaosReplica {
	var busy, idle []*chaosReplica
	for _, r := range h.unpaused(true) {
		if r.Running() > 0 {
			busy = append(busy, r)
		} else {
			idle = append(idle, r)
		}
	}
	if len(busy) > 0 {
		return busy[rng.IntN(len(busy))]
	}
	if len(idle) > 0 {
		return idle[rng.IntN(len(idle))]
	}
	return nil
}

// kill simulates SIGKILL: the replica stops at once and writes nothing more;
// its leases are left to expire.
func (h *chaos) kill(r *chaosReplica) {
	h.mu.Lock()
	for i, x := range h.live {
		if x == r {
			h.live = append(h.live[:i], h.live[i+1:]...)
			break
		}
	}
	h.mu.Unlock()
	r.Kill()
	h.kills.Add(1)
}

// pause simulates SIGSTOP for d (longer than the lease), then resumes.
func (h *chaos) pause(r *chaosReplica, d time.Duration, wg *sync.WaitGroup) {
	r.mu.Lock()
	r.paused = true
	r.pausedAt = append(r.pausedAt, pauseSpan{from: time.Now()})
	r.mu.Unlock()
	r.Pause(true)
	h.pauses.Add(1)
	wg.Add(1)
	go func() {
		defer wg.Done()
		time.Sleep(d)
		r.Pause(false)
		r.mu.Lock()
		r.paused = false
		r.pausedAt[len(r.pausedAt)-1].to = time.Now()
		r.mu.Unlock()
	}()
}

// chaosTracker records every task execution (which replica, when).
type chaosTracker struct {
	mu    sync.Mutex
	execs []chaosExec
}

type chaosExec struct {
	job        int64
	attempt    int
	replica    *chaosReplica
	start, end time.Time
}

func (tr *chaosTracker) task(r *chaosReplica, inner tasks.Task) tasks.Task {
	return tasks.TaskFunc(func(ctx context.Context, env tasks.Env) (*tasks.Result, error) {
		start := time.Now()
		defer func() {
			end := time.Now()
			tr.mu.Lock()
			tr.execs = append(tr.execs, chaosExec{job: env.Job.ID, attempt: env.Job.Attempt, replica: r, start: start, end: end})
			tr.mu.Unlock()
		}()
		return inner.Run(ctx, env)
	})
}

// check asserts that no job was executed twice at once, with one exception.
//
// A paused replica is not a stopped process here: Pause freezes its dealings
// with the database, but its tasks keep running (as they would behind a cut
// connection or a long stall of the heartbeat goroutine). SPEC §6 only asks
// such a replica to notice the lost lease on its next heartbeat after it
// comes back, stop the task and write nothing. Meanwhile its lease expires
// and another replica rightly re-executes the job, so the paused replica's
// (now fenced, result-less) execution may overlap the new one. That overlap
// is allowed only when it is explained: execution x ran on a replica that
// was paused during [from, to] overlapping x, the overlapping execution y
// started no earlier than from + ttl/2 — after x's heartbeats had stopped
// long enough for its lease to expire (a lease renewed just before the pause
// runs until from + ttl; ttl/2 leaves room for the rescue and the clocks) —
// and x ended by to + ttl: its replica's first heartbeat after resuming
// (within ttl/3) noticed the loss and stopped it. Any other overlap — between
// executions on replicas that were not paused, one starting right away, or a
// stale execution left running after its replica resumed — is a double
// execution and fails the test.
// Killed replicas get no exception: Kill cancels their tasks at once, long
// before their leases expire.
func (tr *chaosTracker) check(t *testing.T, h *chaos, ttl time.Duration) {
	t.Helper()
	tr.mu.Lock()
	defer tr.mu.Unlock()
	byJob := map[int64][]chaosExec{}
	for _, e := range tr.execs {
		byJob[e.job] = append(byJob[e.job], e)
	}
	explained, bad := 0, 0
	for job, es := range byJob {
		sort.Slice(es, func(i, j int) bool { return es[i].start.Before(es[j].start) })
		for i := range es {
			for j := i + 1; j < len(es) && es[j].start.Before(es[i].end); j++ {
				x, y := es[i], es[j]
				if stalled(x, y, ttl) || stalled(y, x, ttl) {
					explained++
					continue
				}
				bad++
				if bad <= 10 {
					t.Errorf("job %d executed twice at once: attempt %d on %s (ran %s, pauses %s) and attempt %d on %s (started at +%s)%s",
						job, x.attempt, x.replica.name, x.end.Sub(x.start).Round(time.Millisecond), x.replica.spans(x.start),
						y.attempt, y.replica.name, y.start.Sub(x.start).Round(time.Millisecond), h.logsAbout(job, x.replica.name, x.start))
				}
			}
		}
	}
	t.Logf("tracker: %d task executions of %d jobs; %d overlaps explained by a paused replica's stale task, %d double executions",
		len(tr.execs), len(byJob), explained, bad)
}

// spans renders the replica's pauses relative to t0.
func (r *chaosReplica) spans(t0 time.Time) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var b strings.Builder
	for _, p := range r.pausedAt {
		fmt.Fprintf(&b, "[%s..", p.from.Sub(t0).Round(time.Millisecond))
		if !p.to.IsZero() {
			fmt.Fprintf(&b, "%s", p.to.Sub(t0).Round(time.Millisecond))
		}
		b.WriteString("]")
	}
	return b.String()
}

// logsAbout returns the recorded log lines about a job or from a replica
// (errors only) since t0.
func (h *chaos) logsAbout(job int64, replica string, t0 time.Time) string {
	var b strings.Builder
	for _, e := range h.logs.All() {
		if e.Time.Before(t0.Add(-time.Second)) {
			continue
		}
		fields := e.ContextMap()
		if id, ok := fields["job_id"].(int64); (ok && id == job) || fields["claimant"] == replica && e.Level >= zap.ErrorLevel {
			fmt.Fprintf(&b, "\n      +%s %s %s %v", e.Time.Sub(t0).Round(time.Millisecond), e.Level, e.Message, fields)
		}
	}
	return b.String()
}

// stalled reports whether x's replica was paused during x long enough before
// y started for x's lease to have expired, and x stopped soon after resuming.
// Pauses closer together than ttl/2 (the replica may not have heartbeated in
// between: the all-replica pause can follow a single one) count as one.
func stalled(x, y chaosExec, ttl time.Duration) bool {
	r := x.replica
	r.mu.Lock()
	var spans []pauseSpan
	for _, p := range r.pausedAt {
		if p.to.IsZero() {
			p.to = time.Now()
		}
		if n := len(spans); n > 0 && p.from.Sub(spans[n-1].to) < ttl/2 {
			spans[n-1].to = p.to
			continue
		}
		spans = append(spans, p)
	}
	r.mu.Unlock()
	for _, p := range spans {
		if p.from.Before(x.end) && p.to.After(x.start) && !y.start.Before(p.from.Add(ttl/2)) && !x.end.After(p.to.Add(ttl)) {
			return true
		}
	}
	return false
}
