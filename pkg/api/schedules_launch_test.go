package api

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// TestLaunchScheduleFrozen: a launch's one-shot schedule fired its one run;
// enabling or editing it would fire a second run for the same launch, so
// both answer 409 with the reason and change nothing. Disabling stays
// allowed (it is what the schedulers do to it anyway).
func TestLaunchScheduleFrozen(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.must(201, "POST", "/api/runs/launch/", `{"tasks":["log_triage"]}`)
	id := e.scalar(`SELECT id FROM schedules WHERE name LIKE 'launch-run-%'`)
	path := fmt.Sprintf("/api/schedules/%v/", id)
	e.must(200, "POST", path+"disable/", "")
	before := e.scalar(`SELECT updated_at::text || enabled::text || coalesce(next_run_at::text, '') FROM schedules WHERE id = ?`, id)
	for _, req := range []struct{ method, path, body string }{
		{http.MethodPost, path + "enable/", ""},
		{http.MethodPatch, path, `{"enabled":true}`},
		{http.MethodPatch, path, `{"name":"renamed"}`},
		{http.MethodPut, path, `{"name":"again","task_key":"log_triage","schedule_type":"one_shot"}`},
	} {
		r := e.do(req.method, req.path, req.body)
		if r.Status != http.StatusConflict {
			t.Errorf("%s %s %s: %d, want 409: %s", req.method, req.path, req.body, r.Status, r.Body)
			continue
		}
		if m := isJSONError(t, r); !strings.Contains(m["error"].(string), "launch") || !strings.Contains(m["error"].(string), "cannot be enabled or edited") {
			t.Errorf("409 without the reason: %s", r.Body)
		}
	}
	after := e.scalar(`SELECT updated_at::text || enabled::text || coalesce(next_run_at::text, '') FROM schedules WHERE id = ?`, id)
	if before != after {
		t.Errorf("the launch schedule changed: %v → %v", before, after)
	}
	if n := e.scalar(`SELECT count(*) FROM runs`); n != int64(1) {
		t.Errorf("%v runs, want the launch's one", n)
	}
	// The prefix is reserved, so a user schedule is never taken for one.
	r := e.must(400, "POST", "/api/schedules/", `{"name":"launch-run-7-x","task_key":"noop","schedule_type":"interval","interval_minutes":5}`)
	if len(fieldErrors(t, r)["name"]) == 0 {
		t.Errorf("reserved name: %s", r.Body)
	}
	e.noServerErrors()
}

// TestScheduleListFilters: ?kind=launch|recurring and ?enabled= narrow the
// list (they were ignored before: the whole list came back).
func TestScheduleListFilters(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.must(201, "POST", "/api/runs/launch/", `{"tasks":["log_triage","service_map"]}`) // two launch schedules
	e.must(201, "POST", "/api/schedules/", `{"name":"every5","task_key":"noop","schedule_type":"interval","interval_minutes":5}`)
	e.must(201, "POST", "/api/schedules/", `{"name":"nightly","task_key":"noop","schedule_type":"cron","cron_expr":"@daily","enabled":false}`)
	e.must(201, "POST", "/api/schedules/", `{"name":"once","task_key":"noop","schedule_type":"one_shot","enabled":false}`)
	names := func(q string) string {
		var out []string
		for _, r := range listAt(t, e.must(200, "GET", "/api/schedules/?ordering=id&"+q, "").json(t), "results") {
			out = append(out, r["name"].(string))
		}
		return strings.Join(out, ",")
	}
	for q, want := range map[string]string{
		"kind=launch":                  "launch-run-1-log_triage,launch-run-1-service_map",
		"kind=recurring":               "every5,nightly",
		"kind=recurring&enabled=true":  "every5",
		"enabled=false":                "nightly,once",
		"kind=launch&enabled=false":    "",
		"":                             "launch-run-1-log_triage,launch-run-1-service_map,every5,nightly,once",
		"enabled=true&kind=recurring&": "every5",
	} {
		if got := names(q); got != want {
			t.Errorf("?%s: %s, want %s", q, got, want)
		}
	}
	for _, q := range []string{"kind=one_shot", "kind=LAUNCH", "enabled=1", "enabled=yes"} {
		r := e.must(400, "GET", "/api/schedules/?"+q, "")
		if f := fieldErrors(t, r); len(f[strings.Split(q, "=")[0]]) == 0 {
			t.Errorf("?%s: %s", q, r.Body)
		}
	}
}
