package api

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func mustLocT(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// TestScheduleTiming: next_run_at on create follows the schedule type, the
// cron expression and its time zone, and is answered in UTC.
func TestScheduleTiming(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	future := time.Now().UTC().Add(48 * time.Hour).Truncate(time.Second)
	cases := []struct {
		name, body string
		check      func(next time.Time) bool
	}{
		{"cron in New York", `"schedule_type":"cron","cron_expr":"30 9 * * *","timezone":"America/New_York"`, func(n time.Time) bool {
			l := n.In(mustLocT(t, "America/New_York"))
			return l.Hour() == 9 && l.Minute() == 30 && time.Until(n) > 0 && time.Until(n) <= 25*time.Hour
		}},
		{"cron every 15 minutes", `"schedule_type":"cron","cron_expr":"*/15 * * * *"`, func(n time.Time) bool {
			return n.Minute()%15 == 0 && n.Second() == 0 && time.Until(n) > -time.Second && time.Until(n) <= 15*time.Minute
		}},
		{"cron macro", `"schedule_type":"cron","cron_expr":"@hourly","timezone":"Asia/Kolkata"`, func(n time.Time) bool {
			l := n.In(mustLocT(t, "Asia/Kolkata"))
			return l.Minute() == 0 && time.Until(n) <= time.Hour
		}},
		{"cron weekday in Tokyo", `"schedule_type":"cron","cron_expr":"0 6 * * 1","timezone":"Asia/Tokyo"`, func(n time.Time) bool {
			l := n.In(mustLocT(t, "Asia/Tokyo"))
			return l.Weekday() == time.Monday && l.Hour() == 6 && time.Until(n) <= 8*24*time.Hour
		}},
		{"interval", `"schedule_type":"interval","interval_minutes":90`, func(n time.Time) bool {
			d := time.Until(n)
			return d > 89*time.Minute && d <= 91*time.Minute
		}},
		{"interval with explicit first slot", `"schedule_type":"interval","interval_minutes":5,"next_run_at":"` + future.In(mustLocT(t, "Europe/Berlin")).Format(time.RFC3339) + `"`,
			func(n time.Time) bool { return n.Equal(future) }},
		{"one-shot at a time", `"schedule_type":"one_shot","next_run_at":"` + future.Format(time.RFC3339) + `"`,
			func(n time.Time) bool { return n.Equal(future) }},
	}
	for i, tc := range cases {
		r := e.do("POST", "/api/schedules/", fmt.Sprintf(`{"name":"s%d","task":"log_triage",%s}`, i, tc.body))
		if r.Status != 201 {
			t.Errorf("%s: %d %s", tc.name, r.Status, r.Body)
			continue
		}
		m := r.json(t)
		wantShape(t, tc.name, m, scheduleShape)
		next := parseTime(t, m["next_run_at"])
		if !tc.check(next) {
			t.Errorf("%s: next_run_at %v (%s)", tc.name, next, m["next_run_at"])
		}
		if m["timezone"] == "" || m["enabled"] != true {
			t.Errorf("%s: %v", tc.name, m)
		}
	}
	e.noServerErrors()
}

// TestScheduleValidation: each invalid write is a 400 naming the field, and
// nothing is stored; PUT replaces (absent optional fields reset).
func TestScheduleValidation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.must(201, "POST", "/api/directives/", `{"name":"d"}`)
	bad := []struct{ body, field string }{
		{`"schedule_type":"cron","cron_expr":"@daily","timezone":"Local"`, "timezone"},
		{`"schedule_type":"cron","cron_expr":"@daily","timezone":"utc+2"`, "timezone"},
		{`"schedule_type":"cron","cron_expr":"@daily","interval_minutes":5`, "interval_minutes"},
		{`"schedule_type":"interval","interval_minutes":5,"cron_expr":"@daily"`, "cron_expr"},
		{`"schedule_type":"cron","cron_expr":""`, "cron_expr"},
		{`"schedule_type":"cron","cron_expr":"* * * *"`, "cron_expr"},
		{`"schedule_type":"cron","cron_expr":"0 0 31 2 *"`, "cron_expr"},
		{`"schedule_type":"interval","interval_minutes":0`, "interval_minutes"},
		{`"schedule_type":"one_shot","max_per_job":-1`, "max_per_job"},
		{`"schedule_type":"one_shot","max_global":1000001`, "max_global"},
		{`"schedule_type":"one_shot","next_run_at":"1999-12-31T23:59:59Z"`, "next_run_at"},
		{`"schedule_type":"one_shot","directive_id":0`, "directive_id"},
		{`"schedule_type":"one_shot","target_host_id":-4`, "target_host_id"},
		{`"schedule_type":"one_shot","task_key":"service_map"`, "task_key"},
		{`"schedule_type":""`, "schedule_type"},
	}
	before := e.counts()
	for _, b := range bad {
		body := fmt.Sprintf(`{"name":"v","task":"log_triage",%s}`, b.body)
		r := e.do("POST", "/api/schedules/", body)
		if r.Status != 400 {
			t.Errorf("%s: %d %s", body, r.Status, r.Body)
			continue
		}
		if f := fieldErrors(t, r); len(f[b.field]) == 0 {
			t.Errorf("%s: fields %v lack %q", body, f, b.field)
		}
	}
	if r := e.do("POST", "/api/schedules/", `{"name":"`+strings.Repeat("n", 201)+`","task":"log_triage","schedule_type":"one_shot"}`); r.Status != 400 || len(fieldErrors(t, r)["name"]) == 0 {
		t.Errorf("long name: %d %s", r.Status, r.Body)
	}
	e.sameRows("invalid schedules", before)

	full := e.must(201, "POST", "/api/schedules/", `{"name":"  full  ","task_key":"log_triage","schedule_type":"interval","interval_minutes":30,"directive_id":1,"target_host_id":1,"max_global":4,"max_per_job":2,"timezone":"Europe/Paris","enabled":false}`).json(t)
	if full["name"] != "full" || num(t, full["directive_id"]) != 1 || num(t, full["target_host_id"]) != 1 || full["enabled"] != false {
		t.Errorf("full schedule: %v", full)
	}
	p := fmt.Sprintf("/api/schedules/%v/", full["id"])
	put := e.must(200, "PUT", p, `{"name":"full","task":"service_map","schedule_type":"interval","interval_minutes":30}`).json(t)
	for k, want := range map[string]string{"task_key": "service_map", "directive_id": "<nil>", "target_host_id": "<nil>",
		"max_global": "<nil>", "max_per_job": "<nil>", "timezone": "UTC", "enabled": "true"} {
		if got := fmt.Sprint(put[k]); got != want {
			t.Errorf("PUT: %s = %s, want %s", k, got, want)
		}
	}
	// PATCH with null clears a limit; a timing change recomputes next_run_at.
	e.must(200, "PATCH", p, `{"max_global":3}`)
	pt := e.must(200, "PATCH", p, `{"max_global":null,"interval_minutes":600}`).json(t)
	if pt["max_global"] != nil || num(t, pt["interval_minutes"]) != 600 {
		t.Errorf("PATCH: %v", pt)
	}
	if d := time.Until(parseTime(t, pt["next_run_at"])); d < 599*time.Minute || d > 601*time.Minute {
		t.Errorf("interval change: next_run_at in %v, want ~10h", d)
	}
	// Renaming onto another schedule's name is a conflict.
	e.must(201, "POST", "/api/schedules/", `{"name":"taken","task":"log_triage","schedule_type":"one_shot"}`)
	if r := e.must(409, "PATCH", p, `{"name":"taken"}`); !contains(r.Body, "exists") {
		t.Errorf("duplicate rename: %s", r.Body)
	}
	// A directive a schedule names cannot be deleted.
	e.must(200, "PATCH", p, `{"directive_id":1}`)
	e.must(409, "DELETE", "/api/directives/1/", "")
	e.noServerErrors()
}

