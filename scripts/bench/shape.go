package main

// The shape benchmark: cyberbrain as users deploy it — one api process and
// separate scheduler processes started with their documented flags — and,
// in the same run on the same PostgreSQL cluster, the floors each result is
// divided by (shape_floor.go), so the ratios compare across machines.
//
//  1. burst: R launches over HTTP (POST /api/runs/launch/ {"tasks":["noop"]})
//     from C concurrent keep-alive clients, before any replica runs;
//  2. drain: N scheduler processes start and execute the queue; runs/s from
//     the first job start to the last completion (min(jobs.started_at),
//     max(jobs.completed_at), database clock). The benchmark runs no ANALYZE
//     or anything else the product does not do by itself;
//  3. launch → running: with the replicas idle at --interval 30s (only the
//     NOTIFY wake-up explains a fast start), M sequential launches over HTTP;
//     latency = jobs.started_at − runs.created_at (database clock: from the
//     launch transaction to the start transaction). The HTTP round trip of
//     the launch is printed beside it.
//
// Then the processes are stopped (SIGTERM, then SIGKILL) and the floors run.
// With -rounds N the product and its floors run N times, alternately, and
// the bars are judged on the medians (this machine's floors alone move by
// ±10 % from one run to the next).

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

type shapeConfig struct {
	admin                   string
	apiBin, schedBin        string
	replicas, runs, latency int
	rounds                  int
	clients, apiConns       int
	maxClaim, maxConcurrent int
	schedConns              int
	interval                string
	strict, keepLogs        bool
	statements              int
	profiles                string
}

func shapeMain(args []string) {
	fs := flag.NewFlagSet("shape", flag.ExitOnError)
	var c shapeConfig
	fs.StringVar(&c.admin, "database-url", envURL(), "admin connection URL (scratch databases are created beside it)")
	fs.StringVar(&c.apiBin, "api-bin", "", "api binary (empty: build bin/api and bin/scheduler with scripts/build.sh)")
	fs.StringVar(&c.schedBin, "scheduler-bin", "", "scheduler binary (empty: build with scripts/build.sh)")
	fs.IntVar(&c.replicas, "replicas", 4, "scheduler processes")
	fs.IntVar(&c.runs, "runs", 20000, "launches in the burst (then drained)")
	fs.IntVar(&c.latency, "latency", 300, "sequential launches for launch → running")
	fs.IntVar(&c.clients, "clients", 32, "concurrent keep-alive HTTP clients of the burst")
	fs.IntVar(&c.apiConns, "api-conns", 16, "api --max-conns, and the bare launch endpoint's pool")
	fs.IntVar(&c.maxClaim, "max-claim", 100, "scheduler --max-claim")
	fs.IntVar(&c.maxConcurrent, "max-concurrent", 500, "scheduler --max-concurrent")
	fs.IntVar(&c.schedConns, "scheduler-conns", 4, "scheduler --max-conns")
	fs.StringVar(&c.interval, "interval", "30s", "scheduler --interval (the poll fallback to NOTIFY)")
	fs.BoolVar(&c.strict, "strict", false, "exit 1 when a bar misses its target")
	fs.IntVar(&c.rounds, "rounds", 1, "product-then-floor rounds; with more than one, each round's table and then the medians (the bars are judged on the medians)")
	fs.IntVar(&c.statements, "statements", 12, "print this many top statements of the drain from pg_stat_statements, when the server preloads it (0: off)")
	fs.BoolVar(&c.keepLogs, "keep-logs", false, "keep the processes' log folder")
	fs.StringVar(&c.profiles, "profiles", "", "write CPU profiles of the api over the burst and of every scheduler over the drain into this folder, and print their top functions (empty: off)")
	_ = fs.Parse(args)
	if c.admin == "" {
		fail(fmt.Errorf("set -database-url or DATABASE_URL"))
	}
	if c.runs < 1 || c.latency < 1 || c.replicas < 1 || c.clients < 1 || c.rounds < 1 {
		fail(fmt.Errorf("-runs, -latency, -replicas, -clients and -rounds must be at least 1"))
	}
	bars, err := shapeRun(c)
	if err != nil {
		fail(err)
	}
	if printBars(bars) && c.strict {
		os.Exit(1)
	}
}

// warmup launches precede each burst (connections, caches) and are drained
// with it.
const warmup = 20

