package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/cyberbrain/cyberbrain/pkg/api"
	"github.com/cyberbrain/cyberbrain/pkg/domain"
	"github.com/cyberbrain/cyberbrain/pkg/store"
	"github.com/cyberbrain/cyberbrain/pkg/testenv"
	"github.com/cyberbrain/cyberbrain/pkg/version"
)

// startAPIWith is startAPI with the API's configuration adjusted.
func startAPIWith(t *testing.T, mod func(*api.Config)) (string, *store.Store) {
	t.Helper()
	st := testenv.NewStore(t)
	cfg := api.Config{Store: st}
	mod(&cfg)
	srv, err := api.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	return hs.URL, st
}

// sqlExec runs a fixture statement on st's database.
func sqlExec(t *testing.T, st *store.Store, query string, args ...any) {
	t.Helper()
	if err := testenv.SQL(t, st).Exec(query, args...).Error; err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

// jsonOut parses a command's -o json output into v.
func jsonOut(t *testing.T, out string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(out), v); err != nil {
		t.Fatalf("not JSON (%v):\n%s", err, out)
	}
}

// tableRows splits a table into its header and rows of whitespace-separated
// cells (cells with spaces are split too; tests look at the first ones).
func tableRows(t *testing.T, out string) (header string, rows [][]string) {
	t.Helper()
	ls := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(ls) == 0 {
		t.Fatalf("no table:\n%s", out)
	}
	for _, l := range ls[1:] {
		rows = append(rows, strings.Fields(l))
	}
	return strings.Join(strings.Fields(ls[0]), " "), rows
}

// launchAPI launches a run of tasks through the CLI and returns its id.
func launchRun(t *testing.T, server string, tasks string) string {
	t.Helper()
	out := mustCLI(t, server, "launch", "--tasks", tasks)
	m := regexp.MustCompile(`^run (\d+) launched: `).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("launch output %q", out)
	}
	return m[1]
}

func TestVersionCommand(t *testing.T) {
	t.Parallel()
	code, out, errOut := cli(t, "http://127.0.0.1:1", "version")
	if code != 0 || out != "cyberbrain "+version.String()+"\n" || errOut != "" {
		t.Errorf("version: exit %d %q %q", code, out, errOut)
	}
	code, out, _ = cli(t, "http://127.0.0.1:1", "--version")
	if code != 0 || !strings.Contains(out, version.String()) {
		t.Errorf("--version: exit %d %q", code, out)
	}
	if code, _, errOut := cli(t, "", "version", "extra"); code != 1 || !strings.Contains(errOut, "unknown command") && !strings.Contains(errOut, "accepts 0 arg") {
		t.Errorf("version extra: exit %d %q", code, errOut)
	}
}

// completion scripts for every shell, and the values fixed-value flags
// complete to (what the scripts ask the binary for).
func TestCompletion(t *testing.T) {
	t.Parallel()
	for shell, marker := range map[string]string{"bash": "__start_cyberbrain", "zsh": "#compdef cyberbrain",
		"fish": "complete -c cyberbrain", "powershell": "Register-ArgumentCompleter"} {
		code, out, errOut := cli(t, "", "completion", shell)
		if code != 0 || !strings.Contains(out, marker) || errOut != "" {
			t.Errorf("completion %s: exit %d, %d bytes, marker %q missing or stderr %q", shell, code, len(out), marker, errOut)
		}
	}
	// An unknown shell gets the help listing the shells, not a script.
	if _, out, _ := cli(t, "", "completion", "tcsh"); strings.Contains(out, "__start_cyberbrain") || !strings.Contains(out, "powershell") {
		t.Errorf("completion tcsh:\n%s", out)
	}
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"runs", "--status", ""}, runStatuses},
		{[]string{"runs", "-o", ""}, []string{"table", "json"}},
		{[]string{"report", "7", "--format", ""}, []string{"md", "json"}},
		{[]string{"schedule", "create", "--type", ""}, []string{"one_shot", "interval", "cron"}},
		{[]string{"schedule", "edit", "3", "--type", "c"}, []string{"one_shot", "interval", "cron"}},
	} {
		code, out, _ := cli(t, "", append([]string{"__complete"}, tc.args...)...)
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if code != 0 || len(lines) != len(tc.want)+1 || lines[len(lines)-1] != ":4" {
			t.Errorf("complete %v: exit %d\n%s", tc.args, code, out)
			continue
		}
		if got := strings.Join(lines[:len(tc.want)], ","); got != strings.Join(tc.want, ",") {
			t.Errorf("complete %v: %s", tc.args, got)
		}
	}
	// apply -f completes YAML file names.
	_, out, _ := cli(t, "", "__complete", "apply", "-f", "")
	if !strings.Contains(out, "yaml\nyml\n:8") {
		t.Errorf("apply -f completion:\n%s", out)
	}
	// Subcommands complete too.
	_, out, _ = cli(t, "", "__complete", "schedule", "")
	for _, sub := range []string{"create", "edit", "enable", "disable", "run-now", "history", "delete"} {
		if !strings.Contains(out, "\n"+sub+"\t") && !strings.HasPrefix(out, sub+"\t") {
			t.Errorf("schedule subcommand %q not completed:\n%s", sub, out)
		}
	}
}

