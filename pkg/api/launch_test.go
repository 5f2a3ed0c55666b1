package api

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestLaunch(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.exec(`INSERT INTO worker_hosts (id, name, enabled) VALUES (50, 'off', false)`)
	e.exec(`INSERT INTO worker_hosts (id, name, capabilities) VALUES (51, 'nogpu', '{"gpus": 0}')`)
	e.exec(`INSERT INTO worker_hosts (id, name, healthy, last_error) VALUES (52, 'sick', false, 'connection refused')`)
	cases := []struct {
		name     string
		body     string
		status   int
		jobs     []string // task types of a 201, in order
		contains []string // substrings of a 4xx body
		exact    string
	}{
		{"empty object: every enabled task", `{}`, 201, []string{"log_triage", "gpu_report", "service_map"}, nil, ""},
		{"empty body", ``, 201, []string{"log_triage", "gpu_report", "service_map"}, nil, ""},
		{"tasks empty list", `{"tasks": []}`, 201, []string{"log_triage", "gpu_report", "service_map"}, nil, ""},
		{"one task", `{"tasks": ["log_triage"]}`, 201, []string{"log_triage"}, nil, ""},
		{"duplicates collapse, order kept", `{"tasks": ["service_map","log_triage","service_map"]}`, 201, []string{"service_map", "log_triage"}, nil, ""},
		{"task ids", `{"task_ids": [3, 1]}`, 201, []string{"service_map", "log_triage"}, nil, ""},
		{"unknown task", `{"tasks": ["log_triage", "nope"]}`, 400, nil, []string{`"tasks"`, "nope", "unknown"}, ""},
		{"disabled task", `{"tasks": ["noop"]}`, 400, nil, []string{`"tasks"`, "noop", "disabled"}, ""},
		{"unknown task id", `{"task_ids": [999]}`, 400, nil, []string{`"task_ids"`, "999"}, ""},
		{"tasks and task_ids", `{"tasks": ["log_triage"], "task_ids": [1]}`, 400, nil, []string{"not both"}, ""},
		{"unknown directive", `{"directive_id": 999}`, 404, nil, nil, `{"error":"Directive not found"}`},
		{"host disabled", `{"tasks": ["log_triage"], "target_host_id": 50}`, 400, nil, []string{"target_host_id", "disabled"}, ""},
		{"host lacks gpu", `{"tasks": ["gpu_report"], "target_host_id": 51}`, 400, nil, []string{"target_host_id", "lacks a GPU"}, ""},
		{"host unhealthy", `{"tasks": ["log_triage"], "target_host_id": 52}`, 400, nil, []string{"unhealthy", "connection refused"}, ""},
		{"host missing", `{"target_host_id": 9999}`, 400, nil, []string{"target_host_id", "not found"}, ""},
		{"negative directive", `{"directive_id": -1}`, 400, nil, []string{"directive_id", "positive"}, ""},
		{"zero host", `{"target_host_id": 0}`, 400, nil, []string{"target_host_id"}, ""},
		{"huge directive", `{"directive_id": 100000000000000000000000}`, 400, nil, []string{"directive_id"}, ""},
		{"float directive", `{"directive_id": 1.5}`, 400, nil, []string{"directive_id"}, ""},
		{"string directive", `{"directive_id": "1"}`, 400, nil, []string{"directive_id", "integer"}, ""},
		{"tasks not a list", `{"tasks": "log_triage"}`, 400, nil, []string{`"tasks"`, "array"}, ""},
		{"task not a string", `{"tasks": [1]}`, 400, nil, []string{"tasks"}, ""},
		{"unknown field", `{"task": ["log_triage"]}`, 400, nil, []string{`"task"`, "unknown field"}, ""},
		{"malformed", `{"tasks": [`, 400, nil, []string{"malformed"}, ""},
		{"not an object", `["log_triage"]`, 400, nil, []string{"JSON object"}, ""},
		{"trailing data", `{} {}`, 400, nil, []string{"after the object"}, ""},
		{"empty key", `{"tasks": [""]}`, 400, nil, []string{"tasks"}, ""},
		{"NUL in key", `{"tasks": ["log\u0000triage"]}`, 400, nil, []string{"tasks"}, ""},
	}
	for _, tc := range cases {
		before := e.counts()
		r := e.do(http.MethodPost, "/api/runs/launch/", tc.body)
		if r.Status != tc.status {
			t.Errorf("%s: status %d, want %d: %s", tc.name, r.Status, tc.status, r.Body)
			continue
		}
		if tc.status == 201 {
			m := r.json(t)
			jobs, _ := m["jobs"].([]any)
			var got []string
			for _, j := range jobs {
				got = append(got, j.(map[string]any)["task_type"].(string))
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.jobs) || m["status"] != "pending" {
				t.Errorf("%s: jobs %v status %v, want %v pending", tc.name, got, m["status"], tc.jobs)
			}
			continue
		}
		isJSONError(t, r)
		if tc.exact != "" && strings.TrimSpace(string(r.Body)) != tc.exact {
			t.Errorf("%s: body %s, want %s", tc.name, r.Body, tc.exact)
		}
		for _, s := range tc.contains {
			if !contains(r.Body, s) {
				t.Errorf("%s: body %s lacks %q", tc.name, r.Body, s)
			}
		}
		if after := e.counts(); fmt.Sprint(after) != fmt.Sprint(before) {
			t.Errorf("%s: rows changed by a rejected launch: %v -> %v", tc.name, before, after)
		}
	}
	e.noServerErrors()
}