func shapeRun(c shapeConfig) ([]bar, error) {
	ctx := context.Background()
	if err := buildBinaries(&c.apiBin, &c.schedBin); err != nil {
		return nil, err
	}
	fmt.Printf("cyberbrain bench shape — %s, %d CPUs, %s, %d round(s)\n", time.Now().UTC().Format(time.RFC3339), runtime.NumCPU(), runtime.Version(), c.rounds)
	var rounds [][]bar
	for r := 1; r <= c.rounds; r++ {
		if c.rounds > 1 {
			fmt.Printf("\n— round %d of %d —\n", r, c.rounds)
		}
		product, err := shapeProduct(ctx, c)
		if err != nil {
			return nil, err
		}
		floor, err := shapeFloor(ctx, c)
		if err != nil {
			return nil, err
		}
		rounds = append(rounds, shapeBars(product, floor))
		if c.rounds > 1 {
			printBars(rounds[len(rounds)-1])
		}
		c.statements, c.profiles = 0, "" // the first round's are enough
	}
	if c.rounds > 1 {
		fmt.Printf("\nmedian of %d rounds (each ratio is the median of the rounds' ratios, each taken against the floor of its own round):\n", c.rounds)
	}
	return medianBars(rounds), nil
}

// shapeBars are the bars of one round.
func shapeBars(product, floor shapeResult) []bar {
	return []bar{
		{name: "drain (runs/s)", product: product.drain, floor: floor.drain, higher: true, target: 0.5, targetText: "≥ 0.5 × floor"},
		{name: "launch → running p50", product: product.p50, floor: floor.p50, unit: time.Millisecond, abs: 5, targetText: "≤ 5 ms"},
		{name: "launch → running p99", product: product.p99, floor: floor.p99, unit: time.Millisecond, abs: 25, targetText: "≤ 25 ms"},
		{name: "launch over HTTP (/s)", product: product.launches, floor: floor.launches, higher: true, target: 1.5, targetText: "≥ 1.5 × floor"},
	}
}

