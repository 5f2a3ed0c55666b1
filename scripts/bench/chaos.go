package main

// The chaos drill (SPEC §11): replicas drain noop runs while one of them is
// killed (SIGKILL: it stops at once and writes nothing more; a fresh replica
// with a new claimant name replaces it) or paused for longer than its lease
// (SIGSTOP, a cut connection) and resumed, every few seconds; every tenth
// event pauses all of them at once (the database cut off). Afterwards the
// database and a task-level tracker must show every run terminal, every
// attempt recorded, no job executed twice at once. The same checks as
// pkg/scheduler's TestChaosKillAndPauseReplicas, at scale.

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cyberbrain/cyberbrain/pkg/scheduler"
	"github.com/cyberbrain/cyberbrain/pkg/store"
	"github.com/cyberbrain/cyberbrain/pkg/tasks"
)

type chaosOpts struct {
	runs, replicas, maxConcurrent, maxAttempts, longEvery int
	every, ttl, pause, sleep, long, timeout               time.Duration
}

func chaosMain(args []string) {
	fs := flag.NewFlagSet("chaos", flag.ExitOnError)
	dbURL := fs.String("database-url", envURL(), "admin connection URL (a bench database is created beside it)")
	var o chaosOpts
	fs.IntVar(&o.runs, "runs", 5000, "noop runs to drain")
	fs.IntVar(&o.replicas, "replicas", 4, "scheduler replicas (a killed one is replaced)")
	fs.DurationVar(&o.every, "every", 2*time.Second, "kill or pause one replica this often")
	fs.DurationVar(&o.ttl, "ttl", 2*time.Second, "job lease (the scheduler's --claim-ttl)")
	fs.DurationVar(&o.pause, "pause", 0, "how long a pause lasts (default 1.5 × ttl: the lease expires meanwhile)")
	fs.DurationVar(&o.sleep, "sleep", 500*time.Millisecond, "noop task duration, so kills land mid-task")
	fs.IntVar(&o.longEvery, "long-every", 20, "every nth job runs longer than a pause and its lease (0: none)")
	fs.IntVar(&o.maxConcurrent, "max-concurrent", 50, "jobs one replica executes at once")
	fs.IntVar(&o.maxAttempts, "max-attempts", 10, "noop's max_attempts")
	fs.DurationVar(&o.timeout, "timeout", 10*time.Minute, "give up waiting for every run to end after this long")
	fs.IntVar(&maxClaim, "max-claim", 100, "schedules per claim statement")
	_ = fs.Parse(args)
	if *dbURL == "" {
		fail(fmt.Errorf("set -database-url or DATABASE_URL"))
	}
	if o.pause <= 0 {
		o.pause = o.ttl * 3 / 2
	}
	o.long = o.pause + o.ttl/2 // still running when its paused replica resumes
	ok := false
	benchDB(*dbURL, func(st *store.Store) { ok = chaosDrill(st, o) })
	if !ok {
		os.Exit(1)
	}
}

