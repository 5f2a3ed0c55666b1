package main

// The pipeline benchmarks: launch → job running latency with one replica at
// --interval 30s, and the drain rate of noop runs with several replicas.

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"runtime"
	"runtime/pprof"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
	"gorm.io/gorm"

	"github.com/cyberbrain/cyberbrain/pkg/scheduler"
	"github.com/cyberbrain/cyberbrain/pkg/store"
	"github.com/cyberbrain/cyberbrain/pkg/tasks"
	"github.com/cyberbrain/cyberbrain/pkg/testenv"
)

var (
	profile  string
	maxClaim int
)

func pipelineMain(args []string) {
	flag := flag.NewFlagSet("pipeline", flag.ExitOnError)
	dbURL := flag.String("database-url", envURL(), "admin connection URL (a bench database is created beside it)")
	latencyRuns := flag.Int("latency-runs", 300, "launches for the latency measurement (0 skips it)")
	drainRuns := flag.Int("drain-runs", 20000, "noop runs for the drain measurement (0 skips it)")
	replicas := flag.Int("replicas", 4, "scheduler replicas draining")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the drain to this file")
	flag.IntVar(&maxClaim, "max-claim", 100, "schedules per claim statement (the scheduler's --max-claim)")
	_ = flag.Parse(args)
	profile = *cpuProfile
	if *dbURL == "" {
		fail(fmt.Errorf("set -database-url or DATABASE_URL"))
	}
	fmt.Printf("cyberbrain bench — %s, %d CPUs, GOMAXPROCS %d, %s\n", time.Now().UTC().Format(time.RFC3339), runtime.NumCPU(), runtime.GOMAXPROCS(0), runtime.Version())
	if *latencyRuns > 0 {
		benchDB(*dbURL, func(st *store.Store) { latency(st, *latencyRuns) })
	}
	if *drainRuns > 0 {
		benchDB(*dbURL, func(st *store.Store) { drain(st, *dbURLFor(st), *drainRuns, *replicas) })
	}
}

func dbURLFor(st *store.Store) *string { u := st.URL(); return &u }

func fail(err error) {
	fmt.Fprintln(os.Stderr, "bench:", err)
	os.Exit(1)
}

// benchDB runs fn against a fresh, migrated database with noop enabled.
func benchDB(admin string, fn func(st *store.Store)) {
	st, done, err := scratchStore(admin, 16)
	if err != nil {
		fail(err)
	}
	defer done()
	if err := rawDB(st).Exec(`UPDATE task_definitions SET enabled = true WHERE key = 'noop'`).Error; err != nil {
		fail(err)
	}
	fn(st)
}

// newReplica builds a replica; opts adjust its configuration (the chaos
// benchmark shortens the lease).
func newReplica(st *store.Store, name string, reg tasks.Registry, interval time.Duration, maxConcurrent int, opts ...func(*scheduler.Config)) *scheduler.Scheduler {
	cfg := scheduler.Config{
		Store: st, Logger: zap.NewNop(), Tasks: reg, Claimant: name,
		Interval: interval, MaxClaim: maxClaim, ClaimTTL: time.Minute, MaxConcurrent: maxConcurrent,
	}
	for _, o := range opts {
		o(&cfg)
	}
	s, err := scheduler.New(cfg)
	if err != nil {
		fail(err)
	}
	return s
}

