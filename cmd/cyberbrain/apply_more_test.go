package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cyberbrain/cyberbrain/pkg/store"
	"github.com/cyberbrain/cyberbrain/pkg/testenv"
)

// configRows counts the rows of every table apply could touch.
func configRows(t *testing.T, st *store.Store) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	for _, tbl := range []string{"worker_hosts", "directives", "task_definitions", "schedules", "container_allowlist", "runs"} {
		var n int64
		if err := testenv.SQL(t, st).Raw("SELECT count(*) FROM " + tbl).Scan(&n).Error; err != nil {
			t.Fatal(err)
		}
		out[tbl] = n
	}
	return out
}

func sameCounts(a, b map[string]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// --dry-run prints the plan under its heading and writes no row, --prune
// included; the real apply then counts what it did.
func TestApplyDryRunWritesNothing(t *testing.T) {
	t.Parallel()
	server, st := startAPI(t)
	mustCLI(t, server, "schedule", "create", "--name", "by-hand", "--task", "log_triage", "--type", "interval", "--interval", "5")
	before := configRows(t, st)
	var updatedAt string
	if err := testenv.SQL(t, st).Raw("SELECT max(updated_at)::text FROM task_definitions").Scan(&updatedAt).Error; err != nil {
		t.Fatal(err)
	}
	file := configFile(t, sample+"\n")
	out := mustCLI(t, server, "apply", "-f", file, "--dry-run", "--prune")
	if !strings.HasPrefix(out, "plan (dry run, nothing changed):\n") || !strings.Contains(out, `- delete schedule "by-hand"`) ||
		!strings.HasSuffix(out, "7 to change, 1 unchanged\n") {
		t.Errorf("dry run:\n%s", out)
	}
	if after := configRows(t, st); !sameCounts(before, after) {
		t.Errorf("--dry-run wrote rows: %v → %v", before, after)
	}
	var updatedAfter string
	if err := testenv.SQL(t, st).Raw("SELECT max(updated_at)::text FROM task_definitions").Scan(&updatedAfter).Error; err != nil {
		t.Fatal(err)
	}
	if updatedAfter != updatedAt {
		t.Errorf("--dry-run updated a task definition: %s → %s", updatedAt, updatedAfter)
	}
	out = mustCLI(t, server, "apply", "-f", file, "--prune")
	if !strings.HasSuffix(out, "applied 7 changes (1 unchanged)\n") || !strings.Contains(out, `- delete schedule "by-hand"`) {
		t.Errorf("apply --prune:\n%s", out)
	}
	after := configRows(t, st)
	if after["schedules"] != before["schedules"]+1 || after["directives"] != before["directives"]+1 || after["container_allowlist"] != 1 {
		t.Errorf("rows after apply: %v → %v", before, after)
	}
	if out := mustCLI(t, server, "apply", "-f", file, "--dry-run"); !strings.HasPrefix(out, "no changes: the system already matches the file") {
		t.Errorf("dry run after apply:\n%s", out)
	}
}

// Bad files and refused changes exit 1 and say where.
func TestApplyErrors(t *testing.T) {
	t.Parallel()
	server, st := startAPI(t)
	missing := filepath.Join(t.TempDir(), "nope.yaml")
	if code, _, errOut := cli(t, server, "apply", "-f", missing); code != 1 || !strings.Contains(errOut, "open configuration") {
		t.Errorf("missing file: exit %d %q", code, errOut)
	}
	bad := configFile(t, "schedules:\n  - name: a\n    cron: x\n")
	code, out, errOut := cli(t, server, "apply", "-f", bad)
	if code != 1 || out != "" || !strings.HasPrefix(errOut, "error: "+bad+": invalid configuration:\n  schedules[0]: unknown field \"cron\"") {
		t.Errorf("invalid file: exit %d %q %q", code, out, errOut)
	}
	syntax := configFile(t, "directives:\n  - name: a\n  - name: @b\n")
	if code, _, errOut := cli(t, server, "apply", "-f", syntax); code != 1 || !strings.Contains(errOut, "line 3") {
		t.Errorf("syntax error: exit %d %q", code, errOut)
	}

	before := configRows(t, st)
	half := configFile(t, `directives:
  - name: fine
schedules:
  - name: broken
    task: log_triage
    schedule_type: cron
    cron_expr: "61 * * * *"
`)
	code, out, errOut = cli(t, server, "apply", "-f", half)
	if code != 1 || out != "+ create directive \"fine\"\n" ||
		!strings.HasPrefix(errOut, "error: after 1 of 2 changes: create schedule \"broken\": POST /api/schedules/: 400 ") ||
		!strings.Contains(errOut, "\n  cron_expr: ") {
		t.Errorf("refused change: exit %d %q %q", code, out, errOut)
	}
	if after := configRows(t, st); after["directives"] != before["directives"]+1 || after["schedules"] != before["schedules"] {
		t.Errorf("rows: %v → %v", before, after)
	}
	// Fixed, the next apply continues from there.
	fixed := configFile(t, strings.Replace(mustRead(t, half), "61 * * * *", "1 * * * *", 1))
	if out := mustCLI(t, server, "apply", "-f", fixed); out != "+ create schedule \"broken\"\napplied 1 changes (1 unchanged)\n" {
		t.Errorf("continued apply: %q", out)
	}
}

// export -f writes the same text as export to stdout; the file applies back
// as no change.
func TestExportToFile(t *testing.T) {
	t.Parallel()
	server, _ := startAPI(t)
	mustCLI(t, server, "apply", "-f", configFile(t, sample))
	stdout := mustCLI(t, server, "export")
	path := filepath.Join(t.TempDir(), "out.yaml")
	if out := mustCLI(t, server, "export", "-f", path); out != "" {
		t.Errorf("export -f printed %q", out)
	}
	if got := mustRead(t, path); got != stdout {
		t.Errorf("file differs from stdout:\n%s\n---\n%s", got, stdout)
	}
	if !strings.HasPrefix(stdout, "# cyberbrain configuration exported from "+server+".\n") {
		t.Errorf("header: %q", strings.SplitN(stdout, "\n", 2)[0])
	}
	if out := mustCLI(t, server, "apply", "-f", path, "--prune"); !strings.HasPrefix(out, "no changes") {
		t.Errorf("apply of the export:\n%s", out)
	}
	if code, _, errOut := cli(t, server, "export", "-f", filepath.Join(t.TempDir(), "no", "dir", "x.yaml")); code != 1 || !strings.Contains(errOut, "write ") {
		t.Errorf("export to a missing folder: exit %d %q", code, errOut)
	}
	if code, _, errOut := cli(t, "http://127.0.0.1:1", "export"); code != 1 || !strings.Contains(errOut, "cannot reach the API") {
		t.Errorf("export without an API: exit %d %q", code, errOut)
	}
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