// TestRunNowSources: run-now builds its run from the schedule's directive,
// else the default directive (with the schedule's custom text in the
// snapshot), routes to its target host, and
// refuses (400, no rows) when its task is disabled or its host unusable.
func TestRunNowSources(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	d := e.must(201, "POST", "/api/directives/", `{"name":"weekly","task_config":{"service_map":{"depth":3}}}`).json(t)
	withDir := e.must(201, "POST", "/api/schedules/", fmt.Sprintf(`{"name":"a","task":"service_map","schedule_type":"interval","interval_minutes":60,"directive_id":%v}`, d["id"])).json(t)
	custom := e.must(201, "POST", "/api/schedules/", `{"name":"b","task":"log_triage","schedule_type":"interval","interval_minutes":60,"custom_directive_text":"look for OOM kills"}`).json(t)
	plain := e.must(201, "POST", "/api/schedules/", `{"name":"c","task":"log_triage","schedule_type":"cron","cron_expr":"@daily","target_host_id":1}`).json(t)

	runOf := func(sc map[string]any) map[string]any {
		rn := e.must(201, "POST", fmt.Sprintf("/api/schedules/%v/run-now/", sc["id"]), "").json(t)
		return e.must(200, "GET", fmt.Sprintf("/api/runs/%v/", rn["run_id"]), "").json(t)
	}
	r1 := runOf(withDir)
	if num(t, r1["directive_id"]) != num(t, d["id"]) || objAt(t, r1, "directive_snapshot")["name"] != "weekly" {
		t.Errorf("run-now with directive: %v", r1)
	}
	if j := listAt(t, r1, "jobs")[0]; fmt.Sprint(j["config"]) != "map[depth:3]" || j["task_type"] != "service_map" ||
		num(t, j["schedule_id"]) != num(t, withDir["id"]) {
		t.Errorf("run-now job: %v", j)
	}
	r2 := runOf(custom)
	if snap := objAt(t, r2, "directive_snapshot"); r2["directive_id"] == nil || snap["name"] != "default" ||
		snap["custom_directive_text"] != "look for OOM kills" {
		t.Errorf("run-now with custom text: %v", r2)
	}
	r3 := runOf(plain)
	if num(t, r3["worker_host_id"]) != 1 || objAt(t, r3, "directive_snapshot")["name"] != "default" {
		t.Errorf("run-now of a plain schedule: %v", r3)
	}

	// Disabled task: 400 naming task_key, nothing written.
	e.must(200, "PATCH", "/api/tasks/3/", `{"enabled":false}`)
	before := e.counts()
	r := e.must(400, "POST", fmt.Sprintf("/api/schedules/%v/run-now/", withDir["id"]), "")
	if f := fieldErrors(t, r); len(f["task_key"]) == 0 || !strings.Contains(f["task_key"][0], "disabled") {
		t.Errorf("run-now of a disabled task: %s", r.Body)
	}
	e.sameRows("run-now of a disabled task", before)
	// Target host disabled: 400 naming target_host_id, nothing written.
	e.must(200, "PATCH", "/api/worker-hosts/1/", `{"enabled":false}`)
	r = e.must(400, "POST", fmt.Sprintf("/api/schedules/%v/run-now/", plain["id"]), "")
	if f := fieldErrors(t, r); len(f["target_host_id"]) == 0 {
		t.Errorf("run-now to a disabled host: %s", r.Body)
	}
	e.sameRows("run-now to a disabled host", before)
	// A disabled schedule can still be run by hand.
	e.must(200, "PATCH", "/api/worker-hosts/1/", `{"enabled":true}`)
	e.must(200, "POST", fmt.Sprintf("/api/schedules/%v/disable/", custom["id"]), "")
	e.must(201, "POST", fmt.Sprintf("/api/schedules/%v/run-now/", custom["id"]), "")
	// Oversized body on an action: 413, nothing written.
	before = e.counts()
	if r := e.do("POST", fmt.Sprintf("/api/schedules/%v/run-now/", plain["id"]), `{"x":"`+strings.Repeat("a", MaxBodyBytes)+`"}`); r.Status != 413 {
		t.Errorf("oversized run-now: %d", r.Status)
	}
	e.sameRows("oversized run-now", before)
	e.noServerErrors()
}

