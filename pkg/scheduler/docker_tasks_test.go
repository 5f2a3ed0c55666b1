package scheduler_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/cyberbrain/cyberbrain/pkg/dockerhost"
	"github.com/cyberbrain/cyberbrain/pkg/store"
	"github.com/cyberbrain/cyberbrain/pkg/tasks"
	"github.com/cyberbrain/cyberbrain/pkg/testenv"
)

// The seed guide's launch of log_triage, executed by a replica against the
// real Docker engine: the run completes with its artifacts and report.
func TestLaunchedDockerTasksCompleteWithArtifactsAndReport(t *testing.T) {
	t.Parallel()
	testenv.Docker(t)
	st := newStore(t)
	pool := dockerhost.NewPool()
	t.Cleanup(pool.Close)
	rep := startReplica(t, st, "r", tasks.Default(pool, tasks.LLMConfig{}), nil)
	run, err := st.Launch(context.Background(), store.LaunchRequest{Tasks: []string{"log_triage", "service_map", "gpu_report"}})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 60*time.Second, "run completed", func() bool {
		return countWhere(t, st, "runs WHERE id = ? AND status IN ('completed', 'failed')", run.ID) == 1
	}, flushed(rep)...)
	var r store.Run
	testenv.SQL(t, st).Take(&r, run.ID)
	if r.Status != "completed" {
		var errs []string
		testenv.SQL(t, st).Raw(`SELECT error_message FROM jobs WHERE run_id = ?`, run.ID).Scan(&errs)
		t.Fatalf("run %s: %v", r.Status, errs)
	}
	for _, name := range []string{"log_triage.json", "service_map.json", "gpu_report.json", "report.md"} {
		if countWhere(t, st, "artifacts WHERE run_id = ? AND name = ? AND size > 0", run.ID, name) == 0 {
			t.Errorf("artifact %s missing", name)
		}
	}
	for _, want := range []string{"log_triage", "service_map", "gpu_report", "/api/artifacts/"} {
		if !strings.Contains(r.ReportMarkdown, want) {
			t.Errorf("run report lacks %q:\n%s", want, r.ReportMarkdown)
		}
	}
}

// A job routed to a host that cannot be reached fails, after its retries,
// with an error naming the host.
func TestJobOnUnreachableHostFailsNamingTheHost(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	testenv.SQL(t, st).Exec(`UPDATE task_definitions SET max_attempts = 2 WHERE key = 'service_map'`)
	var hostID int64
	testenv.SQL(t, st).Raw(`INSERT INTO worker_hosts (name, type, base_url) VALUES ('basement', 'docker_tcp', 'tcp://127.0.0.1:1') RETURNING id`).Scan(&hostID)
	pool := dockerhost.NewPool()
	t.Cleanup(pool.Close)
	r := startReplica(t, st, "r", tasks.Default(pool, tasks.LLMConfig{}), nil)
	run, err := st.Launch(context.Background(), store.LaunchRequest{Tasks: []string{"service_map"}, TargetHostID: &hostID})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "run failed", func() bool {
		return countWhere(t, st, "runs WHERE id = ? AND status = 'failed'", run.ID) == 1
	}, flushed(r)...)
	if n := countWhere(t, st, "jobs WHERE run_id = ? AND attempt = 2 AND error_message LIKE '%basement%'", run.ID); n != 1 {
		var msg string
		testenv.SQL(t, st).Raw(`SELECT error_message FROM jobs WHERE run_id = ?`, run.ID).Scan(&msg)
		t.Fatalf("job error does not name the host after 2 attempts: %q", msg)
	}
	if n := countWhere(t, st, "job_attempts a JOIN jobs j ON j.id = a.job_id WHERE j.run_id = ? AND a.outcome = 'failed'", run.ID); n != 2 {
		t.Fatalf("failed attempts = %d, want 2", n)
	}
}
