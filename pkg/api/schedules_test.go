package api

import (
	"fmt"
	"testing"
	"time"

	"github.com/cyberbrain/cyberbrain/pkg/testenv"
)

func parseTime(t *testing.T, v any) time.Time {
	t.Helper()
	s, _ := v.(string)
	tm, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatalf("not an RFC 3339 time: %v", v)
	}
	return tm
}

func TestScheduleWrites(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	bad := []struct{ name, body, field string }{
		{"bad cron", `{"name":"c","task":"log_triage","schedule_type":"cron","cron_expr":"61 * * * *"}`, "cron_expr"},
		{"six-field cron", `{"name":"c","task":"log_triage","schedule_type":"cron","cron_expr":"0 0 * * * *"}`, "cron_expr"},
		{"bad timezone", `{"name":"c","task":"log_triage","schedule_type":"cron","cron_expr":"@daily","timezone":"Mars/Base"}`, "timezone"},
		{"no interval", `{"name":"c","task":"log_triage","schedule_type":"interval"}`, "interval_minutes"},
		{"negative interval", `{"name":"c","task":"log_triage","schedule_type":"interval","interval_minutes":-5}`, "interval_minutes"},
		{"huge interval", `{"name":"c","task":"log_triage","schedule_type":"interval","interval_minutes":99999999999}`, "interval_minutes"},
		{"bad type", `{"name":"c","task":"log_triage","schedule_type":"weekly"}`, "schedule_type"},
		{"no name", `{"task":"log_triage","schedule_type":"one_shot"}`, "name"},
		{"no task", `{"name":"c","schedule_type":"one_shot"}`, "task_key"},
		{"unknown task", `{"name":"c","task_key":"nope","schedule_type":"one_shot"}`, "task_key"},
		{"unknown directive", `{"name":"c","task":"log_triage","schedule_type":"one_shot","directive_id":42}`, "directive_id"},
		{"unknown host", `{"name":"c","task":"log_triage","schedule_type":"one_shot","target_host_id":42}`, "target_host_id"},
		{"zero max_global", `{"name":"c","task":"log_triage","schedule_type":"one_shot","max_global":0}`, "max_global"},
		{"string interval", `{"name":"c","task":"log_triage","schedule_type":"interval","interval_minutes":"5"}`, "interval_minutes"},
		{"bad time", `{"name":"c","task":"log_triage","schedule_type":"one_shot","next_run_at":"tomorrow"}`, ""},
		{"unknown field", `{"name":"c","task":"log_triage","schedule_type":"one_shot","every":5}`, "every"},
		{"both directives", `{"name":"c","task":"log_triage","schedule_type":"one_shot","directive_id":1,"custom_directive_text":"x"}`, "custom_directive_text"},
	}
	before := e.counts()
	for _, b := range bad {
		r := e.do("POST", "/api/schedules/", b.body)
		if r.Status != 400 || !contains(r.Body, b.field) {
			t.Errorf("%s: %d %s, want 400 naming %q", b.name, r.Status, r.Body, b.field)
		}
		isJSONError(t, r)
	}
	if after := e.counts(); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Fatalf("rejected schedule writes stored rows: %v -> %v", before, after)
	}

	// Interval: next_run_at = now + interval.
	sc := e.must(201, "POST", "/api/schedules/", `{"name":"every5","task":"log_triage","schedule_type":"interval","interval_minutes":5}`).json(t)
	id := sc["id"]
	next := parseTime(t, sc["next_run_at"])
	if d := time.Until(next); d < 4*time.Minute || d > 6*time.Minute {
		t.Errorf("interval next_run_at in %v, want ~5m", d)
	}
	if sc["task_key"] != "log_triage" || sc["claimed_by"] != "" || sc["enabled"] != true {
		t.Errorf("schedule = %v", sc)
	}
	// An edit that does not change timing keeps next_run_at.
	ed := e.must(200, "PATCH", fmt.Sprintf("/api/schedules/%v/", id), `{"name":"every5b","max_per_job":2}`).json(t)
	if ed["next_run_at"] != sc["next_run_at"] || ed["name"] != "every5b" || ed["max_per_job"].(float64) != 2 {
		t.Errorf("non-timing edit moved next_run_at or lost fields: %v", ed)
	}
	// A timing edit recomputes it; switching type drops the other type's field.
	cr := e.must(200, "PATCH", fmt.Sprintf("/api/schedules/%v/", id), `{"schedule_type":"cron","cron_expr":"0 3 * * *","timezone":"Europe/Berlin"}`).json(t)
	cn := parseTime(t, cr["next_run_at"])
	if cr["interval_minutes"] != nil || cn.In(mustLoc(t, "Europe/Berlin")).Hour() != 3 {
		t.Errorf("cron edit: %v", cr)
	}
	if due := e.scalar(`SELECT due_at = next_run_at FROM schedules WHERE id = ?`, id); due != true {
		t.Errorf("due_at does not follow next_run_at")
	}
	// Bad edit: 400, nothing changed.
	e.must(400, "PATCH", fmt.Sprintf("/api/schedules/%v/", id), `{"cron_expr":"nope"}`)
	if got := e.must(200, "GET", fmt.Sprintf("/api/schedules/%v/", id), "").json(t); got["cron_expr"] != "0 3 * * *" {
		t.Errorf("rejected edit stored: %v", got)
	}
	e.must(409, "POST", "/api/schedules/", `{"name":"every5b","task":"log_triage","schedule_type":"one_shot"}`)
	e.must(404, "PATCH", "/api/schedules/999/", `{"name":"x"}`)

	// Disable: due_at NULL; enable: due again.
	if dis := e.must(200, "POST", fmt.Sprintf("/api/schedules/%v/disable/", id), "").json(t); dis["enabled"] != false {
		t.Errorf("disable: %v", dis)
	}
	if due := e.scalar(`SELECT due_at IS NULL FROM schedules WHERE id = ?`, id); due != true {
		t.Errorf("disabled schedule still due")
	}
	if en := e.must(200, "POST", fmt.Sprintf("/api/schedules/%v/enable", id), "").json(t); en["enabled"] != true || en["next_run_at"] != cr["next_run_at"] {
		t.Errorf("enable: %v", en)
	}

	// One-shot at a given time; enabling one without next_run_at computes now.
	at := time.Now().UTC().Add(time.Hour).Truncate(time.Second)
	os := e.must(201, "POST", "/api/schedules/", fmt.Sprintf(`{"name":"once","task_key":"service_map","schedule_type":"one_shot","next_run_at":%q,"enabled":false}`, at.Format(time.RFC3339))).json(t)
	if !parseTime(t, os["next_run_at"]).Equal(at) || os["enabled"] != false {
		t.Errorf("one-shot: %v", os)
	}
	e.exec(`UPDATE schedules SET next_run_at = NULL WHERE id = ?`, os["id"])
	en := e.must(200, "POST", fmt.Sprintf("/api/schedules/%v/enable/", os["id"]), "").json(t)
	if d := time.Since(parseTime(t, en["next_run_at"])); d < -time.Minute || d > time.Minute {
		t.Errorf("enabled one-shot next_run_at = %v, want now", en["next_run_at"])
	}

	// Run now: run + job + pending ScheduledRun due now; next_run_at untouched.
	rn := e.must(201, "POST", fmt.Sprintf("/api/schedules/%v/run-now/", id), "").json(t)
	runID := rn["run_id"]
	if len(rn) != 1 || runID == nil {
		t.Fatalf("run-now answer %v", rn)
	}
	after := e.must(200, "GET", fmt.Sprintf("/api/schedules/%v/", id), "").json(t)
	if after["next_run_at"] != cr["next_run_at"] || after["last_run_at"] == nil {
		t.Errorf("after run-now: %v", after)
	}
	if due := e.scalar(`SELECT due_at <= now() FROM schedules WHERE id = ?`, id); due != true {
		t.Errorf("run-now schedule not due")
	}
	jobs := e.must(200, "GET", fmt.Sprintf("/api/jobs/?run=%v", runID), "").array(t)
	srs := e.must(200, "GET", fmt.Sprintf("/api/scheduled-runs/?run=%v", runID), "").array(t)
	if len(jobs) != 1 || jobs[0]["schedule_id"] != id || jobs[0]["task_type"] != "log_triage" || len(srs) != 1 || srs[0]["status"] != "pending" {
		t.Errorf("run-now rows: jobs %v srs %v", jobs, srs)
	}
	// Disabling keeps the pending run-now due (its run must not hang).
	e.must(200, "POST", fmt.Sprintf("/api/schedules/%v/disable/", id), "")
	if due := e.scalar(`SELECT due_at IS NOT NULL FROM schedules WHERE id = ?`, id); due != true {
		t.Errorf("pending run-now lost its due_at on disable")
	}
	h := e.must(200, "GET", fmt.Sprintf("/api/schedules/%v/history/", id), "").json(t)
	items, _ := h["items"].([]any)
	if h["count"].(float64) != 1 || len(items) != 1 || items[0].(map[string]any)["run_id"] != runID {
		t.Errorf("history: %v", h)
	}
	for _, k := range []string{"id", "run_id", "status", "started_at", "finished_at", "error_summary"} {
		if _, ok := items[0].(map[string]any)[k]; !ok {
			t.Errorf("history item lacks %q", k)
		}
	}
	// History references it: 409; a schedule without history deletes.
	if r := e.must(409, "DELETE", fmt.Sprintf("/api/schedules/%v/", id), ""); !contains(r.Body, "history") {
		t.Errorf("delete with history: %s", r.Body)
	}
	e.must(204, "DELETE", fmt.Sprintf("/api/schedules/%v/", os["id"]), "")
	e.must(404, "POST", "/api/schedules/999/run-now/", "")
	e.must(404, "GET", "/api/schedules/999/history/", "")
	// Run-now of a schedule whose task is disabled: 400.
	e.exec(`UPDATE task_definitions SET enabled = false WHERE key = 'log_triage'`)
	e.must(400, "POST", fmt.Sprintf("/api/schedules/%v/run-now/", id), "")
	e.noServerErrors()
}