// Exit 1 for every kind of error, with the reason on stderr and nothing on
// stdout.
func TestUsageErrorsExitOne(t *testing.T) {
	t.Parallel()
	server, _ := startAPI(t)
	for _, args := range [][]string{
		{"frobnicate"},
		{"run"},
		{"run", "0"},
		{"run", "-3"},
		{"cancel", "x"},
		{"-o", "yaml", "runs"},
		{"runs", "--limit", "many"},
		{"apply"},
		{"report", "1", "--format", "html"},
		{"download", "1", "2"},
		{"schedule", "enable"},
	} {
		code, out, errOut := cli(t, server, args...)
		if code != 1 || out != "" || !strings.HasPrefix(errOut, "error: ") {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", args, code, out, errOut)
		}
	}
	_, _, errOut := cli(t, server, "-o", "yaml", "runs")
	if !strings.Contains(errOut, `unknown output format "yaml": table or json`) {
		t.Errorf("-o yaml: %q", errOut)
	}
	_, _, errOut = cli(t, server, "report", "1", "--format", "html")
	if !strings.Contains(errOut, `unknown report format "html"`) {
		t.Errorf("--format html: %q", errOut)
	}
}

// runs lists newest first with --status and --limit; run shows the jobs;
// both as tables and as the API's JSON.
func TestRunsAndRun(t *testing.T) {
	t.Parallel()
	server, st := startAPI(t)
	id1 := launchRun(t, server, "log_triage,service_map")
	ids := testenv.CreateRuns(t, st, domain.RunStatus("failed"), domain.RunStatus("completed"))
	sqlExec(t, st, "UPDATE runs SET error_message = 'engine unreachable' WHERE id = ?", ids[0])

	header, rows := tableRows(t, mustCLI(t, server, "runs"))
	if header != "ID STATUS DIRECTIVE HOST CREATED COMPLETED ERROR" || len(rows) != 3 {
		t.Fatalf("runs:\n%s %v", header, rows)
	}
	if rows[0][0] != fmt.Sprint(ids[1]) || rows[1][0] != fmt.Sprint(ids[0]) || rows[2][0] != id1 || rows[2][1] != "pending" {
		t.Errorf("not newest first: %v", rows)
	}
	if !strings.Contains(strings.Join(rows[1], " "), "engine unreachable") {
		t.Errorf("error column: %v", rows[1])
	}

	_, rows = tableRows(t, mustCLI(t, server, "runs", "--status", "failed"))
	if len(rows) != 1 || rows[0][0] != fmt.Sprint(ids[0]) || rows[0][1] != "failed" {
		t.Errorf("--status failed: %v", rows)
	}
	_, rows = tableRows(t, mustCLI(t, server, "runs", "--limit", "1"))
	if len(rows) != 1 || rows[0][0] != fmt.Sprint(ids[1]) {
		t.Errorf("--limit 1: %v", rows)
	}
	if out := mustCLI(t, server, "runs", "--status", "cancelled"); strings.Count(out, "\n") != 1 {
		t.Errorf("no cancelled runs, still rows:\n%s", out)
	}
	var list []map[string]any
	jsonOut(t, mustCLI(t, server, "-o", "json", "runs", "--status", "pending"), &list)
	if len(list) != 1 || fmt.Sprint(list[0]["id"]) != id1 || list[0]["status"] != "pending" {
		t.Errorf("-o json runs: %v", list)
	}
	if code, _, errOut := cli(t, server, "runs", "--status", "bogus"); code != 1 || !strings.Contains(errOut, "400") {
		t.Errorf("--status bogus: exit %d %s", code, errOut)
	}

	out := mustCLI(t, server, "run", id1)
	if !strings.HasPrefix(out, "run "+id1+": pending (created ") || !strings.Contains(out, "completed -)") {
		t.Errorf("run:\n%s", out)
	}
	tbl := out[strings.Index(out, "JOB"):]
	header, rows = tableRows(t, tbl)
	if header != "JOB TASK STATUS ATTEMPT ERROR" || len(rows) != 2 || rows[0][2] != "pending" {
		t.Errorf("run jobs:\n%s", tbl)
	}
	tasks := rows[0][1] + "," + rows[1][1]
	if tasks != "log_triage,service_map" && tasks != "service_map,log_triage" {
		t.Errorf("job tasks %s", tasks)
	}
	if out := mustCLI(t, server, "run", fmt.Sprint(ids[0])); !strings.Contains(out, "error: engine unreachable\n") {
		t.Errorf("run with an error:\n%s", out)
	}
	var detail struct {
		ID   int64            `json:"id"`
		Jobs []map[string]any `json:"jobs"`
	}
	jsonOut(t, mustCLI(t, server, "-o", "json", "run", id1), &detail)
	if fmt.Sprint(detail.ID) != id1 || len(detail.Jobs) != 2 {
		t.Errorf("-o json run: %+v", detail)
	}
}