func chaosDrill(st *store.Store, o chaosOpts) bool {
	ctx := context.Background()
	fmt.Printf("chaos: %d runs, %d replicas × %d jobs, lease %s, a kill or pause every %s (pause %s, every 10th event pauses all), noop %s (every %dth %s), max %d attempts\n",
		o.runs, o.replicas, o.maxConcurrent, o.ttl, o.every, o.pause, o.sleep, o.longEvery, o.long, o.maxAttempts)
	if err := st.DB.Exec(`UPDATE task_definitions SET max_attempts = ?, default_config = jsonb_build_object('sleep_ms', ?::int) WHERE key = 'noop'`,
		o.maxAttempts, o.sleep.Milliseconds()).Error; err != nil {
		fail(err)
	}
	t0 := time.Now()
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(o.runs) {
				if _, err := st.Launch(ctx, store.LaunchRequest{Tasks: []string{"noop"}}); err != nil {
					fail(err)
				}
			}
		}()
	}
	wg.Wait()
	if o.longEvery > 0 {
		if err := st.DB.Exec(`UPDATE jobs SET config = jsonb_build_object('sleep_ms', ?::int) WHERE id % ? = 0`, o.long.Milliseconds(), o.longEvery).Error; err != nil {
			fail(err)
		}
	}
	if err := st.DB.Exec(`ANALYZE`).Error; err != nil {
		fail(err)
	}
	fmt.Printf("launched %d runs in %s\n", o.runs, time.Since(t0).Round(time.Millisecond))

	d := &drill{url: st.URL(), o: o}
	start, err := st.Now(ctx)
	if err != nil {
		fail(err)
	}
	for i := 0; i < o.replicas; i++ {
		d.start()
	}
	// Chaos until every run has ended.
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 2))
	var pauses sync.WaitGroup
	tick := time.NewTicker(o.every)
	poll := time.NewTicker(250 * time.Millisecond)
	deadline := time.Now().Add(o.timeout)
	events, drained := 0, false
	for !drained && time.Now().Before(deadline) {
		select {
		case <-poll.C:
			var open int64
			if err := st.DB.Raw(`SELECT count(*) FROM runs WHERE status NOT IN ('completed', 'failed', 'cancelled')`).Scan(&open).Error; err != nil {
				fail(err)
			}
			drained = open == 0
		case <-tick.C:
			events++
			if events%10 == 0 {
				d.partitions.Add(1)
				for _, r := range d.unpaused(false) {
					d.pause(r, &pauses)
				}
				continue
			}
			r := d.pick(rng)
			switch {
			case r == nil:
			case rng.IntN(2) == 0:
				d.kill(r)
				d.start()
			default:
				d.pause(r, &pauses)
			}
		}
	}
	tick.Stop()
	poll.Stop()
	var last time.Time
	if err := st.DB.Raw(`SELECT coalesce(max(completed_at), now()) FROM runs`).Scan(&last).Error; err != nil {
		fail(err)
	}
	took := last.Sub(start)
	pauses.Wait()
	d.stopAll()

	var counts struct{ Completed, Failed, Lost, Attempts int }
	if err := st.DB.Raw(`SELECT (SELECT count(*) FROM runs WHERE status = 'completed') AS completed,
		(SELECT count(*) FROM runs WHERE status = 'failed') AS failed,
		(SELECT count(*) FROM job_attempts WHERE outcome = 'lost') AS lost,
		(SELECT count(*) FROM job_attempts) AS attempts`).Scan(&counts).Error; err != nil {
		fail(err)
	}
	fmt.Printf("drained in %s (%.0f runs/s): %d completed, %d failed (out of attempts)\n",
		took.Round(time.Millisecond), float64(o.runs)/took.Seconds(), counts.Completed, counts.Failed)
	explained, doubles := d.tracker.check(o.ttl)
	fmt.Printf("chaos: %d kills, %d pauses, %d partitions (all paused); %d attempts, %d lost; %d task executions, %d overlaps explained by a paused replica's stale task\n",
		d.kills.Load(), d.pauses.Load(), d.partitions.Load(), counts.Attempts, counts.Lost, len(d.tracker.execs), explained)

	ok := true
	report := func(name string, bad []string) {
		if len(bad) == 0 {
			fmt.Printf("PASS  %s\n", name)
			return
		}
		ok = false
		fmt.Printf("FAIL  %s (%d):\n", name, len(bad))
		for i, b := range bad {
			if i == 5 {
				fmt.Printf("        … and %d more\n", len(bad)-5)
				break
			}
			fmt.Printf("        %s\n", b)
		}
	}
	if !drained {
		report("every run ended within "+o.timeout.String(), []string{"gave up waiting"})
	}
	if d.kills.Load() == 0 || d.pauses.Load() == 0 || counts.Lost == 0 {
		report("the chaos bit (kills, pauses and lost attempts)", []string{fmt.Sprintf("%d kills, %d pauses, %d lost attempts", d.kills.Load(), d.pauses.Load(), counts.Lost)})
	}
	for _, c := range chaosChecks(o.maxAttempts) {
		var bad []string
		if err := st.DB.Raw(c.sql).Scan(&bad).Error; err != nil {
			fail(fmt.Errorf("%s: %w", c.name, err))
		}
		report(c.name, bad)
	}
	var runs int
	st.DB.Raw(`SELECT count(*) FROM runs`).Scan(&runs)
	if runs != o.runs {
		report("every launched run is there", []string{fmt.Sprintf("%d runs, want %d", runs, o.runs)})
	} else {
		report("every launched run is there", nil)
	}
	report("no job executed twice at once (task-level tracker)", doubles)
	return ok
}

type chaosCheck struct{ name, sql string }

