package metrics_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/cyberbrain/cyberbrain/pkg/metrics"
)

// The DB gauges and counters are process-wide: these tests do not run in parallel.

func TestDBGaugesShapeWhateverTheStats(t *testing.T) {
	var (
		mu       sync.Mutex
		deadline time.Duration
	)
	metrics.RegisterDBGauges(func(ctx context.Context) (metrics.DBStats, error) {
		d, ok := ctx.Deadline()
		mu.Lock()
		if ok {
			deadline = time.Until(d)
		}
		mu.Unlock()
		return metrics.DBStats{
			// Terminal statuses and unknown keys are not exported.
			JobsByStatus: map[string]int64{"pending": 3, "completed": 1000},
			RunsByStatus: nil,
			// The database clock may run ahead of the due time: never negative.
			ScheduleLagSeconds: -4.5,
			HostStates: map[string]string{
				"a": metrics.HostHealthy, "b": metrics.HostHealthy, "c": metrics.HostUnknown, "d": metrics.HostDisabled,
			},
		}, nil
	})
	t.Cleanup(func() { metrics.RegisterDBGauges(nil) })
	fams := scrapeHandler(t)

	mu.Lock()
	if deadline <= 0 || deadline > metrics.ScrapeTimeout {
		t.Errorf("stats read with %v left, want a deadline within ScrapeTimeout (%v)", deadline, metrics.ScrapeTimeout)
	}
	mu.Unlock()
	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"cyberbrain_queue_jobs", labels("status", "pending"), 3},
		{"cyberbrain_queue_jobs", labels("status", "running"), 0},
		{"cyberbrain_queue_runs", labels("status", "pending"), 0},
		{"cyberbrain_queue_runs", labels("status", "running"), 0},
		{"cyberbrain_schedule_lag_seconds", nil, 0},
		{"cyberbrain_due_schedules", nil, 0},
		{"cyberbrain_worker_hosts", labels("state", "healthy"), 2},
		{"cyberbrain_worker_hosts", labels("state", "unknown"), 1},
		{"cyberbrain_worker_hosts", labels("state", "disabled"), 1},
		{"cyberbrain_worker_hosts", labels("state", "unhealthy"), 0},
		{"cyberbrain_worker_host_up", labels("host", "a"), 1},
		{"cyberbrain_db_stats_up", nil, 1},
	} {
		if fams.find(c.name, c.labels) == nil {
			t.Errorf("%s%v missing: series must exist even when 0", c.name, c.labels)
			continue
		}
		if got := fams.value(c.name, c.labels); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	if n := len(fams["cyberbrain_queue_jobs"].GetMetric()); n != 2 {
		t.Errorf("queue_jobs has %d series, want pending and running only", n)
	}
	if n := len(fams["cyberbrain_worker_host_up"].GetMetric()); n != 2 {
		t.Errorf("worker_host_up has %d series, want the two checked hosts", n)
	}
	if fams["cyberbrain_db_stats_duration_seconds"] == nil {
		t.Error("scrape lacks the stats read duration")
	}

	// Registering again replaces the reader.
	metrics.RegisterDBGauges(func(context.Context) (metrics.DBStats, error) {
		return metrics.DBStats{DueSchedules: 7, ScheduleLagSeconds: 12.5}, nil
	})
	fams = scrapeHandler(t)
	if fams.value("cyberbrain_due_schedules", nil) != 7 || fams.value("cyberbrain_schedule_lag_seconds", nil) != 12.5 {
		t.Errorf("after re-registering: due %v lag %v", fams.value("cyberbrain_due_schedules", nil), fams.value("cyberbrain_schedule_lag_seconds", nil))
	}
}

func TestDBGaugesReadOncePerScrape(t *testing.T) {
	var calls int
	var mu sync.Mutex
	metrics.RegisterDBGauges(func(context.Context) (metrics.DBStats, error) {
		mu.Lock()
		calls++
		mu.Unlock()
		return metrics.DBStats{}, nil
	})
	t.Cleanup(func() { metrics.RegisterDBGauges(nil) })
	for i := 0; i < 3; i++ {
		scrapeHandler(t)
	}
	mu.Lock()
	defer mu.Unlock()
	if calls != 3 {
		t.Errorf("three scrapes read the database %d times, want 3", calls)
	}
}