// report prints the Markdown or the JSON, and says when there is none yet.
func TestReportCommand(t *testing.T) {
	t.Parallel()
	server, st := startAPI(t)
	id := launchRun(t, server, "log_triage")
	code, out, errOut := cli(t, server, "report", id)
	if code != 1 || out != "" || !strings.Contains(errOut, "run "+id+" has no report yet (status pending)") {
		t.Errorf("report of a pending run: exit %d %q %q", code, out, errOut)
	}
	if code, _, errOut := cli(t, server, "report", id, "--format", "json"); code != 1 || !strings.Contains(errOut, "no report yet") {
		t.Errorf("json report of a pending run: exit %d %q", code, errOut)
	}
	sqlExec(t, st, `UPDATE runs SET report_markdown = ?, report_json = ? WHERE id = ?`,
		"# Report\n\n| a | b |\n", `{"findings":[{"severity":"high"}],"n":2}`, id)
	if out := mustCLI(t, server, "report", id); out != "# Report\n\n| a | b |\n\n" {
		t.Errorf("report md: %q", out)
	}
	if out := mustCLI(t, server, "report", id, "--format", "md"); !strings.HasPrefix(out, "# Report") {
		t.Errorf("--format md: %q", out)
	}
	out = mustCLI(t, server, "report", id, "--format", "json")
	var rep struct {
		Findings []map[string]string `json:"findings"`
		N        int                 `json:"n"`
	}
	jsonOut(t, out, &rep)
	if rep.N != 2 || len(rep.Findings) != 1 || rep.Findings[0]["severity"] != "high" || !strings.Contains(out, "\n  ") {
		t.Errorf("report json (indented): %s", out)
	}
	if code, _, errOut := cli(t, server, "report", "999"); code != 1 || !strings.Contains(errOut, "404") {
		t.Errorf("report 999: exit %d %q", code, errOut)
	}
}