// chaosChecks are the database invariants after the drill; each query lists
// the violations.
func chaosChecks(maxAttempts int) []chaosCheck {
	return []chaosCheck{
		{"every run terminal, consistent with its job", `
			SELECT format('run %s is %s, its job %s is %s', r.id, r.status, j.id, j.status)
			FROM runs r LEFT JOIN jobs j ON j.run_id = r.id
			WHERE r.status NOT IN ('completed', 'failed') OR j.id IS NULL OR j.status <> r.status
			   OR r.completed_at IS NULL OR r.started_at IS NULL`},
		{"terminal jobs hold no lease", `
			SELECT format('job %s: claimed_by %L until %s', id, claimed_by, claimed_until) FROM jobs
			WHERE claimed_by <> '' OR claimed_until IS NOT NULL OR completed_at IS NULL`},
		{"a job fails only when out of attempts, naming the lost claimant", fmt.Sprintf(`
			SELECT format('job %%s failed at attempt %%s/%%s: %%s', j.id, j.attempt, j.max_attempts, j.error_message)
			FROM jobs j JOIN job_attempts a ON a.job_id = j.id AND a.attempt = j.attempt
			WHERE j.status = 'failed' AND (j.attempt < j.max_attempts OR j.max_attempts <> %d
			   OR a.outcome <> 'lost' OR position(a.claimant IN j.error_message) = 0)`, maxAttempts)},
		{"attempts numbered 1..n without gaps, n = jobs.attempt", `
			SELECT format('job %s: attempt %s, attempts recorded %s', j.id, j.attempt, array_agg(a.attempt ORDER BY a.attempt))
			FROM jobs j LEFT JOIN job_attempts a ON a.job_id = j.id
			GROUP BY j.id, j.attempt
			HAVING count(a.*) <> j.attempt OR coalesce(min(a.attempt), 0) <> 1 OR coalesce(max(a.attempt), 0) <> j.attempt`},
		{"every attempt ended with an outcome", `
			SELECT format('job %s attempt %s: outcome %s, %s..%s', job_id, attempt, outcome, started_at, ended_at)
			FROM job_attempts WHERE outcome = 'running' OR ended_at IS NULL OR ended_at < started_at`},
		{"last attempt's outcome is the job's; earlier ones lost, naming their claimant", `
			SELECT format('job %s (%s) attempt %s/%s by %s: %s %L', j.id, j.status, a.attempt, j.attempt, a.claimant, a.outcome, a.error)
			FROM jobs j JOIN job_attempts a ON a.job_id = j.id
			WHERE (a.attempt = j.attempt AND NOT (a.outcome = j.status OR j.status = 'failed' AND a.outcome = 'lost'))
			   OR (a.attempt < j.attempt AND a.outcome <> 'lost')
			   OR (a.outcome = 'lost' AND position(a.claimant IN a.error) = 0)`},
		{"no two attempts of a job overlap in time", `
			SELECT format('job %s: attempt %s (%s, %s..%s) overlaps attempt %s (%s, %s..%s)', a.job_id,
			       a.attempt, a.claimant, a.started_at, a.ended_at, b.attempt, b.claimant, b.started_at, b.ended_at)
			FROM job_attempts a JOIN job_attempts b ON b.job_id = a.job_id AND b.attempt > a.attempt
			WHERE b.started_at < a.ended_at`},
		{"each ScheduledRun ended with its job", `
			SELECT format('scheduled run %s (%s) of job %s (%s)', sr.id, sr.status, j.id, j.status)
			FROM jobs j LEFT JOIN scheduled_runs sr ON sr.job_id = j.id
			WHERE sr.id IS NULL OR sr.finished_at IS NULL OR sr.started_at IS NULL
			   OR sr.status <> CASE j.status WHEN 'completed' THEN 'finished' ELSE j.status END`},
		{"no schedule left due or claimed", `
			SELECT format('schedule %s: due %s, claimed by %L', id, due_at, claimed_by) FROM schedules
			WHERE due_at IS NOT NULL OR claimed_by <> '' OR enabled`},
	}
}

// drill holds the replicas.
type drill struct {
	url     string
	o       chaosOpts
	tracker chaosTracker

	mu     sync.Mutex
	live   []*chaosReplica
	all    []*chaosReplica
	serial int

	kills, pauses, partitions atomic.Int64
}

type chaosReplica struct {
	*scheduler.Scheduler
	name   string
	st     *store.Store
	cancel context.CancelFunc
	done   chan struct{}

	mu       sync.Mutex
	paused   bool
	pausedAt []pauseSpan
}

type pauseSpan struct{ from, to time.Time } // to is zero while paused