// TestEchoMiddlewareStatusWhenNothingWasWritten: when the error handler
// writes no response (as for HEAD), the status recorded is the error's.
func TestEchoMiddlewareStatusWhenNothingWasWritten(t *testing.T) {
	e := echo.New()
	e.HTTPErrorHandler = func(error, echo.Context) {} // writes nothing
	var outerErr error
	e.Use(func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error { outerErr = next(c); return outerErr }
	})
	e.Use(metrics.EchoMiddleware())
	prefix := "/" + t.Name()
	e.GET(prefix+"/busy/", func(echo.Context) error { return echo.NewHTTPError(http.StatusServiceUnavailable, "busy") })
	e.GET(prefix+"/broken/", func(echo.Context) error { return errors.New("plain error") })

	before := scrapeHandler(t)
	for _, path := range []string{"/busy/", "/broken/"} {
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, prefix+path, nil))
		if outerErr != nil {
			t.Errorf("%s: the middleware passed the error %v on after handling it", path, outerErr)
		}
	}
	after := scrapeHandler(t)
	const reqs = "cyberbrain_http_requests_total"
	assertDelta(t, before, after, reqs, labels("route", prefix+"/busy/", "status", "503"), 1)
	assertDelta(t, before, after, reqs, labels("route", prefix+"/broken/", "status", "500"), 1)
	assertDelta(t, before, after, reqs, labels("route", prefix+"/busy/", "status", "200"), 0)
}

func TestConcurrentJobsBalanceInFlight(t *testing.T) {
	task := "task_" + t.Name()
	before := scrapeHandler(t)
	const n = 50
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			metrics.JobStarted(task)
			outcome := metrics.OutcomeCompleted
			if i%5 == 0 {
				outcome = metrics.OutcomeFailed
			}
			metrics.JobFinished(task, outcome, time.Duration(i)*time.Millisecond)
		}()
	}
	wg.Wait()
	after := scrapeHandler(t)
	assertDelta(t, before, after, "cyberbrain_scheduler_jobs_started_total", labels("task", task), n)
	assertDelta(t, before, after, "cyberbrain_scheduler_jobs_finished_total", labels("task", task, "outcome", "completed"), 40)
	assertDelta(t, before, after, "cyberbrain_scheduler_jobs_finished_total", labels("task", task, "outcome", "failed"), 10)
	assertDelta(t, before, after, "cyberbrain_scheduler_job_duration_seconds", labels("task", task), n)
	if got := after.value("cyberbrain_scheduler_jobs_in_flight", labels("task", task)); got != 0 {
		t.Errorf("jobs in flight %v after all finished", got)
	}
	// 0+1+…+49 ms.
	if got := after.histSum("cyberbrain_scheduler_job_duration_seconds", labels("task", task)); got < 1.2249 || got > 1.2251 {
		t.Errorf("duration sum %v, want 1.225 s", got)
	}
}

func TestHostCheckedLabelsResults(t *testing.T) {
	host := "host-" + t.Name()
	before := scrapeHandler(t)
	metrics.HostChecked(host, true)
	metrics.HostChecked(host, true)
	metrics.HostChecked(host, false)
	after := scrapeHandler(t)
	assertDelta(t, before, after, "cyberbrain_scheduler_host_checks_total", labels("host", host, "result", "healthy"), 2)
	assertDelta(t, before, after, "cyberbrain_scheduler_host_checks_total", labels("host", host, "result", "unhealthy"), 1)
}

func TestServeListenerRoutes(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- metrics.ServeListener(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	base := "http://" + ln.Addr().String()

	resp, err := http.Get(base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || strings.TrimSpace(string(body)) != `{"status":"ok"}` || resp.Header.Get("Content-Type") != "application/json" {
		t.Errorf("/healthz: %d %q %q", resp.StatusCode, body, resp.Header.Get("Content-Type"))
	}
	for _, c := range []struct {
		method, path string
		want         int
	}{
		{http.MethodPost, "/metrics", http.StatusMethodNotAllowed},
		{http.MethodGet, "/", http.StatusNotFound},
		{http.MethodGet, "/api/runs/", http.StatusNotFound},
	} {
		req, _ := http.NewRequest(c.method, base+c.path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.want {
			t.Errorf("%s %s: %d, want %d", c.method, c.path, resp.StatusCode, c.want)
		}
	}
}

func TestServeListenerReportsAFailedListener(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln.Close() // Serve fails at once on a closed listener
	err = metrics.ServeListener(context.Background(), ln)
	if err == nil || !strings.Contains(err.Error(), "metrics server on") {
		t.Errorf("ServeListener on a closed listener: %v", err)
	}
	if err := metrics.Serve(context.Background(), "127.0.0.1:99999"); err == nil || !strings.Contains(err.Error(), "metrics listen on 127.0.0.1:99999") {
		t.Errorf("Serve on an invalid port: %v", err)
	}
}