// TestScheduleHistoryPaging: history is newest first, counted, and walks with
// limit/offset; enable/disable are idempotent and 404 for unknown ids.
func TestScheduleHistoryPaging(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	sc := e.must(201, "POST", "/api/schedules/", `{"name":"h","task":"log_triage","schedule_type":"interval","interval_minutes":60}`).json(t)
	base := fmt.Sprintf("/api/schedules/%v/", sc["id"])
	var runs []int64
	for i := 0; i < 3; i++ {
		runs = append(runs, num(t, e.must(201, "POST", base+"run-now/", "").json(t)["run_id"]))
	}
	h := e.must(200, "GET", base+"history/", "").json(t)
	items := listAt(t, h, "items")
	if num(t, h["count"]) != 3 || len(items) != 3 {
		t.Fatalf("history: %v", h)
	}
	for i, it := range items {
		if num(t, it["run_id"]) != runs[2-i] || it["status"] != "pending" {
			t.Errorf("history[%d] = %v, want run %d pending", i, it, runs[2-i])
		}
	}
	page := e.must(200, "GET", base+"history/?limit=2&offset=1", "").json(t)
	pi := listAt(t, page, "items")
	if num(t, page["count"]) != 3 || len(pi) != 2 || num(t, pi[0]["run_id"]) != runs[1] || num(t, pi[1]["run_id"]) != runs[0] {
		t.Errorf("history page: %v", page)
	}
	for _, q := range []string{"limit=0", "limit=1001", "offset=-1", "limit=x"} {
		if r := e.do("GET", base+"history/?"+q, ""); r.Status != 400 {
			t.Errorf("history ?%s: %d", q, r.Status)
		}
	}
	empty := e.must(201, "POST", "/api/schedules/", `{"name":"e","task":"log_triage","schedule_type":"one_shot"}`).json(t)
	if r := e.must(200, "GET", fmt.Sprintf("/api/schedules/%v/history/", empty["id"]), ""); strings.TrimSpace(string(r.Body)) != `{"count":0,"items":[]}` {
		t.Errorf("empty history: %s", r.Body)
	}
	for i := 0; i < 2; i++ {
		if m := e.must(200, "POST", base+"disable/", "").json(t); m["enabled"] != false {
			t.Errorf("disable #%d: %v", i, m)
		}
	}
	for i := 0; i < 2; i++ {
		m := e.must(200, "POST", base+"enable/", "").json(t)
		wantShape(t, "enabled schedule", m, scheduleShape)
		if m["enabled"] != true || m["next_run_at"] != sc["next_run_at"] {
			t.Errorf("enable #%d: %v", i, m)
		}
	}
	for _, p := range []string{"/api/schedules/999/enable/", "/api/schedules/999/disable/", "/api/schedules/999/", "/api/schedules/999/history/"} {
		method := "POST"
		if !strings.Contains(p, "able") {
			method = "GET"
		}
		if r := e.must(404, method, p, ""); !contains(r.Body, "Schedule not found") {
			t.Errorf("%s: %s", p, r.Body)
		}
	}
	e.must(204, "DELETE", fmt.Sprintf("/api/schedules/%v", empty["id"]), "")
	e.must(404, "DELETE", fmt.Sprintf("/api/schedules/%v/", empty["id"]), "")
	e.noServerErrors()
}