// cancel says so; a second cancel is the API's 409; -o json prints the run.
func TestCancelCommand(t *testing.T) {
	t.Parallel()
	server, _ := startAPI(t)
	id := launchRun(t, server, "log_triage")
	if out := mustCLI(t, server, "cancel", id); out != "run "+id+" cancelled\n" {
		t.Errorf("cancel: %q", out)
	}
	code, out, errOut := cli(t, server, "cancel", id)
	if code != 1 || out != "" || !strings.Contains(errOut, "error: POST /api/runs/"+id+"/cancel/: 409 ") {
		t.Errorf("second cancel: exit %d %q %q", code, out, errOut)
	}
	if _, rows := tableRows(t, mustCLI(t, server, "runs", "--status", "cancelled")); len(rows) != 1 || rows[0][0] != id {
		t.Errorf("cancelled runs: %v", rows)
	}
	id2 := launchRun(t, server, "log_triage")
	var r map[string]any
	jsonOut(t, mustCLI(t, server, "-o", "json", "cancel", id2), &r)
	if fmt.Sprint(r["id"]) != id2 || r["status"] != "cancelled" {
		t.Errorf("-o json cancel: %v", r)
	}
	if code, _, errOut := cli(t, server, "cancel", "999"); code != 1 || !strings.Contains(errOut, "404") {
		t.Errorf("cancel 999: exit %d %q", code, errOut)
	}
}

// launch without --wait: one line, or with -o json the run as JSON on
// stdout and the line on stderr.
func TestLaunchNoWait(t *testing.T) {
	t.Parallel()
	server, _ := startAPI(t)
	code, out, errOut := cli(t, server, "launch", "--tasks", "log_triage")
	if code != 0 || !regexp.MustCompile(`^run \d+ launched: log_triage\n$`).MatchString(out) || errOut != "" {
		t.Errorf("launch: exit %d %q %q", code, out, errOut)
	}
	code, out, errOut = cli(t, server, "-o", "json", "launch", "--tasks", "log_triage,service_map")
	var r struct {
		ID     int64            `json:"id"`
		Status string           `json:"status"`
		Jobs   []map[string]any `json:"jobs"`
	}
	jsonOut(t, out, &r)
	if code != 0 || r.Status != "pending" || len(r.Jobs) != 2 || errOut != fmt.Sprintf("run %d launched: log_triage, service_map\n", r.ID) {
		t.Errorf("-o json launch: exit %d %+v %q", code, r, errOut)
	}
	if code, _, errOut := cli(t, server, "launch", "--tasks", "nope"); code != 1 || !strings.Contains(errOut, "400") {
		t.Errorf("unknown task: exit %d %q", code, errOut)
	}
	if code, _, errOut := cli(t, server, "launch", "--tasks", "log_triage", "--directive", "999"); code != 1 || !strings.Contains(errOut, "error: POST /api/runs/launch/") {
		t.Errorf("unknown directive: exit %d %q", code, errOut)
	}
}

// A failed run under launch --wait is exit 2 (a bad outcome, not an
// error); with -o json, stdout holds only JSON and progress goes to stderr.
func TestLaunchWaitFailedExitsTwo(t *testing.T) {
	t.Parallel()
	server, st := startAPI(t)
	startScheduler(t, st)
	mustCLI(t, server, "apply", "-f", configFile(t, "tasks:\n  - key: broken\n    enabled: true\n    needs_docker: false\n    max_attempts: 1\n"))
	code, out, errOut := cli(t, server, "-o", "json", "launch", "--tasks", "broken", "--wait", "--poll-max", "100ms")
	if code != exitOutcome {
		t.Fatalf("exit %d, want 2:\n%s\n%s", code, out, errOut)
	}
	if strings.TrimSpace(out) != "" {
		var v any
		jsonOut(t, out, &v)
	}
	if !regexp.MustCompile(`run \d+ launched: broken\n`).MatchString(errOut) || !regexp.MustCompile(`job \d+ broken: failed`).MatchString(errOut) ||
		!regexp.MustCompile(`error: run \d+ failed`).MatchString(errOut) {
		t.Errorf("stderr:\n%s", errOut)
	}
}

// checker answers host health by name: local is healthy, sick is not,
// anything else cannot be reached.
type checker struct{}

func (checker) Health(_ context.Context, h store.WorkerHost) (store.HostHealth, error) {
	switch h.Name {
	case "local":
		return store.HostHealth{Healthy: true, EngineVersion: "27.1.0"}, nil
	case "sick":
		return store.HostHealth{Healthy: false, EngineVersion: "20.10.0", Error: "disk full"}, nil
	}
	return store.HostHealth{}, errors.New("dial tcp 10.9.9.9:2376: connection refused")
}

