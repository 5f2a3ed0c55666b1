package api

import (
	"fmt"
	"strings"
	"testing"
)

// TestGuideResponseShapes pins down every answer the seed guide's curl + jq
// commands read: the fields they select exist with stable JSON types, the
// status codes are the documented ones, and the content type is JSON.
func TestGuideResponseShapes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)

	// Step 3: create the directive, launch a run with one task.
	d := e.must(201, "POST", "/api/directives/", `{"name":"test-launch","description":"Test execution pipeline"}`)
	wantShape(t, "directive", d.json(t), directiveShape)
	launch := e.must(201, "POST", "/api/runs/launch/", `{"directive_id":1,"tasks":["log_triage"]}`)
	if ct := launch.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("launch content type %q", ct)
	}
	run := launch.json(t)
	wantShape(t, "launched run", run, runShape)
	jobs := listAt(t, run, "jobs")
	if len(jobs) != 1 {
		t.Fatalf("launch jobs: %v", jobs)
	}
	wantShape(t, "launched job", jobs[0], jobShape)
	runID := num(t, run["id"])
	if num(t, run["directive_id"]) != 1 || run["status"] != "pending" || jobs[0]["status"] != "pending" ||
		num(t, jobs[0]["run_id"]) != runID || jobs[0]["attempt"].(float64) != 0 {
		t.Errorf("launched run: %v", run)
	}
	snap := objAt(t, run, "directive_snapshot")
	if snap["name"] != "test-launch" || snap["description"] != "Test execution pipeline" || num(t, snap["id"]) != 1 {
		t.Errorf("directive snapshot: %v", snap)
	}

	// Step 4 and troubleshooting: .results[] | {name, next_run_at, enabled},
	// {name, claimed_by, claimed_until}.
	list := e.must(200, "GET", "/api/schedules/", "").json(t)
	results := listAt(t, list, "results")
	if len(results) != 1 {
		t.Fatalf("schedules: %v", results)
	}
	wantShape(t, "schedule", results[0], scheduleShape)
	sc := results[0]
	if sc["name"] != fmt.Sprintf("launch-run-%d-log_triage", runID) || sc["enabled"] != true ||
		sc["claimed_by"] != "" || sc["claimed_until"] != nil || sc["next_run_at"] == nil || sc["last_run_at"] != nil {
		t.Errorf("launch schedule: %v", sc)
	}
	// docs/DESIGN.md §4 (over the guide's "interval" example): a launch schedule is a
	// one-shot due now.
	if sc["schedule_type"] != "one_shot" || sc["interval_minutes"] != nil {
		t.Errorf("launch schedule type: %v", sc)
	}

	// Step 6: .status of the run, .[].status of its jobs and ScheduledRuns,
	// .[].error_message of its jobs.
	detail := e.must(200, "GET", fmt.Sprintf("/api/runs/%d/", runID), "").json(t)
	wantShape(t, "run detail", detail, runShape)
	if detail["status"] != "pending" || len(listAt(t, detail, "jobs")) != 1 {
		t.Errorf("run detail: %v", detail)
	}
	for _, p := range []string{"/api/jobs/?run=%d", "/api/jobs?run=%d", "/api/runs/%d/jobs/"} {
		arr := e.must(200, "GET", fmt.Sprintf(p, runID), "").array(t)
		if len(arr) != 1 || arr[0]["error_message"] != "" || arr[0]["status"] != "pending" {
			t.Errorf("%s: %v", p, arr)
			continue
		}
		wantShape(t, p, arr[0], jobShape)
	}
	srs := e.must(200, "GET", fmt.Sprintf("/api/scheduled-runs/?run=%d", runID), "").array(t)
	if len(srs) != 1 {
		t.Fatalf("scheduled runs: %v", srs)
	}
	wantShape(t, "scheduled run", srs[0], scheduledRunShape)
	if srs[0]["status"] != "pending" || num(t, srs[0]["run_id"]) != runID || num(t, srs[0]["schedule_id"]) != num(t, sc["id"]) ||
		num(t, srs[0]["job_id"]) != num(t, jobs[0]["id"]) {
		t.Errorf("scheduled run: %v", srs[0])
	}

	// Troubleshooting: the allow-list is a paginated collection.
	al := e.must(200, "GET", "/api/container-allowlist/", "").json(t)
	if al["count"].(float64) != 0 || len(listAt(t, al, "results")) != 0 {
		t.Errorf("allow-list: %v", al)
	}
	e.noServerErrors()
}