// medianBars folds rounds of bars into one: the median product, floor and
// ratio of each (the ratio is the median of the rounds' own ratios, not the
// ratio of the medians: a round's product and floor ran minutes apart at
// most, on the same machine state). This machine's floors alone move by
// ±10 % from run to run.
func medianBars(rounds [][]bar) []bar {
	out := make([]bar, len(rounds[0]))
	for i := range out {
		var ps, fs, rs []float64
		for _, r := range rounds {
			ps, fs, rs = append(ps, r[i].product), append(fs, r[i].floor), append(rs, r[i].product/r[i].floor)
		}
		out[i] = rounds[0][i]
		out[i].product, out[i].floor, out[i].ratio = median(ps), median(fs), median(rs)
	}
	return out
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// shapeResult is one side's figures: rates per second, latencies in seconds.
type shapeResult struct {
	launches, drain float64
	p50, p99        float64
}

func shapeProduct(ctx context.Context, c shapeConfig) (res shapeResult, err error) {
	dbURL, drop, err := scratchDB(c.admin)
	if err != nil {
		return res, err
	}
	defer drop()
	logDir, err := os.MkdirTemp("", "cyberbrain-bench-shape-")
	if err != nil {
		return res, err
	}
	defer func() {
		if err != nil || c.keepLogs {
			fmt.Fprintf(os.Stderr, "process logs kept in %s\n", logDir)
		} else {
			os.RemoveAll(logDir)
		}
	}()
	var procs []*proc
	defer func() { stopProcs(procs, 20*time.Second) }()

	addr, err := freeAddr()
	if err != nil {
		return res, err
	}
	prof := newProfiler(c.profiles)
	api, err := startProc(logDir, "api", c.apiBin, prof.args("api", "--database-url", dbURL, "--addr", addr,
		"--max-conns", strconv.Itoa(c.apiConns))...)
	if err != nil {
		return res, err
	}
	procs = append(procs, api)
	if err := waitReady(api, addr, time.Minute); err != nil {
		return res, err
	}
	db, err := pgxpool.New(ctx, dbURL)
	if err != nil {
		return res, err
	}
	defer db.Close()
	if _, err := db.Exec(ctx, `UPDATE task_definitions SET enabled = true WHERE key = 'noop'`); err != nil {
		return res, err
	}
	target := "http://" + addr + "/api/runs/launch/"
	fmt.Printf("product: api (--max-conns %d) + %d scheduler processes (--interval %s --max-claim %d --max-concurrent %d --max-conns %d), logs at info\n",
		c.apiConns, c.replicas, c.interval, c.maxClaim, c.maxConcurrent, c.schedConns)

	// 1. The burst, no replica running yet.
	lc := newLauncher(target, c.clients)
	stopAPI := prof.start("api", "burst")
	res.launches, err = lc.burst(c.runs, "product")
	stopAPI()
	if err != nil {
		return res, err
	}

	// 2. The drain.
	statements := c.statements > 0 && resetStatements(ctx, db)
	for i := 0; i < c.replicas; i++ {
		name := fmt.Sprintf("scheduler-%d", i)
		p, err := startProc(logDir, name, c.schedBin, prof.args(name, "--database-url", dbURL, "--claimant", "bench-"+name,
			"--interval", c.interval, "--max-claim", strconv.Itoa(c.maxClaim),
			"--max-concurrent", strconv.Itoa(c.maxConcurrent), "--max-conns", strconv.Itoa(c.schedConns))...)
		if err != nil {
			return res, err
		}
		procs = append(procs, p)
	}
	total := int64(c.runs + warmup)
	var stops []func()
	for i := 0; i < c.replicas; i++ {
		stops = append(stops, prof.start(fmt.Sprintf("scheduler-%d", i), "drain"))
	}
	err = waitFinished(ctx, db, procs, total, 10*time.Minute)
	for _, stop := range stops {
		stop()
	}
	if err != nil {
		return res, err
	}
	n, took, err := drainRate(ctx, db)
	if err != nil {
		return res, err
	}
	res.drain = float64(n) / took.Seconds()
	fmt.Printf("product drain: %d noop runs by %d scheduler processes in %s = %.0f runs/s\n", n, c.replicas, took.Round(time.Millisecond), res.drain)
	if statements {
		printStatements(ctx, db, c.statements)
	}
	prof.print()

	// 3. Launch → running, the replicas idle.
	if err := waitListening(ctx, db, procs[1:], c.replicas, 30*time.Second); err != nil {
		return res, err
	}
	listener, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return res, err
	}
	defer listener.Close(ctx)
	if _, err := listener.Exec(ctx, "LISTEN cyberbrain_runs"); err != nil {
		return res, err
	}
	time.Sleep(time.Second)
	ids := make([]int64, 0, c.latency)
	rtt := make([]time.Duration, 0, c.latency)
	for i := 0; i < c.latency; i++ {
		t0 := time.Now()
		id, err := lc.launch()
		if err != nil {
			return res, err
		}
		rtt = append(rtt, time.Since(t0))
		if err := waitStarted(ctx, db, listener, id, 40*time.Second); err != nil {
			return res, err
		}
		ids = append(ids, id)
		time.Sleep(2 * time.Millisecond)
	}
	lat, err := startLatencies(ctx, db, ids)
	if err != nil {
		return res, err
	}
	sort.Slice(rtt, func(i, j int) bool { return rtt[i] < rtt[j] })
	res.p50, res.p99 = pct(lat, 0.5).Seconds(), pct(lat, 0.99).Seconds()
	fmt.Printf("product launch → running (%d replicas idle at --interval %s, %d launches; runs.created_at → jobs.started_at): p50 %s  p90 %s  p99 %s  max %s; HTTP launch round trip p50 %s  p99 %s\n",
		c.replicas, c.interval, c.latency, dur(pct(lat, 0.5)), dur(pct(lat, 0.9)), dur(pct(lat, 0.99)), dur(lat[len(lat)-1]), dur(pct(rtt, 0.5)), dur(pct(rtt, 0.99)))
	return res, nil
}

