package metrics_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
	"go.uber.org/zap"

	"github.com/cyberbrain/cyberbrain/pkg/api"
	"github.com/cyberbrain/cyberbrain/pkg/domain"
	"github.com/cyberbrain/cyberbrain/pkg/metrics"
	"github.com/cyberbrain/cyberbrain/pkg/scheduler"
	"github.com/cyberbrain/cyberbrain/pkg/tasks"
	"github.com/cyberbrain/cyberbrain/pkg/testenv"
)

// A run launched over HTTP and executed by a real replica moves the launch,
// request, claim and job counters of the API's /metrics, parsed with expfmt.
func TestCountersMoveWhenARunGoesThrough(t *testing.T) {
	st := testenv.NewStore(t)
	testenv.SQL(t, st).Exec(`UPDATE task_definitions SET enabled = true WHERE key = 'noop'`)
	srv, err := api.New(api.Config{Store: st, MetricsHandler: metrics.Handler(),
		Middleware: []echo.MiddlewareFunc{metrics.EchoMiddleware()}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()
	sch, err := scheduler.New(scheduler.Config{Store: st, Logger: zap.NewNop(), Tasks: tasks.Registry{"noop": tasks.Noop()}})
	if err != nil {
		t.Fatal(err)
	}
	sch.TestSignals.Init(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = sch.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()

	before := scrape(t, hs.URL+"/metrics")
	resp, err := http.Post(hs.URL+"/api/runs/launch/", "application/json", strings.NewReader(`{"tasks":["noop"]}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("launch: %d", resp.StatusCode)
	}
	// The finish is counted after its commit: wait for the replica's signal
	// (sent once counted), not for the row.
	if f := sch.TestSignals.Finished.WaitOrTimeout(); f.Status != domain.StatusCompleted {
		t.Fatalf("job finished %s, want completed", f.Status)
	}
	after := scrape(t, hs.URL+"/metrics")
	for _, c := range []struct {
		name   string
		labels map[string]string
	}{
		{"cyberbrain_launches_total", nil},
		{"cyberbrain_http_requests_total", labels("method", "POST", "route", "/api/runs/launch", "status", "201")},
		{"cyberbrain_scheduler_claimed_schedules_total", nil},
		{"cyberbrain_scheduler_jobs_started_total", labels("task", "noop")},
		{"cyberbrain_scheduler_jobs_finished_total", labels("task", "noop", "outcome", "completed")},
	} {
		if after.value(c.name, c.labels) < before.value(c.name, c.labels)+1 {
			t.Errorf("%s%v did not move: %v → %v", c.name, c.labels, before.value(c.name, c.labels), after.value(c.name, c.labels))
		}
	}
}
