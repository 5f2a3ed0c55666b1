package main

// The launch benchmark: POST /api/runs/launch/ on keep-alive connections
// against a real PostgreSQL, with the API server in-process on a real TCP
// listener.

import (
	"bytes"
	"context"
	"database/sql"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"runtime/pprof"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/cyberbrain/cyberbrain/pkg/api"
	"github.com/cyberbrain/cyberbrain/pkg/store"
)

func launchMain(args []string) {
	fs := flag.NewFlagSet("launch", flag.ExitOnError)
	clients := fs.Int("clients", 32, "concurrent client goroutines (one keep-alive connection each)")
	duration := fs.Duration("duration", 10*time.Second, "measurement time")
	conns := fs.Int("conns", 16, "database connections of the API")
	body := fs.String("body", `{"directive_id":1,"tasks":["log_triage"]}`, "launch body")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of the run here")
	_ = fs.Parse(args)
	if err := run(*clients, *duration, *conns, *body, *cpuprofile); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(clients int, duration time.Duration, conns int, body, cpuprofile string) error {
	ctx := context.Background()
	st, done, err := scratchStore(envURL(), conns)
	if err != nil {
		return err
	}
	defer done()
	if err := rawDB(st).Exec(`INSERT INTO directives (name) VALUES ('bench')`).Error; err != nil {
		return err
	}
	srv, err := api.New(api.Config{Store: st, Addr: "127.0.0.1:0"})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	sctx, stop := context.WithCancel(ctx)
	defer stop()
	go func() { _ = srv.Serve(sctx, ln, 5*time.Second) }()
	target := "http://" + ln.Addr().String() + "/api/runs/launch/"
	tr := &http.Transport{MaxIdleConns: clients, MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients}
	client := &http.Client{Transport: tr}

	launch := func() (int, error) {
		res, err := client.Post(target, "application/json", bytes.NewBufferString(body))
		if err != nil {
			return 0, err
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res.StatusCode, nil
	}
	// Warm up the connections and the server.
	for i := 0; i < 50; i++ {
		if code, err := launch(); err != nil || code != http.StatusCreated {
			return fmt.Errorf("warm-up launch: %d %v", code, err)
		}
	}
	if cpuprofile != "" {
		f, err := os.Create(cpuprofile)
		if err != nil {
			return err
		}
		defer f.Close()
		_ = pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	var ok, bad atomic.Int64
	var mu sync.Mutex
	var lat []time.Duration
	deadline := time.Now().Add(duration)
	var wg sync.WaitGroup
	start := time.Now()
	for i := 0; i < clients; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			for time.Now().Before(deadline) {
				t0 := time.Now()
				code, err := launch()
				if err != nil || code != http.StatusCreated {
					bad.Add(1)
					continue
				}
				mine = append(mine, time.Since(t0))
				ok.Add(1)
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	pct := func(p float64) time.Duration {
		if len(lat) == 0 {
			return 0
		}
		return lat[int(float64(len(lat)-1)*p)]
	}
	var runs, jobs int64
	rawDB(st).Raw(`SELECT count(*) FROM runs`).Scan(&runs)
	rawDB(st).Raw(`SELECT count(*) FROM jobs`).Scan(&jobs)
	fmt.Printf("launches: %d ok, %d failed in %v with %d clients, %d DB conns, GOMAXPROCS %d\n",
		ok.Load(), bad.Load(), elapsed.Round(time.Millisecond), clients, conns, runtime.GOMAXPROCS(0))
	fmt.Printf("throughput: %.0f launches/s   latency p50 %v  p99 %v\n",
		float64(ok.Load())/elapsed.Seconds(), pct(0.5).Round(10*time.Microsecond), pct(0.99).Round(10*time.Microsecond))
	fmt.Printf("rows: %d runs, %d jobs\n", runs, jobs)
	return nil
}

// scratchStore opens a store with conns connections on a fresh, migrated
// scratch database next to admin's; done closes it and drops the database.
func scratchStore(admin string, conns int) (*store.Store, func(), error) {
	if admin == "" {
		return nil, nil, fmt.Errorf("set DATABASE_URL (a server where a scratch database may be created)")
	}
	dbURL, drop, err := scratchDB(admin)
	if err != nil {
		return nil, nil, err
	}
	ctx := context.Background()
	st, err := store.Open(ctx, dbURL, store.Options{MaxConns: conns})
	if err != nil {
		drop()
		return nil, nil, err
	}
	if err := st.MigrateUp(ctx); err != nil {
		st.Close()
		drop()
		return nil, nil, err
	}
	return st, func() { st.Close(); drop() }, nil
}

// scratchDB creates a database next to admin's and returns its URL and a
// function that drops it.
func scratchDB(admin string) (string, func(), error) {
	db, err := sql.Open("pgx", admin)
	if err != nil {
		return "", nil, err
	}
	name := fmt.Sprintf("cbbench_%d", time.Now().UnixNano())
	if _, err := db.Exec("CREATE DATABASE " + name); err != nil {
		db.Close()
		return "", nil, fmt.Errorf("create scratch database: %w", err)
	}
	u, err := url.Parse(admin)
	if err != nil {
		db.Close()
		return "", nil, err
	}
	u.Path = "/" + name
	return u.String(), func() {
		_, _ = db.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
		db.Close()
	}, nil
}
