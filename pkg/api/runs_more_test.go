package api

import (
	"fmt"
	"mime"
	"net/url"
	"strings"
	"testing"
)

// TestLaunchSnapshotAndConfig: a run keeps the directive as it was at launch,
// and each job's config is its task's default_config overlaid with the
// directive's task_config entry for that task; max_attempts and timeout come
// from the definition.
func TestLaunchSnapshotAndConfig(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.must(200, "PATCH", "/api/tasks/1/", `{"default_config":{"tail":500,"since":"1h"},"max_attempts":5,"timeout_seconds":77}`)
	d := e.must(201, "POST", "/api/directives/", `{"name":"nightly","description":"v1","task_config":{"log_triage":{"tail":10,"grep":"ERROR"},"service_map":{"depth":2}}}`).json(t)
	run := e.must(201, "POST", "/api/runs/launch/", fmt.Sprintf(`{"directive_id":%v,"tasks":["log_triage","service_map","gpu_report"]}`, d["id"])).json(t)
	jobs := listAt(t, run, "jobs")
	want := []struct {
		task, config      string
		attempts, timeout int64
	}{
		{"log_triage", "map[grep:ERROR since:1h tail:10]", 5, 77},
		{"service_map", "map[depth:2]", 3, 300},
		{"gpu_report", "map[]", 3, 300},
	}
	if len(jobs) != len(want) {
		t.Fatalf("jobs: %v", jobs)
	}
	for i, w := range want {
		j := jobs[i]
		if j["task_type"] != w.task || fmt.Sprint(j["config"]) != w.config || num(t, j["max_attempts"]) != w.attempts ||
			num(t, j["timeout_seconds"]) != w.timeout {
			t.Errorf("job %d: %s config %v attempts %v timeout %v, want %+v", i, j["task_type"], j["config"], j["max_attempts"], j["timeout_seconds"], w)
		}
	}
	// Editing the directive and the task later changes neither the run nor its jobs.
	e.must(200, "PATCH", fmt.Sprintf("/api/directives/%v/", d["id"]), `{"description":"v2","task_config":{}}`)
	e.must(200, "PATCH", "/api/tasks/1/", `{"default_config":{},"max_attempts":1}`)
	again := e.must(200, "GET", fmt.Sprintf("/api/runs/%v/", run["id"]), "").json(t)
	snap := objAt(t, again, "directive_snapshot")
	if snap["description"] != "v1" || snap["name"] != "nightly" || fmt.Sprint(snap["task_config"]) != fmt.Sprint(objAt(t, d, "task_config")) {
		t.Errorf("snapshot after directive edit: %v", snap)
	}
	if j := listAt(t, again, "jobs")[0]; fmt.Sprint(j["config"]) != want[0].config || num(t, j["max_attempts"]) != 5 {
		t.Errorf("job after task edit: %v", j)
	}
	// A later launch sees the edits.
	next := e.must(201, "POST", "/api/runs/launch/", fmt.Sprintf(`{"directive_id":%v,"tasks":["log_triage"]}`, d["id"])).json(t)
	if j := listAt(t, next, "jobs")[0]; fmt.Sprint(j["config"]) != "map[]" || num(t, j["max_attempts"]) != 1 {
		t.Errorf("job of a later launch: %v", j)
	}
	if objAt(t, next, "directive_snapshot")["description"] != "v2" {
		t.Errorf("later snapshot: %v", next["directive_snapshot"])
	}
	e.noServerErrors()
}

