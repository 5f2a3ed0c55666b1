package main

// The dashboard benchmark: every page's time with a large history (100,000
// runs by default) in the database, the api (REST API + dashboard)
// in-process on a real TCP listener. The floor is GET /readyz (one database
// round trip), measured in the same run.

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/cyberbrain/cyberbrain/pkg/api"
	"github.com/cyberbrain/cyberbrain/pkg/store"
	"github.com/cyberbrain/cyberbrain/pkg/web"
)

func pagesMain(args []string) {
	fs := flag.NewFlagSet("pages", flag.ExitOnError)
	runs := fs.Int("runs", 100000, "runs in the history")
	reps := fs.Int("requests", 40, "requests per page")
	limit := fs.Duration("limit", 100*time.Millisecond, "the bar: a page's p95 must stay below it")
	_ = fs.Parse(args)
	if err := benchPages(*runs, *reps, *limit); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func benchPages(runs, reps int, limit time.Duration) error {
	st, done, err := scratchStore(envURL(), 8)
	if err != nil {
		return err
	}
	defer done()
	start := time.Now()
	ids, err := seedHistory(st, runs)
	if err != nil {
		return err
	}
	fmt.Printf("history: %d runs (with jobs, attempts, schedule history, findings) loaded in %s\n", runs, time.Since(start).Round(time.Second))
	base, stop, err := serveDashboard(st)
	if err != nil {
		return err
	}
	defer stop()
	paths := pagePaths(ids)
	floor := timePage(base+"/readyz", reps)
	fmt.Printf("%-40s %9s %9s %9s %7s\n", "page", "p50", "p95", "max", "p50/floor")
	fmt.Printf("%-40s %9s %9s %9s %7s\n", "floor: GET /readyz", ms(floor[len(floor)/2]), ms(pct95(floor)), ms(floor[len(floor)-1]), "1.0")
	failed := 0
	for _, p := range paths {
		d := timePage(base+p, reps)
		if d == nil {
			fmt.Printf("%-40s FAILED (not 200)\n", p)
			failed++
			continue
		}
		verdict := ""
		if pct95(d) >= limit {
			verdict, failed = "  OVER "+limit.String(), failed+1
		}
		fmt.Printf("%-40s %9s %9s %9s %7.1f%s\n", p, ms(d[len(d)/2]), ms(pct95(d)), ms(d[len(d)-1]),
			float64(d[len(d)/2])/float64(floor[len(floor)/2]), verdict)
	}
	if failed > 0 {
		return fmt.Errorf("%d pages failed or were over %s", failed, limit)
	}
	fmt.Printf("every page's p95 is under %s with %d runs\n", limit, runs)
	return nil
}

// seeded names rows the page list links to.
type seeded struct {
	newest, oldest, schedule, host, directive int64
}

func pagePaths(s seeded) []string {
	return []string{
		"/", "/runs", "/runs?status=failed", "/runs?status=pending", "/runs?status=cancelled", "/runs?task=log_triage",
		"/runs?task=gpu_report&status=running", "/runs?before=100",
		fmt.Sprintf("/runs?directive=%d", s.directive), fmt.Sprintf("/runs/%d", s.newest), fmt.Sprintf("/runs/%d", s.oldest),
		"/launch", "/schedules", "/schedules?page=2", "/schedules/new", fmt.Sprintf("/schedules/%d", s.schedule),
		fmt.Sprintf("/schedules/%d?page=30", s.schedule),
		"/hosts", fmt.Sprintf("/hosts/%d", s.host), fmt.Sprintf("/hosts/%d/map", s.host), fmt.Sprintf("/hosts/%d/gpus", s.host),
	}
}

// serveDashboard starts the api with the dashboard on a loopback port.
func serveDashboard(st *store.Store) (string, func(), error) {
	ui, err := web.New(web.Config{Store: st})
	if err != nil {
		return "", nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv, err := api.New(api.Config{Store: st, Addr: ln.Addr().String(), Dashboard: ui})
	if err != nil {
		return "", nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(ctx, ln, 5*time.Second) }()
	return "http://" + ln.Addr().String(), func() { cancel(); <-done }, nil
}

// timePage requests url reps times (after one warm-up) and returns the
// sorted durations, or nil when an answer was not 200.
func timePage(url string, reps int) []time.Duration {
	c := &http.Client{Timeout: 10 * time.Second}
	var out []time.Duration
	for i := -1; i < reps; i++ {
		t0 := time.Now()
		res, err := c.Get(url)
		if err != nil {
			return nil
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			return nil
		}
		if i >= 0 {
			out = append(out, time.Since(t0))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

func pct95(d []time.Duration) time.Duration { return d[len(d)*95/100] }

func ms(d time.Duration) string {
	return strings.TrimSuffix(fmt.Sprintf("%.2fms", float64(d.Microseconds())/1000), "")
}