// hosts and host check: exit 0 healthy, 2 unhealthy, 1 when the check
// itself is refused; the results show in hosts.
func TestHostsAndHostCheck(t *testing.T) {
	t.Parallel()
	server, _ := startAPIWith(t, func(c *api.Config) { c.HostChecker = checker{} })
	mustCLI(t, server, "apply", "-f", configFile(t, `worker_hosts:
  - name: local
    capabilities: {labels: [local]}
  - name: sick
    type: docker_tcp
    base_url: tcp://10.9.9.8:2376
  - name: gone
    type: docker_tcp
    base_url: tcp://10.9.9.9:2376
    enabled: false
`))
	header, rows := tableRows(t, mustCLI(t, server, "hosts"))
	if header != "ID NAME TYPE BASE URL ENABLED HEALTH CHECKED ENGINE ERROR" || len(rows) != 3 {
		t.Fatalf("hosts:\n%s %v", header, rows)
	}
	ids := map[string]string{}
	for _, r := range rows {
		ids[r[1]] = r[0]
	}
	if rows[0][1] != "local" || !strings.Contains(strings.Join(rows[0], " "), "unknown") ||
		!strings.Contains(strings.Join(rows[2], " "), "tcp://10.9.9.9:2376 no unknown") {
		t.Errorf("hosts before checks: %v", rows)
	}

	code, out, errOut := cli(t, server, "host", "check", ids["local"])
	if code != 0 || out != fmt.Sprintf("worker host %s \"local\": healthy (engine 27.1.0)\n", ids["local"]) || errOut != "" {
		t.Errorf("check local: exit %d %q %q", code, out, errOut)
	}
	code, out, errOut = cli(t, server, "host", "check", ids["sick"])
	if code != exitOutcome || !strings.Contains(out, `"sick": unhealthy (engine 20.10.0)`) ||
		errOut != "error: worker host \"sick\" is unhealthy: disk full\n" {
		t.Errorf("check sick: exit %d %q %q", code, out, errOut)
	}
	code, out, errOut = cli(t, server, "-o", "json", "host", "check", ids["gone"])
	var h map[string]any
	jsonOut(t, out, &h)
	// The API answers the error's class; the raw dial error stays in its log.
	if code != exitOutcome || h["healthy"] != false || h["checked"] != true || h["last_error"] != "engine unreachable" ||
		!strings.Contains(errOut, "engine unreachable") {
		t.Errorf("check gone -o json: exit %d %v %q", code, h, errOut)
	}
	if code, _, errOut := cli(t, server, "host", "check", "999"); code != 1 || !strings.Contains(errOut, "404") {
		t.Errorf("check 999: exit %d %q", code, errOut)
	}

	_, rows = tableRows(t, mustCLI(t, server, "hosts"))
	joined := []string{strings.Join(rows[0], " "), strings.Join(rows[1], " "), strings.Join(rows[2], " ")}
	if !strings.Contains(joined[0], "yes healthy") || !strings.Contains(joined[0], "27.1.0") ||
		!strings.Contains(joined[1], "unhealthy") || !strings.Contains(joined[1], "disk full") || !strings.Contains(joined[1], "20.10.0") ||
		!strings.Contains(joined[2], "no unhealthy") {
		t.Errorf("hosts after checks:\n%s", strings.Join(joined, "\n"))
	}
	var list []map[string]any
	jsonOut(t, mustCLI(t, server, "-o", "json", "hosts"), &list)
	if len(list) != 3 || list[1]["name"] != "sick" || list[1]["healthy"] != false || list[0]["healthy"] != true {
		t.Errorf("-o json hosts: %v", list)
	}

	// Without a checker the API answers 503: an error, not a bad outcome.
	plain, _ := startAPI(t)
	if code, _, errOut := cli(t, plain, "host", "check", "1"); code != 1 || !strings.Contains(errOut, "503") {
		t.Errorf("no checker: exit %d %q", code, errOut)
	}
}