// start runs a fresh replica with its own connection pool under a new name.
func (d *drill) start() {
	d.mu.Lock()
	d.serial++
	name := fmt.Sprintf("chaos-%d", d.serial)
	d.mu.Unlock()
	st, err := store.Open(context.Background(), d.url, store.Options{MaxConns: 4})
	if err != nil {
		fail(err)
	}
	r := &chaosReplica{name: name, st: st, done: make(chan struct{})}
	r.Scheduler = newReplica(st, name, tasks.Registry{"noop": d.tracker.task(r, tasks.Noop())}, 30*time.Second, d.o.maxConcurrent,
		func(c *scheduler.Config) {
			c.ClaimTTL = d.o.ttl
			c.ShutdownTimeout = 5 * time.Second
			c.RetryBackoff = func(int) time.Duration { return 100 * time.Millisecond }
		})
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	go func() {
		defer close(r.done)
		_ = r.Run(ctx)
	}()
	d.mu.Lock()
	d.live = append(d.live, r)
	d.all = append(d.all, r)
	d.mu.Unlock()
}

func (d *drill) stopAll() {
	d.mu.Lock()
	all := d.all
	d.mu.Unlock()
	for _, r := range all {
		r.Pause(false)
		r.cancel()
	}
	for _, r := range all {
		<-r.done
		r.st.Close()
	}
}

// unpaused returns the live replicas not paused now; settled ones only when
// they resumed at least a lease ago.
func (d *drill) unpaused(settled bool) []*chaosReplica {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []*chaosReplica
	for _, r := range d.live {
		r.mu.Lock()
		n := len(r.pausedAt)
		if !r.paused && (!settled || n == 0 || time.Since(r.pausedAt[n-1].to) > d.o.ttl) {
			out = append(out, r)
		}
		r.mu.Unlock()
	}
	return out
}

// pick chooses a settled replica at random. Not preferably a busy one: at
// the tail of the drain that would strike the one replica running the last
// jobs at every event, until they ran out of attempts.
func (d *drill) pick(rng *rand.Rand) *chaosReplica {
	rs := d.unpaused(true)
	if len(rs) == 0 {
		return nil
	}
	return rs[rng.IntN(len(rs))]
}

func (d *drill) kill(r *chaosReplica) {
	d.mu.Lock()
	for i, x := range d.live {
		if x == r {
			d.live = append(d.live[:i], d.live[i+1:]...)
			break
		}
	}
	d.mu.Unlock()
	r.Kill()
	d.kills.Add(1)
}

func (d *drill) pause(r *chaosReplica, wg *sync.WaitGroup) {
	r.mu.Lock()
	r.paused = true
	r.pausedAt = append(r.pausedAt, pauseSpan{from: time.Now()})
	r.mu.Unlock()
	r.Pause(true)
	d.pauses.Add(1)
	wg.Add(1)
	go func() {
		defer wg.Done()
		time.Sleep(d.o.pause)
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

// check returns how many overlapping executions of a job a paused replica
// explains, and the others (double executions). A paused replica's tasks keep
// running (Pause freezes only its database dealings); SPEC §6 has it stop
// such a task on its first heartbeat after resuming. So an overlap of x and
// y is allowed only when x's replica was paused during x (pauses less than
// ttl/2 apart count as one), y started at least ttl/2 after that pause began
// (x's lease could have expired) and x ended within ttl of the resume.
func (tr *chaosTracker) check(ttl time.Duration) (explained int, doubles []string) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	byJob := map[int64][]chaosExec{}
	for _, e := range tr.execs {
		byJob[e.job] = append(byJob[e.job], e)
	}
	for job, es := range byJob {
		sort.Slice(es, func(i, j int) bool { return es[i].start.Before(es[j].start) })
		for i := range es {
			for j := i + 1; j < len(es) && es[j].start.Before(es[i].end); j++ {
				x, y := es[i], es[j]
				if stalled(x, y, ttl) || stalled(y, x, ttl) {
					explained++
					continue
				}
				doubles = append(doubles, fmt.Sprintf("job %d: attempt %d on %s (ran %s) and attempt %d on %s (started at +%s)",
					job, x.attempt, x.replica.name, x.end.Sub(x.start).Round(time.Millisecond),
					y.attempt, y.replica.name, y.start.Sub(x.start).Round(time.Millisecond)))
			}
		}
	}
	sort.Strings(doubles)
	return explained, doubles
}

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