// TestLaunchTaskSelection: disabling and adding task definitions through the
// API changes what a launch without tasks runs; a task that needs no Docker
// gets no worker host.
func TestLaunchTaskSelection(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.must(200, "PATCH", "/api/tasks/2/", `{"enabled":false}`) // gpu_report
	e.must(201, "POST", "/api/tasks/", `{"key":"disk_check","needs_docker":false,"max_attempts":2,"timeout_seconds":30}`)
	run := e.must(201, "POST", "/api/runs/launch/", `{}`).json(t)
	var tasks []string
	for _, j := range listAt(t, run, "jobs") {
		tasks = append(tasks, j["task_type"].(string))
	}
	if strings.Join(tasks, ",") != "log_triage,service_map,disk_check" {
		t.Errorf("launch of every enabled task: %v", tasks)
	}
	r := e.must(400, "POST", "/api/runs/launch/", `{"tasks":["gpu_report"]}`)
	if f := fieldErrors(t, r); len(f["tasks"]) == 0 || !strings.Contains(f["tasks"][0], "gpu_report") {
		t.Errorf("launch of a disabled task: %s", r.Body)
	}
	only := e.must(201, "POST", "/api/runs/launch/", `{"tasks":["disk_check"]}`).json(t)
	j := listAt(t, only, "jobs")[0]
	if only["worker_host_id"] != nil || j["worker_host_id"] != nil || num(t, j["max_attempts"]) != 2 || num(t, j["timeout_seconds"]) != 30 {
		t.Errorf("docker-free launch: run host %v, job %v", only["worker_host_id"], j)
	}
	// Every task disabled: nothing to launch, nothing written.
	for _, id := range []int{1, 3, 5} {
		e.must(200, "PATCH", fmt.Sprintf("/api/tasks/%d/", id), `{"enabled":false}`)
	}
	before := e.counts()
	r = e.must(400, "POST", "/api/runs/launch/", `{}`)
	if len(fieldErrors(t, r)["tasks"]) == 0 {
		t.Errorf("launch with no enabled task: %s", r.Body)
	}
	e.sameRows("launch with no enabled task", before)
	e.noServerErrors()
}

// TestCancelFinishedRun: a finished run answers 409 naming its status and
// nothing of it changes.
func TestCancelFinishedRun(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, status := range []string{"completed", "failed", "cancelled"} {
		run := e.must(201, "POST", "/api/runs/launch/", `{"tasks":["log_triage"]}`).json(t)
		id := run["id"]
		e.exec(`UPDATE jobs SET status = ?, completed_at = now() WHERE run_id = ?`, status, id)
		e.exec(`UPDATE scheduled_runs SET status = 'finished', finished_at = now() WHERE run_id = ?`, id)
		e.exec(`UPDATE runs SET status = ?, completed_at = now(), error_message = 'kept' WHERE id = ?`, status, id)
		before := e.must(200, "GET", fmt.Sprintf("/api/runs/%v/", id), "")
		r := e.must(409, "POST", fmt.Sprintf("/api/runs/%v/cancel/", id), `{"reason":"ignored"}`)
		if m := isJSONError(t, r); !strings.Contains(m["error"].(string), "already "+status) {
			t.Errorf("cancel of a %s run: %s", status, r.Body)
		}
		if after := e.must(200, "GET", fmt.Sprintf("/api/runs/%v/", id), ""); string(after.Body) != string(before.Body) {
			t.Errorf("cancel of a %s run changed it:\n%s\n%s", status, before.Body, after.Body)
		}
		if srs := e.must(200, "GET", fmt.Sprintf("/api/scheduled-runs/?run=%v&status=finished", id), "").array(t); len(srs) != 1 {
			t.Errorf("scheduled runs of a %s run after cancel: %v", status, srs)
		}
	}
	e.noServerErrors()
}