// artifacts lists; download writes the exact bytes to the API's name (base
// name only, never overwriting), to -f FILE (overwriting), or to stdout.
func TestArtifactsAndDownload(t *testing.T) {
	server, st := startAPI(t)
	id := launchRun(t, server, "log_triage")
	content := []byte("line one\n\x00\xff binary tail")
	sqlExec(t, st, `INSERT INTO artifacts (run_id, name, content_type, size, content) VALUES (?, 'triage.md', 'text/markdown', ?, ?),
		(?, '../../escape.txt', 'text/plain', 3, 'bad')`, id, len(content), content, id)

	header, rows := tableRows(t, mustCLI(t, server, "artifacts", id))
	if header != "ID NAME TYPE SIZE JOB CREATED" || len(rows) != 2 || rows[0][1] != "triage.md" || rows[0][2] != "text/markdown" ||
		rows[0][3] != strconv.Itoa(len(content)) || rows[0][4] != "-" {
		t.Fatalf("artifacts:\n%s %v", header, rows)
	}
	art, evil := rows[0][0], rows[1][0]
	var list []map[string]any
	jsonOut(t, mustCLI(t, server, "-o", "json", "artifacts", id), &list)
	if len(list) != 2 || list[0]["name"] != "triage.md" || list[0]["size"] != float64(len(content)) {
		t.Errorf("-o json artifacts: %v", list)
	}
	other := launchRun(t, server, "log_triage")
	if out := mustCLI(t, server, "-o", "json", "artifacts", other); strings.TrimSpace(out) != "[]" {
		t.Errorf("no artifacts: %q", out)
	}
	if code, _, errOut := cli(t, server, "artifacts", "999"); code != 1 || !strings.Contains(errOut, "404") {
		t.Errorf("artifacts 999: exit %d %q", code, errOut)
	}

	dir := t.TempDir()
	t.Chdir(dir)
	code, out, errOut := cli(t, server, "download", art)
	if code != 0 || out != "" || errOut != fmt.Sprintf("wrote triage.md (%d bytes)\n", len(content)) {
		t.Errorf("download: exit %d %q %q", code, out, errOut)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "triage.md")); err != nil || string(b) != string(content) {
		t.Errorf("triage.md: %q %v", b, err)
	}
	// The server's name never replaces a file.
	if err := os.WriteFile("triage.md", []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errOut = cli(t, server, "download", art)
	if code != 1 || !strings.Contains(errOut, "triage.md exists: choose another name with -f") {
		t.Errorf("second download: exit %d %q", code, errOut)
	}
	if b, _ := os.ReadFile("triage.md"); string(b) != "mine" {
		t.Errorf("overwritten: %q", b)
	}
	// -f names the file and replaces it.
	target := filepath.Join(dir, "copy.bin")
	for range 2 {
		if code, _, errOut := cli(t, server, "download", art, "-f", target); code != 0 || !strings.Contains(errOut, "wrote "+target) {
			t.Errorf("-f: exit %d %q", code, errOut)
		}
	}
	if b, _ := os.ReadFile(target); string(b) != string(content) {
		t.Errorf("-f file: %q", b)
	}
	// -f - is stdout, the bytes as they are.
	if code, out, errOut := cli(t, server, "download", art, "-f", "-"); code != 0 || out != string(content) || errOut != "" {
		t.Errorf("-f -: exit %d %q %q", code, out, errOut)
	}
	// A name with a path is written here under its base name.
	if code, _, errOut := cli(t, server, "download", evil); code != 0 || errOut != "wrote escape.txt (3 bytes)\n" {
		t.Errorf("path in name: exit %d %q", code, errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, "..", "..", "escape.txt")); err == nil {
		t.Error("written outside the folder")
	}
	if b, _ := os.ReadFile("escape.txt"); string(b) != "bad" {
		t.Errorf("escape.txt: %q", b)
	}
	// An unknown artifact writes nothing.
	entries, _ := os.ReadDir(dir)
	if code, _, errOut := cli(t, server, "download", "999"); code != 1 || !strings.Contains(errOut, "404") {
		t.Errorf("download 999: exit %d %q", code, errOut)
	}
	if after, _ := os.ReadDir(dir); len(after) != len(entries) {
		t.Errorf("files after a failed download: %d → %d", len(entries), len(after))
	}
	if code, _, errOut := cli(t, server, "download", art, "-f", filepath.Join(dir, "no", "such", "dir")); code != 1 || !strings.Contains(errOut, "create ") {
		t.Errorf("download into a missing folder: exit %d %q", code, errOut)
	}
}

