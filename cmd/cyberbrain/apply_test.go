package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const sample = `directives:
  - name: nightly
    description: every night
    task_config: {log_triage: {tail: 500}}
tasks:
  - key: noop
    enabled: true
    timeout_seconds: 60
worker_hosts:
  - name: local
    capabilities: {labels: [local]}
  - name: gpu1
    type: docker_tcp
    base_url: tcp://10.0.0.5:2376
    capabilities: {gpus: 2, labels: [gpu]}
    enabled: false
schedules:
  - name: triage-hourly
    task: log_triage
    directive: nightly
    schedule_type: cron
    cron_expr: "0 * * * *"
    timezone: Europe/Berlin
  - name: noop-often
    task: noop
    target_host: gpu1
    schedule_type: interval
    interval_minutes: 15
    enabled: false
allowlist:
  - container_name: nginx
    host: gpu1
    tags: [web]
`

func configFile(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "cyberbrain.yaml")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// A second apply of the same file changes nothing and says so; --dry-run
// changes nothing either.
func TestApplyTwiceIsANoOp(t *testing.T) {
	t.Parallel()
	server, _ := startAPI(t)
	file := configFile(t, sample)
	before := mustCLI(t, server, "export")

	plan := mustCLI(t, server, "apply", "-f", file, "--dry-run")
	if !strings.Contains(plan, `+ create schedule "triage-hourly"`) || !strings.Contains(plan, `~ update task "noop"`) {
		t.Errorf("dry-run plan:\n%s", plan)
	}
	if after := mustCLI(t, server, "export"); after != before {
		t.Fatalf("--dry-run changed the configuration:\n%s\n--- before:\n%s", after, before)
	}

	first := mustCLI(t, server, "apply", "-f", file)
	if !strings.Contains(first, "applied 6 changes (1 unchanged)") {
		t.Errorf("first apply:\n%s", first)
	}
	second := mustCLI(t, server, "apply", "-f", file)
	if !strings.HasPrefix(second, "no changes") {
		t.Errorf("second apply changed something:\n%s", second)
	}

	// An edit made elsewhere shows as a diff and is put back.
	mustCLI(t, server, "schedule", "edit", scheduleID(t, server, "triage-hourly"), "--cron", "30 * * * *")
	drift := mustCLI(t, server, "apply", "-f", file)
	if !strings.Contains(drift, `~ update schedule "triage-hourly": cron_expr "30 * * * *" → "0 * * * *"`) {
		t.Errorf("drift not repaired:\n%s", drift)
	}

	// --prune removes what the file no longer names, in the sections it has
	// (the seeded host "local" stays: the file names it).
	pruned := strings.Replace(sample, "  - name: noop-often\n    task: noop\n    target_host: gpu1\n    schedule_type: interval\n    interval_minutes: 15\n    enabled: false\n", "", 1)
	out := mustCLI(t, server, "apply", "-f", configFile(t, pruned), "--prune")
	if !strings.Contains(out, `- delete schedule "noop-often"`) || strings.Contains(out, "delete worker host") {
		t.Errorf("prune:\n%s", out)
	}
}

// export → apply on a fresh database gives the same configuration.
func TestExportApplyRoundTrip(t *testing.T) {
	t.Parallel()
	src, _ := startAPI(t)
	mustCLI(t, src, "apply", "-f", configFile(t, sample))
	mustCLI(t, src, "schedule", "create", "--name", "made-by-hand", "--task", "noop", "--type", "interval", "--interval", "5", "--max-global", "2")
	exported := mustCLI(t, src, "export")

	dst, _ := startAPI(t)
	mustCLI(t, dst, "apply", "-f", configFile(t, exported))
	again := mustCLI(t, dst, "export")
	if body(again) != body(exported) {
		t.Fatalf("round trip differs:\n%s\n--- source:\n%s", again, exported)
	}
	if out := mustCLI(t, dst, "apply", "-f", configFile(t, exported)); !strings.HasPrefix(out, "no changes") {
		t.Errorf("second apply of the export:\n%s", out)
	}
}

// body drops the export's header (it names the server).
func body(export string) string {
	var keep []string
	for _, l := range strings.Split(export, "\n") {
		if !strings.HasPrefix(l, "#") {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}

func scheduleID(t *testing.T, server, name string) string {
	t.Helper()
	for _, line := range strings.Split(mustCLI(t, server, "schedules"), "\n") {
		if f := strings.Fields(line); len(f) > 1 && f[1] == name {
			return f[0]
		}
	}
	t.Fatalf("no schedule %q", name)
	return ""
}