func mustLoc(t *testing.T, name string) *time.Location {
	t.Helper()
	l, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestCancelRun(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	run := e.must(201, "POST", "/api/runs/launch/", `{"tasks":["log_triage","service_map"]}`).json(t)
	id := run["id"]
	jobs := run["jobs"].([]any)
	running := jobs[1].(map[string]any)["id"]
	// The second job is executing on some scheduler.
	e.exec(`UPDATE jobs SET status = 'running', claimed_by = 'r1', claimed_until = now() + interval '1 minute', started_at = now() WHERE id = ?`, running)
	e.exec(`UPDATE scheduled_runs SET status = 'started' WHERE job_id = ?`, running)
	e.exec(`UPDATE runs SET status = 'running' WHERE id = ?`, id)

	c := e.must(200, "POST", fmt.Sprintf("/api/runs/%v/cancel/", id), "").json(t)
	if c["status"] != "cancelled" || c["completed_at"] == nil {
		t.Errorf("cancelled run: %v", c)
	}
	got := c["jobs"].([]any)
	j0, j1 := got[0].(map[string]any), got[1].(map[string]any)
	if j0["status"] != "cancelled" || j1["status"] != "running" || j1["cancel_requested"] != true || j0["cancel_requested"] != false {
		t.Errorf("jobs after cancel: %v / %v", j0, j1)
	}
	srs := e.must(200, "GET", fmt.Sprintf("/api/scheduled-runs/?run=%v&status=cancelled", id), "").array(t)
	if len(srs) != 1 {
		t.Errorf("cancelled scheduled runs: %v", srs)
	}
	var sch []struct {
		Enabled   bool
		NextRunAt *time.Time
		DueAt     *time.Time
	}
	testenv.SQL(e.t, e.st).Raw(`SELECT enabled, next_run_at, due_at FROM schedules WHERE name = ?`, fmt.Sprintf("launch-run-%v-log_triage", id)).Scan(&sch)
	if len(sch) != 1 || sch[0].Enabled || sch[0].NextRunAt != nil || sch[0].DueAt != nil {
		t.Errorf("launch schedule after cancel: %+v", sch)
	}
	r := e.must(409, "POST", fmt.Sprintf("/api/runs/%v/cancel/", id), "")
	if !contains(r.Body, "already cancelled") {
		t.Errorf("second cancel: %s", r.Body)
	}
	e.must(404, "POST", "/api/runs/999/cancel/", "")
	e.must(404, "POST", "/api/runs/x/cancel/", "")

	// A run-now of a recurring schedule, cancelled: the schedule keeps its
	// next slot and stays enabled and due at it.
	sc := e.must(201, "POST", "/api/schedules/", `{"name":"rec","task":"log_triage","schedule_type":"interval","interval_minutes":60}`).json(t)
	rn := e.must(201, "POST", fmt.Sprintf("/api/schedules/%v/run-now/", sc["id"]), "").json(t)
	e.must(200, "POST", fmt.Sprintf("/api/runs/%v/cancel", rn["run_id"]), "")
	after := e.must(200, "GET", fmt.Sprintf("/api/schedules/%v/", sc["id"]), "").json(t)
	if after["enabled"] != true || after["next_run_at"] != sc["next_run_at"] {
		t.Errorf("recurring schedule after cancel of its run-now: %v", after)
	}
	if due := e.scalar(`SELECT due_at = next_run_at FROM schedules WHERE id = ?`, sc["id"]); due != true {
		t.Errorf("recurring schedule's due_at not back at next_run_at")
	}
	e.noServerErrors()
}