// The schedule commands from create to delete, tables and JSON.
func TestScheduleLifecycle(t *testing.T) {
	t.Parallel()
	server, _ := startAPI(t)
	out := mustCLI(t, server, "schedule", "create", "--name", "often", "--task", "log_triage", "--type", "interval", "--interval", "15")
	header, rows := tableRows(t, out)
	if header != "ID NAME TASK WHEN ENABLED NEXT RUN" || len(rows) != 1 || rows[0][1] != "often" || rows[0][2] != "log_triage" ||
		rows[0][3] != "every" || rows[0][4] != "15m" || rows[0][5] != "yes" {
		t.Fatalf("create:\n%s", out)
	}
	often := rows[0][0]

	var s map[string]any
	jsonOut(t, mustCLI(t, server, "-o", "json", "schedule", "create", "--name", "berlin", "--task", "log_triage", "--type", "cron",
		"--cron", "0 3 * * *", "--timezone", "Europe/Berlin", "--max-global", "2", "--text", "look at nginx", "--enabled=false"), &s)
	if s["cron_expr"] != "0 3 * * *" || s["timezone"] != "Europe/Berlin" || s["max_global"] != 2.0 || s["max_per_job"] != nil ||
		s["enabled"] != false || s["custom_directive_text"] != "look at nginx" || s["interval_minutes"] != nil {
		t.Fatalf("create -o json: %v", s)
	}
	berlin := fmt.Sprint(s["id"])

	// edit sends only the flags given.
	jsonOut(t, mustCLI(t, server, "-o", "json", "schedule", "edit", berlin, "--cron", "30 4 * * 1"), &s)
	if s["cron_expr"] != "30 4 * * 1" || s["timezone"] != "Europe/Berlin" || s["max_global"] != 2.0 || s["enabled"] != false ||
		s["custom_directive_text"] != "look at nginx" {
		t.Errorf("edit --cron: %v", s)
	}
	jsonOut(t, mustCLI(t, server, "-o", "json", "schedule", "edit", berlin, "--max-global", "0", "--text", ""), &s)
	if s["max_global"] != nil || s["custom_directive_text"] != "" || s["cron_expr"] != "30 4 * * 1" {
		t.Errorf("edit to null: %v", s)
	}
	if out := mustCLI(t, server, "schedule", "edit", often, "--type", "cron", "--cron", "@daily"); !strings.Contains(out, `cron "@daily" UTC`) {
		t.Errorf("edit to cron:\n%s", out)
	}
	if code, _, errOut := cli(t, server, "schedule", "edit", often); code != 1 || !strings.Contains(errOut, "nothing to change") {
		t.Errorf("edit without flags: exit %d %q", code, errOut)
	}
	if code, _, errOut := cli(t, server, "schedule", "edit", often, "--timezone", "Mars/Olympus"); code != 1 || !strings.Contains(errOut, "timezone:") {
		t.Errorf("bad timezone: exit %d %q", code, errOut)
	}
	if code, _, errOut := cli(t, server, "schedule", "create", "--name", "often", "--task", "log_triage", "--type", "one_shot"); code != 1 || !strings.Contains(errOut, "error: POST /api/schedules/: 4") {
		t.Errorf("duplicate name: exit %d %q", code, errOut)
	}

	// enable / disable answer the schedule.
	_, rows = tableRows(t, mustCLI(t, server, "schedule", "enable", berlin))
	if rows[0][0] != berlin || !strings.Contains(strings.Join(rows[0], " "), `Europe/Berlin yes`) {
		t.Errorf("enable: %v", rows)
	}
	_, rows = tableRows(t, mustCLI(t, server, "schedule", "disable", often))
	if !strings.Contains(strings.Join(rows[0], " "), "UTC no") {
		t.Errorf("disable: %v", rows)
	}
	jsonOut(t, mustCLI(t, server, "-o", "json", "schedule", "enable", often), &s)
	if s["enabled"] != true || fmt.Sprint(s["id"]) != often {
		t.Errorf("enable -o json: %v", s)
	}

	// run-now creates a run; history shows it.
	out = mustCLI(t, server, "schedule", "run-now", often)
	m := regexp.MustCompile(`^run (\d+) created \(cyberbrain run (\d+)\)\n$`).FindStringSubmatch(out)
	if m == nil || m[1] != m[2] {
		t.Fatalf("run-now: %q", out)
	}
	var rn map[string]any
	jsonOut(t, mustCLI(t, server, "-o", "json", "schedule", "run-now", often), &rn)
	if rn["run_id"] == nil || fmt.Sprint(rn["run_id"]) == m[1] {
		t.Errorf("run-now -o json: %v", rn)
	}
	header, rows = tableRows(t, mustCLI(t, server, "schedule", "history", often))
	if header != "SLOT RUN STATUS SCHEDULED FOR FINISHED ERROR" || len(rows) != 2 || rows[1][1] != m[1] || rows[0][1] != fmt.Sprint(rn["run_id"]) {
		t.Errorf("history:\n%s %v", header, rows)
	}
	if _, rows := tableRows(t, mustCLI(t, server, "schedule", "history", often, "--limit", "1")); len(rows) != 1 {
		t.Errorf("history --limit 1: %v", rows)
	}
	var hist []map[string]any
	jsonOut(t, mustCLI(t, server, "-o", "json", "schedule", "history", often), &hist)
	if len(hist) != 2 || fmt.Sprint(hist[1]["run_id"]) != m[1] {
		t.Errorf("history -o json: %v", hist)
	}
	if out := mustCLI(t, server, "-o", "json", "schedule", "history", berlin); strings.TrimSpace(out) != "[]" {
		t.Errorf("empty history: %q", out)
	}
	if out := mustCLI(t, server, "run", m[1]); !strings.Contains(out, "log_triage") {
		t.Errorf("the run-now run:\n%s", out)
	}

	// schedules lists them; launch-run-… ones only with --all.
	launchRun(t, server, "log_triage")
	_, rows = tableRows(t, mustCLI(t, server, "schedules"))
	if len(rows) != 2 || rows[0][1] != "often" || rows[1][1] != "berlin" {
		t.Errorf("schedules: %v", rows)
	}
	_, rows = tableRows(t, mustCLI(t, server, "schedules", "--all"))
	if len(rows) != 3 || !strings.HasPrefix(rows[2][1], "launch-run-") {
		t.Errorf("schedules --all: %v", rows)
	}
	var list []map[string]any
	jsonOut(t, mustCLI(t, server, "-o", "json", "schedules"), &list)
	if len(list) != 2 {
		t.Errorf("-o json schedules: %v", list)
	}

	// delete: refused with history (409), done without.
	code, _, errOut := cli(t, server, "schedule", "delete", often)
	if code != 1 || !strings.Contains(errOut, "error: DELETE /api/schedules/"+often+"/: 409 ") {
		t.Errorf("delete with history: exit %d %q", code, errOut)
	}
	if out := mustCLI(t, server, "schedule", "delete", berlin); out != "schedule "+berlin+" deleted\n" {
		t.Errorf("delete: %q", out)
	}
	if code, _, errOut := cli(t, server, "schedule", "delete", berlin); code != 1 || !strings.Contains(errOut, "404") {
		t.Errorf("second delete: exit %d %q", code, errOut)
	}
	for _, verb := range []string{"enable", "disable", "run-now", "history"} {
		if code, _, errOut := cli(t, server, "schedule", verb, "999"); code != 1 || !strings.Contains(errOut, "404") {
			t.Errorf("%s 999: exit %d %q", verb, code, errOut)
		}
	}
}

// An empty installation prints bare headers, or [] in JSON.
func TestEmptyLists(t *testing.T) {
	t.Parallel()
	server, _ := startAPI(t)
	for _, cmd := range []string{"runs", "schedules"} {
		if out := mustCLI(t, server, cmd); strings.Count(out, "\n") != 1 {
			t.Errorf("%s on nothing:\n%s", cmd, out)
		}
		if out := mustCLI(t, server, "-o", "json", cmd); strings.TrimSpace(out) != "[]" {
			t.Errorf("%s -o json on nothing: %q", cmd, out)
		}
	}
}