// TestLaunchEveryTaskRows checks the rows a launch without tasks creates
// (docs/DESIGN.md §4): one job per enabled task in definition order, one one-shot
// schedule named launch-run-{run}-{task} per job, one pending ScheduledRun
// per schedule, the default directive created once and reused.
func TestLaunchEveryTaskRows(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	first := e.must(201, "POST", "/api/runs/launch/", `{}`).json(t)
	second := e.must(201, "POST", "/api/runs/launch/", ``).json(t)
	if first["directive_id"] == nil || first["directive_id"] != second["directive_id"] {
		t.Errorf("default directive not reused: %v vs %v", first["directive_id"], second["directive_id"])
	}
	dirs := e.must(200, "GET", "/api/directives/", "").json(t)
	if dirs["count"].(float64) != 1 || listAt(t, dirs, "results")[0]["name"] != "default" {
		t.Errorf("directives after two default launches: %v", dirs)
	}
	for _, run := range []map[string]any{first, second} {
		id := num(t, run["id"])
		jobs := listAt(t, run, "jobs")
		var tasks []string
		for i, j := range jobs {
			tasks = append(tasks, j["task_type"].(string))
			if num(t, j["position"]) != int64(i) {
				t.Errorf("run %d job %d position %v", id, i, j["position"])
			}
		}
		if strings.Join(tasks, ",") != "log_triage,gpu_report,service_map" {
			t.Errorf("run %d tasks %v (noop is seeded disabled)", id, tasks)
		}
		srs := e.must(200, "GET", fmt.Sprintf("/api/scheduled-runs/?run=%d", id), "").array(t)
		if len(srs) != 3 {
			t.Fatalf("run %d scheduled runs: %v", id, srs)
		}
		for _, j := range jobs {
			sid := num(t, j["schedule_id"])
			sc := e.must(200, "GET", fmt.Sprintf("/api/schedules/%d/", sid), "").json(t)
			if sc["name"] != fmt.Sprintf("launch-run-%d-%s", id, j["task_type"]) || sc["task_key"] != j["task_type"] ||
				sc["schedule_type"] != "one_shot" || sc["enabled"] != true {
				t.Errorf("schedule of job %v: %v", j["id"], sc)
			}
			n := 0
			for _, sr := range srs {
				if num(t, sr["schedule_id"]) == sid && num(t, sr["job_id"]) == num(t, j["id"]) && sr["status"] == "pending" {
					n++
				}
			}
			if n != 1 {
				t.Errorf("job %v has %d pending ScheduledRuns", j["id"], n)
			}
		}
	}
	e.noServerErrors()
}

// TestGuideFirstPage: the guide reads only the first page of /api/schedules/
// and /api/runs/; a run launched on a deployment with more than a page of
// history must still be on it.
func TestGuideFirstPage(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for i := 0; i < DefaultPageSize+5; i++ {
		e.must(201, "POST", "/api/schedules/", fmt.Sprintf(`{"name":"old-%03d","task":"log_triage","schedule_type":"interval","interval_minutes":60,"enabled":false}`, i))
	}
	for i := 0; i < 3; i++ {
		e.must(201, "POST", "/api/runs/launch/", `{"tasks":["service_map"]}`)
	}
	run := e.must(201, "POST", "/api/runs/launch/", `{"tasks":["log_triage"]}`).json(t)
	id := num(t, run["id"])

	page := e.must(200, "GET", "/api/schedules/", "").json(t)
	results := listAt(t, page, "results")
	if len(results) != DefaultPageSize || page["count"].(float64) != DefaultPageSize+5+4 || page["next"] == nil {
		t.Fatalf("first page: %d results, count %v, next %v", len(results), page["count"], page["next"])
	}
	if results[0]["name"] != fmt.Sprintf("launch-run-%d-log_triage", id) {
		t.Errorf("newest schedule first: got %v", results[0]["name"])
	}
	// jq '.results[] | select(.name | contains("launch-run"))': all four.
	n := 0
	for _, r := range results {
		if strings.Contains(r["name"].(string), "launch-run") {
			n++
		}
	}
	if n != 4 {
		t.Errorf("launch schedules on the first page: %d, want 4", n)
	}
	runs := listAt(t, e.must(200, "GET", "/api/runs/", "").json(t), "results")
	for i := 1; i < len(runs); i++ {
		if num(t, runs[i-1]["id"]) <= num(t, runs[i]["id"]) {
			t.Errorf("runs not newest first: %v then %v", runs[i-1]["id"], runs[i]["id"])
		}
	}
	if len(runs) != 4 || num(t, runs[0]["id"]) != id {
		t.Errorf("runs: %d, first %v", len(runs), runs[0]["id"])
	}
	if _, ok := runs[0]["jobs"]; ok {
		t.Errorf("run list items carry jobs[] (detail only)")
	}
	e.noServerErrors()
}
