package tasks

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"

	"github.com/cyberbrain/cyberbrain/pkg/testenv"
)

// TestLogTriageDiagnosesFailingContainers covers the engine side of the
// acceptance: a container that exits 1, one OOM-killed under a memory limit,
// one restarting under its restart policy and one whose healthcheck flips
// each show up as a finding row with the right evidence; a second triage,
// of containers that logged only known templates since, finds nothing new.
func TestLogTriageDiagnosesFailingContainers(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	d := newTaskDB(t, "log_triage", `{"scope": "allowlist", "window": "1h", "tail": 1000, "top": 20}`)
	names := map[string]string{}
	for _, mode := range []string{"exit", "oom", "crash", "health"} {
		names[mode] = unique("cb-" + mode)
		d.allow(t, &d.host.ID, names[mode])
	}
	// Events are replayed from here: a second back, as the engine's clock
	// stamps them in whole nanoseconds of its own.
	since := time.Now().Add(-time.Second)
	exitID := f.startMode(t, names["exit"], "exit", nil)
	oomID := f.startMode(t, names["oom"], "oom", func(_ *container.Config, hc *container.HostConfig) {
		hc.Memory, hc.MemorySwap = 24<<20, 24<<20
	})
	crashID := f.startMode(t, names["crash"], "crash", func(_ *container.Config, hc *container.HostConfig) {
		hc.RestartPolicy = container.RestartPolicy{Name: "on-failure", MaximumRetryCount: 2}
	})
	healthID := f.startMode(t, names["health"], "health", func(cfg *container.Config, _ *container.HostConfig) {
		cfg.Healthcheck = &container.HealthConfig{Test: []string{"CMD", "/logger", "health"},
			Interval: 100 * time.Millisecond, Timeout: 5 * time.Second, Retries: 1}
	})
	f.waitEvents(t, exitID, since, "die", func(n map[string]int) bool { return n["die"] >= 1 })
	f.waitEvents(t, oomID, since, "die after oom", func(n map[string]int) bool { return n["die"] >= 1 })
	// Three runs: the first and the policy's two retries.
	f.waitEvents(t, crashID, since, "third die", func(n map[string]int) bool { return n["die"] >= 3 })
	f.waitEvents(t, healthID, since, "healthy", func(n map[string]int) bool { return n["health_status: healthy"] >= 1 })
	if err := f.cli.ContainerKill(context.Background(), healthID, "SIGUSR2"); err != nil {
		t.Fatalf("make %s sick: %v", names["health"], err)
	}
	f.waitEvents(t, healthID, since, "unhealthy", func(n map[string]int) bool { return n["health_status: unhealthy"] >= 1 })
	f.waitExited(t, crashID)

	task := LogTriage(testPool, LLMConfig{})
	res := d.run(t, task, &d.host, d.job)
	if !strings.Contains(res.ReportMarkdown, "### Findings") {
		t.Errorf("report without findings:\n%s", res.ReportMarkdown)
	}

	exit := storedFindings(t, d.st, names["exit"])
	if e, ok := exit["exit"]; !ok || e.Severity != "critical" || !strings.Contains(e.Statement, "exited with code 1") {
		t.Errorf("exit findings = %+v, want a critical exit with code 1", exit)
	} else if ev := evidence(t, e); ev["exit_code"] != 1.0 || ev["state"] != "exited" || fmt.Sprint(ev["exit_codes"]) != "[1]" || ev["die_events"] != 1.0 {
		t.Errorf("exit evidence = %v", ev)
	}
	if n, ok := exit["new_template"]; !ok || !strings.Contains(n.Statement, "config file /etc/app/app.yaml not found") {
		t.Errorf("exit container: no new error template finding in %+v", exit)
	}

	oom := storedFindings(t, d.st, names["oom"])
	if o, ok := oom["oom"]; !ok || o.Severity != "critical" {
		t.Errorf("oom findings = %+v, want a critical oom", oom)
	} else if ev := evidence(t, o); ev["oom_killed"] != true || ev["exit_code"] != 137.0 {
		t.Errorf("oom evidence = %v, want oom_killed and exit code 137", ev)
	}

	crash := storedFindings(t, d.st, names["crash"])
	if r, ok := crash["restart"]; !ok || r.Severity != "high" || !strings.Contains(r.Statement, "restarted 2×") {
		t.Errorf("crash findings = %+v, want a restart finding, restarted 2×", crash)
	} else if ev := evidence(t, r); ev["restarts"] != 2.0 || ev["restart_count"] != 2.0 || fmt.Sprint(ev["exit_codes"]) != "[3 3 3]" {
		t.Errorf("restart evidence = %v, want 2 restarts, restart count 2, exit codes 3 3 3", ev)
	}
	if e, ok := crash["exit"]; !ok || e.Severity != "critical" || evidence(t, e)["exit_code"] != 3.0 {
		t.Errorf("crash container: exit finding = %+v", e)
	}

	health := storedFindings(t, d.st, names["health"])
	if h, ok := health["health"]; !ok || h.Severity != "high" || !strings.Contains(h.Statement, "healthcheck is unhealthy") {
		t.Errorf("health findings = %+v, want a high health finding", health)
	} else if ev := evidence(t, h); ev["health"] != "unhealthy" || ev["unhealthy_events"].(float64) < 1 || ev["healthy_events"].(float64) < 1 {
		t.Errorf("health evidence = %v, want healthy then unhealthy", ev)
	}
	if _, ok := health["exit"]; ok {
		t.Errorf("a running container has an exit finding: %+v", health)
	}

	// The running container logs its known templates again, more lines than
	// the first triage had (enough to learn its line header now).
	if err := f.cli.ContainerKill(context.Background(), healthID, "SIGUSR1"); err != nil {
		t.Fatalf("signal %s: %v", names["health"], err)
	}
	f.followLog(t, healthID, "batch 2 done")
	job2 := newJob(t, d.st, d.host.ID, "log_triage", `{"window": "1h", "top": 20}`)
	res2 := d.run(t, task, &d.host, job2)
	doc := decodeFullTriage(t, res2)
	for _, c := range doc.Containers {
		if len(c.NewTemplates) > 0 {
			t.Errorf("second triage of %s: new templates %q", c.Name, c.NewTemplates)
		}
		if c.Name != names["health"] {
			continue
		}
		if c.Lines != 42 || len(c.Templates) != 2 {
			t.Errorf("second triage of %s: %d lines, templates %+v; want the 42 lines of batch 2 in 2 known templates", c.Name, c.Lines, c.Templates)
		}
		if w := findTemplate(c.Templates, "warn", "slow request GET /api/items/<*> took <*>"); w == nil || w.Count != 40 {
			t.Errorf("second triage of %s: warn template %+v, want its words kept and 40 lines", c.Name, w)
		}
	}
	var again int64
	if err := testenv.SQL(t, d.st).Raw(`SELECT count(*) FROM findings WHERE job_id = ? AND kind = 'new_template'`, job2.ID).Scan(&again).Error; err != nil {
		t.Fatal(err)
	}
	if again != 0 {
		t.Errorf("second triage stored %d new_template findings", again)
	}
}

// waitExited waits until a container is no longer running (a container
// whose restart policy gave up may still be between states).
func (f *fixture) waitExited(t *testing.T, id string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	okc, errc := f.cli.ContainerWait(ctx, id, container.WaitConditionNotRunning)
	select {
	case <-okc:
	case err := <-errc:
		t.Fatalf("wait for %s to stop: %v", id, err)
	}
}