// latency launches runs one at a time (as an API client would) and measures
// the time from the launch call to the noop task starting on a replica whose
// poll interval is 30 s — so only the NOTIFY wake-up can explain a fast start.
func latency(st *store.Store, n int) {
	var mu sync.Mutex
	startedAt := map[int64]time.Time{}
	notify := make(chan struct{}, 1)
	reg := tasks.Registry{"noop": tasks.TaskFunc(func(ctx context.Context, env tasks.Env) (*tasks.Result, error) {
		mu.Lock()
		startedAt[env.Job.RunID] = time.Now()
		mu.Unlock()
		select {
		case notify <- struct{}{}:
		default:
		}
		return &tasks.Result{Summary: "ok"}, nil
	})}
	ctx, cancel := context.WithCancel(context.Background())
	rep := newReplica(st, "latency", reg, 30*time.Second, 10)
	done := make(chan struct{})
	go func() { _ = rep.Run(ctx); close(done) }()
	time.Sleep(200 * time.Millisecond) // the replica is idle, asleep on its 30 s interval
	lat := make([]time.Duration, 0, n)
	for i := 0; i < n; i++ {
		t0 := time.Now()
		run, err := st.Launch(ctx, store.LaunchRequest{Tasks: []string{"noop"}})
		if err != nil {
			fail(err)
		}
		for {
			mu.Lock()
			t1, ok := startedAt[run.ID]
			mu.Unlock()
			if ok {
				lat = append(lat, t1.Sub(t0))
				break
			}
			select {
			case <-notify:
			case <-time.After(time.Second):
			}
		}
		time.Sleep(2 * time.Millisecond)
	}
	cancel()
	<-done
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	pct := func(p float64) time.Duration { return lat[int(p*float64(len(lat)-1))] }
	fmt.Printf("launch → running (1 replica, --interval 30s, %d launches): p50 %s  p90 %s  p99 %s  max %s\n",
		n, pct(0.50).Round(10*time.Microsecond), pct(0.90).Round(10*time.Microsecond), pct(0.99).Round(10*time.Microsecond), lat[len(lat)-1].Round(10*time.Microsecond))
}

// drain launches n noop runs, then starts k replicas (each with its own
// connection pool, as separate processes would have) and measures how fast
// they complete every run.
func drain(st *store.Store, dbURL string, n, k int) {
	ctx := context.Background()
	t0 := time.Now()
	launchNoops(ctx, st, n)
	launchTook := time.Since(t0)
	fmt.Printf("launched %d runs through store.Launch over 16 connections in %s (%.0f launches/s)\n",
		n, launchTook.Round(time.Millisecond), float64(n)/launchTook.Seconds())

	if profile != "" {
		f, err := os.Create(profile)
		if err != nil {
			fail(err)
		}
		defer f.Close()
		_ = pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	// A running deployment has statistics (autovacuum keeps them); a queue
	// loaded in a few seconds on a fresh database has none yet.
	if err := rawDB(st).Exec(`ANALYZE`).Error; err != nil {
		fail(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	var reps sync.WaitGroup
	start, err := st.Now(ctx)
	if err != nil {
		fail(err)
	}
	for i := 0; i < k; i++ {
		rst, err := store.Open(ctx, dbURL, store.Options{MaxConns: 4})
		if err != nil {
			fail(err)
		}
		defer rst.Close()
		rep := newReplica(rst, fmt.Sprintf("drain-%d", i), tasks.Registry{"noop": tasks.Noop()}, 30*time.Second, 500)
		reps.Add(1)
		go func() { defer reps.Done(); _ = rep.Run(runCtx) }()
	}
	for {
		var done int64
		if err := rawDB(st).Raw(`SELECT count(*) FROM runs WHERE status = 'completed'`).Scan(&done).Error; err != nil {
			fail(err)
		}
		if done >= int64(n) {
			break
		}
		time.Sleep(500 * time.Millisecond) // the finish time comes from the database, not from this poll
	}
	var last time.Time
	if err := rawDB(st).Raw(`SELECT max(completed_at) FROM runs`).Scan(&last).Error; err != nil {
		fail(err)
	}
	took := last.Sub(start)
	cancel()
	reps.Wait()
	fmt.Printf("drain: %d noop runs completed by %d replicas in %s = %.0f runs/s\n", n, k, took.Round(time.Millisecond), float64(n)/took.Seconds())
}

// launchNoops launches n noop runs through store.Launch over 16 concurrent
// callers (so launches are group-committed as the API's would be).
func launchNoops(ctx context.Context, st *store.Store, n int) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(n) {
				if _, err := st.Launch(ctx, store.LaunchRequest{Tasks: []string{"noop"}}); err != nil {
					fail(err)
				}
			}
		}()
	}
	wg.Wait()
}

var rawConns sync.Map

// rawDB is a connection of the benchmark's own for its fixtures and checks.
func rawDB(st *store.Store) *gorm.DB {
	if db, ok := rawConns.Load(st); ok {
		return db.(*gorm.DB)
	}
	db, err := testenv.OpenSQL(st.URL())
	if err != nil {
		log.Fatal(err)
	}
	rawConns.Store(st, db)
	return db
}