// TestCancelPendingRun: every job of a run nobody started ends cancelled with
// its ScheduledRun, the run says why, and the lists filter on the new status.
func TestCancelPendingRun(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	run := e.must(201, "POST", "/api/runs/launch/", `{}`).json(t)
	other := e.must(201, "POST", "/api/runs/launch/", `{"tasks":["log_triage"]}`).json(t)
	c := e.must(200, "POST", fmt.Sprintf("/api/runs/%v/cancel", run["id"]), "").json(t)
	wantShape(t, "cancelled run", c, runShape)
	if c["status"] != "cancelled" || c["error_message"] != "cancelled by request" || c["completed_at"] == nil {
		t.Errorf("cancelled run: %v", c)
	}
	for _, j := range listAt(t, c, "jobs") {
		if j["status"] != "cancelled" || j["completed_at"] == nil || j["error_message"] == "" {
			t.Errorf("job after cancel: %v", j)
		}
	}
	srs := e.must(200, "GET", fmt.Sprintf("/api/scheduled-runs/?run=%v", run["id"]), "").array(t)
	for _, sr := range srs {
		if sr["status"] != "cancelled" || sr["finished_at"] == nil || sr["error_summary"] == "" {
			t.Errorf("scheduled run after cancel: %v", sr)
		}
	}
	if len(srs) != 3 {
		t.Errorf("scheduled runs: %d", len(srs))
	}
	// The other run is untouched.
	if o := e.must(200, "GET", fmt.Sprintf("/api/runs/%v/", other["id"]), "").json(t); o["status"] != "pending" {
		t.Errorf("other run: %v", o["status"])
	}
	checks := map[string]int{
		"/api/runs/?status=cancelled": 1, "/api/runs/?status=pending": 1,
	}
	for p, n := range checks {
		if got := e.must(200, "GET", p, "").json(t)["count"].(float64); int(got) != n {
			t.Errorf("%s: count %v, want %d", p, got, n)
		}
	}
	arrays := map[string]int{
		"/api/jobs/?status=cancelled": 3, "/api/jobs/?status=pending": 1,
		fmt.Sprintf("/api/jobs/?run=%v&task_type=service_map", run["id"]): 1,
		"/api/jobs/?task_type=log_triage":                                 2,
		"/api/scheduled-runs/?status=cancelled":                           3,
		"/api/scheduled-runs/?status=pending":                             1,
	}
	for p, n := range arrays {
		if got := e.must(200, "GET", p, "").array(t); len(got) != n {
			t.Errorf("%s: %d items, want %d", p, len(got), n)
		}
	}
	e.noServerErrors()
}

// TestJobsLimitOffset: limit/offset walk the bare-array lists newest first
// without gaps or repeats.
func TestJobsLimitOffset(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for i := 0; i < 3; i++ {
		e.must(201, "POST", "/api/runs/launch/", `{"tasks":["log_triage","service_map"]}`)
	}
	all := e.must(200, "GET", "/api/jobs/", "").array(t)
	if len(all) != 6 {
		t.Fatalf("jobs: %d", len(all))
	}
	for i := 1; i < len(all); i++ {
		if num(t, all[i-1]["id"]) <= num(t, all[i]["id"]) {
			t.Errorf("jobs not newest first at %d", i)
		}
	}
	var walked []string
	for off := 0; off < 8; off += 4 {
		for _, j := range e.must(200, "GET", fmt.Sprintf("/api/jobs/?limit=4&offset=%d", off), "").array(t) {
			walked = append(walked, fmt.Sprint(j["id"]))
		}
	}
	var ids []string
	for _, j := range all {
		ids = append(ids, fmt.Sprint(j["id"]))
	}
	if strings.Join(walked, ",") != strings.Join(ids, ",") {
		t.Errorf("limit/offset walk %v, want %v", walked, ids)
	}
	srs := e.must(200, "GET", "/api/scheduled-runs/?limit=2&offset=1", "").array(t)
	full := e.must(200, "GET", "/api/scheduled-runs/", "").array(t)
	if len(full) != 6 || len(srs) != 2 || srs[0]["id"] != full[1]["id"] || srs[1]["id"] != full[2]["id"] {
		t.Errorf("scheduled-runs limit/offset: %v of %v", srs, full)
	}
	for _, p := range []string{"/api/jobs/?limit=1000", "/api/jobs/?offset=100", "/api/scheduled-runs/?limit=1000&offset=0"} {
		e.must(200, "GET", p, "")
	}
	if arr := e.must(200, "GET", "/api/jobs/?offset=100", "").array(t); len(arr) != 0 {
		t.Errorf("offset past the end: %v", arr)
	}
	e.noServerErrors()
}