// TestGuideRows walks the seed guide's verification steps and checks the
// rows its curl+jq commands look at.
func TestGuideRows(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	d := e.must(201, "POST", "/api/directives/", `{"name":"test-launch","description":"Test execution pipeline"}`).json(t)
	if d["id"].(float64) != 1 {
		t.Fatalf("first directive id = %v, the guide assumes 1", d["id"])
	}
	run := e.must(201, "POST", "/api/runs/launch/", `{"directive_id":1,"tasks":["log_triage"]}`).json(t)
	id := int64(run["id"].(float64))
	if _, ok := run["jobs"].([]any); !ok {
		t.Fatalf("launch response lacks jobs[]: %v", run)
	}

	// jq '.results[] | select(.name | startswith("launch-run-'${RUN_ID}'"))'
	list := e.must(200, "GET", "/api/schedules/", "").json(t)
	var found []map[string]any
	for _, r := range list["results"].([]any) {
		m := r.(map[string]any)
		if strings.HasPrefix(m["name"].(string), fmt.Sprintf("launch-run-%d", id)) {
			found = append(found, m)
		}
	}
	if len(found) != 1 {
		t.Fatalf("schedules of run %d: %v", id, found)
	}
	sc := found[0]
	if sc["name"] != fmt.Sprintf("launch-run-%d-log_triage", id) || sc["enabled"] != true || sc["task_key"] != "log_triage" {
		t.Errorf("schedule = %v", sc)
	}
	for _, k := range []string{"claimed_by", "claimed_until", "last_run_at", "next_run_at", "schedule_type"} {
		if _, ok := sc[k]; !ok {
			t.Errorf("schedule lacks key %q", k)
		}
	}
	next, err := time.Parse(time.RFC3339Nano, sc["next_run_at"].(string))
	if err != nil || time.Since(next) > time.Minute || time.Until(next) > time.Minute || next.Location() != time.UTC {
		t.Errorf("next_run_at %v not ~now in UTC (%v)", sc["next_run_at"], err)
	}
	if !strings.HasSuffix(sc["next_run_at"].(string), "Z") {
		t.Errorf("next_run_at %v is not RFC 3339 UTC", sc["next_run_at"])
	}
	if due := e.scalar(`SELECT due_at <= now() FROM schedules WHERE id = ?`, int64(sc["id"].(float64))); due != true {
		t.Errorf("launch schedule not due now")
	}

	if st := e.must(200, "GET", fmt.Sprintf("/api/runs/%d/", id), "").json(t)["status"]; st != "pending" {
		t.Errorf("run status %v", st)
	}
	for _, p := range []string{"/api/jobs/?run=%d", "/api/scheduled-runs/?run=%d", "/api/runs/%d/jobs/"} {
		arr := e.must(200, "GET", fmt.Sprintf(p, id), "").array(t)
		if len(arr) != 1 || arr[0]["status"] != "pending" {
			t.Errorf("%s: %v, want one pending element", p, arr)
		}
	}
	if arr := e.must(200, "GET", "/api/jobs/?run=999", "").array(t); len(arr) != 0 {
		t.Errorf("jobs of unknown run: %v", arr)
	}
	e.noServerErrors()
}
