package main

// The chaos drill (see docs/DESIGN.md §11): replicas drain noop runs while one of them is
// killed (SIGKILL: it stops at once and writes nothing more; a fresh replica
// with a new claimant name replaces it) or paused for longer than its lease
// (SIGSTOP, a cut connection) and resumed, every few seconds; every tenth
// event pauses all of them at once (the database cut off). Afterwards the
// database and a task-level tracker must show every run terminal, every
// attempt recorded, no job executed twice at once. The drill and its checks
// are pkg/scheduler/chaosdrill's, shared with TestChaosKillAndPauseReplicas;
// this runs them at scale.

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"time"

	"github.com/cyberbrain/cyberbrain/pkg/scheduler"
	"github.com/cyberbrain/cyberbrain/pkg/scheduler/chaosdrill"
	"github.com/cyberbrain/cyberbrain/pkg/store"
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
	if err := rawDB(st).Exec(`UPDATE task_definitions SET max_attempts = ?, default_config = jsonb_build_object('sleep_ms', ?::int) WHERE key = 'noop'`,
		o.maxAttempts, o.sleep.Milliseconds()).Error; err != nil {
		fail(err)
	}
	t0 := time.Now()
	launchNoops(ctx, st, o.runs)
	if o.longEvery > 0 {
		if err := rawDB(st).Exec(`UPDATE jobs SET config = jsonb_build_object('sleep_ms', ?::int) WHERE id % ? = 0`, o.long.Milliseconds(), o.longEvery).Error; err != nil {
			fail(err)
		}
	}
	if err := rawDB(st).Exec(`ANALYZE`).Error; err != nil {
		fail(err)
	}
	fmt.Printf("launched %d runs in %s\n", o.runs, time.Since(t0).Round(time.Millisecond))

	d := chaosdrill.New(chaosdrill.Config{
		URL: st.URL(), TTL: o.ttl, PauseFor: o.pause, // PreferBusy off: a long drain's tail
		Replica: scheduler.Config{
			Interval:        30 * time.Second,
			MaxClaim:        maxClaim,
			MaxConcurrent:   o.maxConcurrent,
			ShutdownTimeout: 5 * time.Second,
			RetryBackoff:    func(int) time.Duration { return 100 * time.Millisecond },
		},
	})
	start, err := st.Now(ctx)
	if err != nil {
		fail(err)
	}
	for i := 0; i < o.replicas; i++ {
		if _, err := d.Start(); err != nil {
			fail(err)
		}
	}
	// Chaos until every run has ended.
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 2))
	tick := time.NewTicker(o.every)
	poll := time.NewTicker(250 * time.Millisecond)
	deadline := time.Now().Add(o.timeout)
	events, drained := 0, false
	for !drained && time.Now().Before(deadline) {
		select {
		case <-poll.C:
			var open int64
			if err := rawDB(st).Raw(`SELECT count(*) FROM runs WHERE status NOT IN ('completed', 'failed', 'cancelled')`).Scan(&open).Error; err != nil {
				fail(err)
			}
			drained = open == 0
		case <-tick.C:
			events++
			if events%10 == 0 {
				d.PauseAll()
			} else if err := d.Strike(rng); err != nil {
				fail(err)
			}
		}
	}
	tick.Stop()
	poll.Stop()
	var last time.Time
	if err := rawDB(st).Raw(`SELECT coalesce(max(completed_at), now()) FROM runs`).Scan(&last).Error; err != nil {
		fail(err)
	}
	took := last.Sub(start)
	if err := d.Stop(time.Minute); err != nil {
		fail(err)
	}

	var counts struct{ Completed, Failed, Lost, Attempts int }
	if err := rawDB(st).Raw(`SELECT (SELECT count(*) FROM runs WHERE status = 'completed') AS completed,
		(SELECT count(*) FROM runs WHERE status = 'failed') AS failed,
		(SELECT count(*) FROM job_attempts WHERE outcome = 'lost') AS lost,
		(SELECT count(*) FROM job_attempts) AS attempts`).Scan(&counts).Error; err != nil {
		fail(err)
	}
	fmt.Printf("drained in %s (%.0f runs/s): %d completed, %d failed (out of attempts)\n",
		took.Round(time.Millisecond), float64(o.runs)/took.Seconds(), counts.Completed, counts.Failed)
	overlaps := d.Overlaps()
	fmt.Printf("chaos: %d kills, %d pauses, %d partitions (all paused); %d attempts, %d lost; %d task executions, %d overlaps explained by a paused replica's stale task\n",
		d.Kills(), d.Pauses(), d.Partitions(), counts.Attempts, counts.Lost, overlaps.Executions, overlaps.Explained)

	ok := true
	report := func(c chaosdrill.Check) {
		if len(c.Failures) == 0 {
			fmt.Printf("PASS  %s\n", c.Name)
			return
		}
		ok = false
		fmt.Printf("FAIL  %s (%d):\n", c.Name, len(c.Failures))
		for i, b := range c.Failures {
			if i == 5 {
				fmt.Printf("        … and %d more\n", len(c.Failures)-5)
				break
			}
			fmt.Printf("        %s\n", b)
		}
	}
	if !drained {
		report(chaosdrill.Check{Name: "every run ended within " + o.timeout.String(), Failures: []string{"gave up waiting"}})
	}
	if c := d.Bit(counts.Lost); len(c.Failures) > 0 {
		report(c)
	}
	checks, err := chaosdrill.Checks(ctx, st, o.runs, o.maxAttempts)
	if err != nil {
		fail(err)
	}
	for _, c := range checks {
		report(c)
	}
	report(overlaps.NoDoubles())
	return ok
}