func shapeFloor(ctx context.Context, c shapeConfig) (res shapeResult, err error) {
	st, done, err := scratchStore(c.admin, 2)
	if err != nil {
		return res, err
	}
	defer done()
	if err := rawDB(st).Exec(`UPDATE task_definitions SET enabled = true WHERE key = 'noop'`).Error; err != nil {
		return res, err
	}
	cfg, err := pgxpool.ParseConfig(st.URL())
	if err != nil {
		return res, err
	}
	cfg.MaxConns = int32(c.apiConns)
	db, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return res, err
	}
	defer db.Close()

	// (b) The bare launch endpoint, the same clients and count.
	addr, stop, err := floorLaunchServer(ctx, db)
	if err != nil {
		return res, err
	}
	lc := newLauncher("http://"+addr+"/api/runs/launch/", c.clients)
	res.launches, err = lc.burst(c.runs, "floor (bare net/http + pgx, one transaction per launch)")
	stop()
	if err != nil {
		return res, err
	}

	// (a) The drain floor, on the runs just launched.
	got, err := floorDrain(ctx, st.URL(), 4, 100)
	if err != nil {
		return res, err
	}
	n, took, err := drainRate(ctx, db)
	if err != nil {
		return res, err
	}
	if n != int64(c.runs+warmup) || got != c.runs+warmup {
		return res, fmt.Errorf("floor drain finished %d (%d completed), want %d", got, n, c.runs+warmup)
	}
	res.drain = float64(n) / took.Seconds()
	fmt.Printf("floor drain (SQL, 4 connections, claim+start and complete per batch of 100): %d runs in %s = %.0f runs/s\n", n, took.Round(time.Millisecond), res.drain)

	// (c) The wake-up floor.
	ids, err := floorWake(ctx, st.URL(), db, c.latency)
	if err != nil {
		return res, err
	}
	lat, err := startLatencies(ctx, db, ids)
	if err != nil {
		return res, err
	}
	res.p50, res.p99 = pct(lat, 0.5).Seconds(), pct(lat, 0.99).Seconds()
	fmt.Printf("floor wake-up (launch commit, NOTIFY, one claim+start statement; %d launches): p50 %s  p90 %s  p99 %s  max %s\n",
		c.latency, dur(pct(lat, 0.5)), dur(pct(lat, 0.9)), dur(pct(lat, 0.99)), dur(lat[len(lat)-1]))
	return res, nil
}

// launcher posts noop launches on keep-alive connections.
type launcher struct {
	target string
	client *http.Client
}

func newLauncher(target string, clients int) *launcher {
	tr := &http.Transport{MaxIdleConns: clients, MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients}
	return &launcher{target: target, client: &http.Client{Transport: tr, Timeout: time.Minute}}
}

// launch posts one launch and returns the run's id.
func (l *launcher) launch() (int64, error) {
	res, err := l.client.Post(l.target, "application/json", bytes.NewBufferString(`{"tasks":["noop"]}`))
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return 0, err
	}
	if res.StatusCode != http.StatusCreated {
		return 0, fmt.Errorf("launch: %s: %s", res.Status, bytes.TrimSpace(body))
	}
	var run struct {
		ID int64 `json:"id"`
	}
	if err := json.Unmarshal(body, &run); err != nil || run.ID == 0 {
		return 0, fmt.Errorf("launch: no run id in %.200s", body)
	}
	return run.ID, nil
}

// burst makes warmup sequential launches, then n from the clients at once,
// and returns launches/s of the latter.
func (l *launcher) burst(n int, who string) (float64, error) {
	for i := 0; i < warmup; i++ {
		if _, err := l.launch(); err != nil {
			return 0, err
		}
	}
	clients := l.client.Transport.(*http.Transport).MaxConnsPerHost
	var next atomic.Int64
	var mu sync.Mutex
	var firstErr error
	lat := make([]time.Duration, 0, n)
	var wg sync.WaitGroup
	start := time.Now()
	for i := 0; i < clients; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mine := make([]time.Duration, 0, n/clients+1)
			for next.Add(1) <= int64(n) {
				t0 := time.Now()
				if _, err := l.launch(); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					return
				}
				mine = append(mine, time.Since(t0))
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	took := time.Since(start)
	if firstErr != nil {
		return 0, firstErr
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	rate := float64(n) / took.Seconds()
	fmt.Printf("%s launch burst: %d launches over HTTP from %d keep-alive clients in %s = %.0f launches/s (request p50 %s  p99 %s)\n",
		who, n, clients, took.Round(time.Millisecond), rate, dur(pct(lat, 0.5)), dur(pct(lat, 0.99)))
	return rate, nil
}

// waitFinished waits until n runs are finished, failing when one failed or a
// process exited.
func waitFinished(ctx context.Context, db *pgxpool.Pool, procs []*proc, n int64, within time.Duration) error {
	deadline := time.Now().Add(within)
	for {
		for _, p := range procs {
			if ok, err := p.exited(); ok {
				return fmt.Errorf("%s exited during the drain (%v); see %s", p.name, err, p.log)
			}
		}
		var done, failed int64
		if err := db.QueryRow(ctx, `SELECT count(*) FILTER (WHERE status IN ('completed', 'failed', 'cancelled')),
			count(*) FILTER (WHERE status <> 'completed' AND status IN ('failed', 'cancelled')) FROM runs`).Scan(&done, &failed); err != nil {
			return err
		}
		if failed > 0 {
			return fmt.Errorf("%d runs did not complete", failed)
		}
		if done >= n {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d of %d runs finished after %s", done, n, within)
		}
		time.Sleep(time.Second) // the figures come from the rows, not from this poll
	}
}

// waitStarted waits until the run's job has finished (so the replicas are
// idle again before the next launch). It checks when the product announces
// a change of runs (NOTIFY cyberbrain_runs on listener) or every 50 ms, so
// its own queries barely compete with what is measured.
func waitStarted(ctx context.Context, db *pgxpool.Pool, listener *pgx.Conn, run int64, within time.Duration) error {
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		var finished bool
		if err := db.QueryRow(ctx, `SELECT bool_and(completed_at IS NOT NULL) FROM jobs WHERE run_id = $1`, run).Scan(&finished); err != nil {
			return err
		}
		if finished {
			return nil
		}
		wctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		_, err := listener.WaitForNotification(wctx)
		cancel()
		if err != nil && ctx.Err() != nil {
			return err
		}
	}
	return fmt.Errorf("run %d not finished within %s", run, within)
}