// TestArtifactDownload: bytes come back exactly, as an attachment with the
// stored content type (octet-stream when none), nosniff, and a filename
// that survives quotes and non-ASCII.
func TestArtifactDownload(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	run := e.must(201, "POST", "/api/runs/launch/", `{"tasks":["log_triage"]}`).json(t)
	id := run["id"]
	cases := []struct {
		name, ctype, wantType string
		content               []byte
	}{
		{"report.md", "text/markdown; charset=utf-8", "text/markdown; charset=utf-8", []byte("# Report\n")},
		{"graph.json", "application/json", "application/json", []byte(`{"nodes":[]}`)},
		{"blob.bin", "", "application/octet-stream", []byte{0, 1, 2, 0xff, 0xfe}},
		{`we "quoted" name.txt`, "text/plain", "text/plain", []byte("q")},
		{"journal-übersicht ✓.html", "text/html", "text/html", []byte("<script>alert(1)</script>")},
	}
	for _, tc := range cases {
		e.exec(`INSERT INTO artifacts (run_id, name, content_type, size, content) VALUES (?, ?, ?, ?, ?)`,
			id, tc.name, tc.ctype, len(tc.content), tc.content)
	}
	arts := e.must(200, "GET", fmt.Sprintf("/api/runs/%v/artifacts/", id), "").array(t)
	if len(arts) != len(cases) {
		t.Fatalf("artifacts: %v", arts)
	}
	byName := map[string]map[string]any{}
	for _, a := range arts {
		byName[a["name"].(string)] = a
		if _, ok := a["content"]; ok {
			t.Errorf("artifact list carries content: %v", a)
		}
	}
	for _, tc := range cases {
		a := byName[tc.name]
		if a == nil {
			t.Errorf("artifact %q not listed", tc.name)
			continue
		}
		meta := e.must(200, "GET", fmt.Sprintf("/api/artifacts/%v/", a["id"]), "").json(t)
		if meta["name"] != tc.name || num(t, meta["size"]) != int64(len(tc.content)) || num(t, meta["run_id"]) != num(t, id) {
			t.Errorf("meta %q: %v", tc.name, meta)
		}
		dl := e.must(200, "GET", fmt.Sprintf("/api/artifacts/%v/download", a["id"]), "")
		if string(dl.Body) != string(tc.content) {
			t.Errorf("%q: body %q", tc.name, dl.Body)
		}
		if ct := dl.Header.Get("Content-Type"); ct != tc.wantType {
			t.Errorf("%q: content type %q, want %q", tc.name, ct, tc.wantType)
		}
		if dl.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%q: no nosniff", tc.name)
		}
		disp, params, err := mime.ParseMediaType(dl.Header.Get("Content-Disposition"))
		if err != nil || disp != "attachment" || params["filename"] != tc.name {
			t.Errorf("%q: Content-Disposition %q -> %q %v (%v)", tc.name, dl.Header.Get("Content-Disposition"), disp, params, err)
		}
	}
	rep := e.must(200, "GET", fmt.Sprintf("/api/runs/%v/report/", id), "").json(t)
	if len(listAt(t, rep, "artifacts")) != len(cases) || rep["report_json"] != nil || rep["status"] != "pending" {
		t.Errorf("report: %v", rep)
	}
	// An artifact of another run is not listed here; unknown ids are 404.
	other := e.must(201, "POST", "/api/runs/launch/", `{"tasks":["log_triage"]}`).json(t)
	if arr := e.must(200, "GET", fmt.Sprintf("/api/runs/%v/artifacts/", other["id"]), ""); strings.TrimSpace(string(arr.Body)) != "[]" {
		t.Errorf("artifacts of a run without any: %s", arr.Body)
	}
	if rep := e.must(200, "GET", fmt.Sprintf("/api/runs/%v/report/", other["id"]), "").json(t); len(listAt(t, rep, "artifacts")) != 0 {
		t.Errorf("report of a run without artifacts: %v", rep)
	}
	if r := e.must(404, "GET", "/api/artifacts/"+url.PathEscape("12345")+"/download/", ""); contains(r.Body, "attachment") {
		t.Errorf("404 download: %s", r.Body)
	}
	e.noServerErrors()
}

// TestTokenStatsEmpty: a fresh deployment answers zeros and an empty model
// list, never null.
func TestTokenStatsEmpty(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.must(200, "GET", "/api/token-stats", "")
	if strings.TrimSpace(string(r.Body)) != `{"calls":0,"prompt_tokens":0,"completion_tokens":0,"total_tokens":0,"duration_ms":0,"models":[]}` {
		t.Errorf("empty token stats: %s", r.Body)
	}
}
