package main

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/cyberbrain/cyberbrain/pkg/client"
)

// launch --wait on a noop run prints each job change, then the report, and
// exits 0.
func TestLaunchWaitCompletedRun(t *testing.T) {
	t.Parallel()
	server, st := startAPI(t)
	startScheduler(t, st)
	mustCLI(t, server, "apply", "-f", configFile(t, "tasks:\n  - key: noop\n    enabled: true\n"))

	code, stdout, stderr := cli(t, server, "launch", "--tasks", "noop", "--wait")
	if code != 0 {
		t.Fatalf("exit %d, want 0:\n%s%s", code, stdout, stderr)
	}
	m := regexp.MustCompile(`run (\d+) launched: noop`).FindStringSubmatch(stdout)
	if m == nil {
		t.Fatalf("no launch line:\n%s", stdout)
	}
	if !regexp.MustCompile(`job \d+ noop: completed`).MatchString(stdout) || !strings.Contains(stdout, "run "+m[1]+": completed") {
		t.Errorf("no completed job and run lines:\n%s", stdout)
	}
	cl, _ := client.New(server, "")
	id, _ := parseID(m[1], "run")
	rep, err := cl.Report(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if rep.ReportMarkdown == "" || !strings.HasSuffix(strings.TrimSpace(stdout), strings.TrimSpace(rep.ReportMarkdown)) {
		t.Errorf("the output does not end with the run's report:\n%s\n--- report:\n%s", stdout, rep.ReportMarkdown)
	}

	// The same run read back: run, report --format json, runs --status.
	if out := mustCLI(t, server, "run", m[1]); !strings.Contains(out, "completed") {
		t.Errorf("run %s:\n%s", m[1], out)
	}
	if out := mustCLI(t, server, "report", m[1], "--format", "json"); !strings.HasPrefix(out, "{") {
		t.Errorf("report --format json:\n%s", out)
	}
	if out := mustCLI(t, server, "-o", "json", "runs", "--status", "completed"); !strings.Contains(out, `"id": `+m[1]) {
		t.Errorf("runs --status completed -o json:\n%s", out)
	}
}

// A run whose job fails exits non-zero, saying so.
func TestLaunchWaitFailedRun(t *testing.T) {
	t.Parallel()
	server, st := startAPI(t)
	startScheduler(t, st)
	// A task definition the replica has no implementation of: its job fails.
	mustCLI(t, server, "apply", "-f", configFile(t,
		"tasks:\n  - key: broken\n    enabled: true\n    needs_docker: false\n    max_attempts: 1\n"))

	code, stdout, stderr := cli(t, server, "launch", "--tasks", "broken", "--wait")
	if code == 0 {
		t.Fatalf("exit 0 for a failed run:\n%s%s", stdout, stderr)
	}
	if !regexp.MustCompile(`run \d+ failed`).MatchString(stderr) || !regexp.MustCompile(`job \d+ broken: failed`).MatchString(stdout) {
		t.Errorf("the failure is not said:\n%s\n--- stderr:\n%s", stdout, stderr)
	}
}

// The API's answers reach the user: field errors, unknown ids, bad input.
func TestErrorsAreClear(t *testing.T) {
	t.Parallel()
	server, _ := startAPI(t)
	code, _, stderr := cli(t, server, "schedule", "create", "--name", "x", "--task", "noop", "--type", "cron", "--cron", "61 * * * *")
	if code != 1 || !strings.Contains(stderr, "400 invalid schedule") || !strings.Contains(stderr, "cron_expr:") {
		t.Errorf("invalid cron: exit %d\n%s", code, stderr)
	}
	if code, _, stderr := cli(t, server, "run", "999"); code != 1 || !strings.Contains(stderr, "404") {
		t.Errorf("unknown run: exit %d\n%s", code, stderr)
	}
	if code, _, stderr := cli(t, server, "run", "abc"); code != 1 || !strings.Contains(stderr, "want a positive number") {
		t.Errorf("bad id: exit %d\n%s", code, stderr)
	}
	if code, _, stderr := cli(t, "http://127.0.0.1:1", "runs"); code != 1 || !strings.Contains(stderr, "cannot reach the API") {
		t.Errorf("no API: exit %d\n%s", code, stderr)
	}
}