func pct(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[int(p*float64(len(sorted)-1))]
}

func dur(d time.Duration) string { return d.Round(10 * time.Microsecond).String() }

// bar is one line of the closing table. Rates are per second, latencies in
// seconds (printed in unit). higher: the product should reach target × the
// floor; otherwise it should stay under abs (in unit).
type bar struct {
	name           string
	product, floor float64
	ratio          float64 // when set, printed instead of product/floor (a median of rounds)
	unit           time.Duration
	higher         bool
	target, abs    float64
	targetText     string
}

// printBars prints the table and reports whether a bar missed its target.
func printBars(bars []bar) (missed bool) {
	fmt.Printf("\n%-24s %10s %10s %7s  %-15s %s\n", "bar", "product", "floor", "ratio", "target", "")
	for _, b := range bars {
		ratio := b.product / b.floor
		if b.ratio != 0 {
			ratio = b.ratio
		}
		var ok bool
		var p, f string
		if b.higher {
			ok = ratio >= b.target
			p, f = fmt.Sprintf("%.0f", b.product), fmt.Sprintf("%.0f", b.floor)
		} else {
			scale := float64(b.unit) / float64(time.Second)
			ok = b.product/scale <= b.abs
			p, f = fmt.Sprintf("%.2f ms", b.product/scale), fmt.Sprintf("%.2f ms", b.floor/scale)
		}
		status := "PASS"
		if !ok {
			status, missed = "MISS", true
		}
		fmt.Printf("%-24s %10s %10s %7.2f  %-15s %s\n", b.name, p, f, ratio, b.targetText, status)
	}
	return missed
}

// resetStatements empties pg_stat_statements when the server preloads it.
func resetStatements(ctx context.Context, db *pgxpool.Pool) bool {
	if _, err := db.Exec(ctx, `CREATE EXTENSION IF NOT EXISTS pg_stat_statements`); err != nil {
		return false
	}
	if _, err := db.Exec(ctx, `SELECT pg_stat_statements_reset()`); err != nil {
		fmt.Println("(pg_stat_statements not preloaded: no statement profile)")
		return false
	}
	return true
}

// printStatements prints the n statements of this database that took the
// most execution time since resetStatements.
func printStatements(ctx context.Context, db *pgxpool.Pool, n int) {
	rows, err := db.Query(ctx, `SELECT calls, total_exec_time, mean_exec_time, total_plan_time, rows, regexp_replace(left(query, 400), '\s+', ' ', 'g')
		FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
		ORDER BY total_exec_time DESC LIMIT $1`, n)
	if err != nil {
		fmt.Println("pg_stat_statements:", err)
		return
	}
	defer rows.Close()
	fmt.Println("drain, top statements (pg_stat_statements: calls, total ms, mean ms, planning ms (0 unless pg_stat_statements.track_planning), rows, query):")
	for rows.Next() {
		var calls, nrows int64
		var total, mean, plan float64
		var q string
		if err := rows.Scan(&calls, &total, &mean, &plan, &nrows, &q); err != nil {
			fmt.Println("pg_stat_statements:", err)
			return
		}
		fmt.Printf("  %7d %9.0f %7.2f %7.0f %8d  %.150s\n", calls, total, mean, plan, nrows, q)
	}
}
