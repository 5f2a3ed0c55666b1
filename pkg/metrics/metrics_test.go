package metrics_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/cyberbrain/cyberbrain/pkg/metrics"
)

func TestScrapeCarriesRuntimeProcessAndBuildCollectors(t *testing.T) {
	fams := scrapeHandler(t)
	for _, name := range []string{
		"go_goroutines", "go_memstats_heap_alloc_bytes", "go_build_info",
		"process_cpu_seconds_total", "process_resident_memory_bytes", "process_open_fds",
		"cyberbrain_scheduler_lease_rescues_total",
	} {
		if fams[name] == nil {
			t.Errorf("scrape lacks %s", name)
		}
	}
	if got := fams["cyberbrain_scheduler_lease_rescues_total"].GetType(); got != dto.MetricType_COUNTER {
		t.Errorf("lease rescues type %v, want counter", got)
	}
}

func TestHelpersMoveTheirSeries(t *testing.T) {
	task := "task_" + t.Name() // a label no other test touches
	before := scrapeHandler(t)

	metrics.RunLaunched(3)
	metrics.ClaimTick(0)
	metrics.ClaimTick(4)
	metrics.JobStarted(task)
	metrics.JobStarted(task)
	metrics.JobFinished(task, metrics.OutcomeCompleted, 1500*time.Millisecond)
	metrics.LeaseLost(task)
	metrics.JobRetried(task)
	metrics.LeasesRescued(2, 1)
	metrics.HostChecked("host-"+t.Name(), false)

	after := scrapeHandler(t)
	assertDelta(t, before, after, "cyberbrain_launches_total", nil, 1)
	assertDelta(t, before, after, "cyberbrain_launched_jobs_total", nil, 3)
	assertDelta(t, before, after, "cyberbrain_scheduler_claims_per_tick", nil, 2) // two observations
	assertDelta(t, before, after, "cyberbrain_scheduler_claimed_schedules_total", nil, 4)
	assertDelta(t, before, after, "cyberbrain_scheduler_jobs_started_total", labels("task", task), 2)
	assertDelta(t, before, after, "cyberbrain_scheduler_jobs_finished_total", labels("task", task, "outcome", "completed"), 1)
	assertDelta(t, before, after, "cyberbrain_scheduler_jobs_in_flight", labels("task", task), 1)
	assertDelta(t, before, after, "cyberbrain_scheduler_job_duration_seconds", labels("task", task), 1)
	if got := after.histSum("cyberbrain_scheduler_job_duration_seconds", labels("task", task)); got != 1.5 {
		t.Errorf("job duration sum %v, want 1.5", got)
	}
	assertDelta(t, before, after, "cyberbrain_scheduler_lease_losses_total", labels("task", task), 1)
	assertDelta(t, before, after, "cyberbrain_scheduler_job_retries_total", labels("task", task), 1)
	assertDelta(t, before, after, "cyberbrain_scheduler_lease_rescues_total", labels("result", "retried"), 2)
	assertDelta(t, before, after, "cyberbrain_scheduler_lease_rescues_total", labels("result", "failed"), 1)
	assertDelta(t, before, after, "cyberbrain_scheduler_host_checks_total", labels("host", "host-"+t.Name(), "result", "unhealthy"), 1)
	assertDelta(t, before, after, "cyberbrain_scheduler_host_checks_total", labels("host", "host-"+t.Name(), "result", "healthy"), 0)

	// The in-flight gauge comes back down when the second attempt ends.
	metrics.JobFinished(task, metrics.OutcomeLost, time.Second)
	if got := scrapeHandler(t).value("cyberbrain_scheduler_jobs_in_flight", labels("task", task)); got != 0 {
		t.Errorf("jobs in flight %v after every attempt finished, want 0", got)
	}
}

func TestServeListenerServesUntilCancelled(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- metrics.ServeListener(ctx, ln) }()

	metrics.ClaimTick(1)
	fams := scrape(t, "http://"+addr+"/metrics")
	if fams["cyberbrain_scheduler_claims_per_tick"] == nil || fams["go_goroutines"] == nil {
		t.Fatalf("scheduler metrics endpoint lacks expected families")
	}
	resp, err := http.Get("http://" + addr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/healthz status %d", resp.StatusCode)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("ServeListener after cancel: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("ServeListener did not return after its context was cancelled")
	}
	if _, err := http.Get("http://" + addr + "/metrics"); err == nil {
		t.Fatal("metrics endpoint still answers after shutdown")
	}
}

func TestServeReportsListenError(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	err = metrics.Serve(context.Background(), ln.Addr().String())
	var opErr *net.OpError
	if !errors.As(err, &opErr) {
		t.Fatalf("Serve on a taken address: %v, want a wrapped *net.OpError", err)
	}
}
