package api

import (
	"net/http"
	"strings"
	"testing"
)

// TestTextLimits: every text field has a limit (names 200 characters, free
// text 64 KiB, JSON configs 256 KiB), answered with a 400 naming the field
// before anything is written; values at the limit are accepted.
func TestTextLimits(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	name200 := strings.Repeat("é", MaxNameChars) // characters, not bytes
	text := func(n int) string { return strings.Repeat("x", n) }
	config := func(n int) string { return `{"k":"` + text(n-8) + `"}` } // n bytes of JSON
	cases := []struct {
		name, path, body, field string // field "" = accepted
	}{
		{"name at the limit", "/api/directives/", `{"name":"` + name200 + `"}`, ""},
		{"name over", "/api/directives/", `{"name":"` + name200 + `x"}`, "name"},
		{"description at the limit", "/api/directives/", `{"name":"d64","description":"` + text(MaxTextBytes) + `"}`, ""},
		{"description over", "/api/directives/", `{"name":"d","description":"` + text(MaxTextBytes+1) + `"}`, "description"},
		{"task_config at the limit", "/api/directives/", `{"name":"c256","task_config":` + config(MaxConfigBytes) + `}`, ""},
		{"task_config over", "/api/directives/", `{"name":"c","task_config":` + config(MaxConfigBytes+1) + `}`, "task_config"},
		{"custom_directive_text over", "/api/schedules/",
			`{"name":"s","task_key":"noop","schedule_type":"one_shot","custom_directive_text":"` + text(MaxTextBytes+1) + `"}`, "custom_directive_text"},
		{"schedule name over", "/api/schedules/", `{"name":"` + text(201) + `","task_key":"noop","schedule_type":"one_shot"}`, "name"},
		{"cron_expr over", "/api/schedules/", `{"name":"c","task_key":"noop","schedule_type":"cron","cron_expr":"` + text(201) + `"}`, "cron_expr"},
		{"task description over", "/api/tasks/", `{"key":"k","description":"` + text(MaxTextBytes+1) + `"}`, "description"},
		{"task default_config over", "/api/tasks/", `{"key":"k","default_config":` + config(MaxConfigBytes+1) + `}`, "default_config"},
		{"host tls_key over", "/api/worker-hosts/", `{"name":"h","type":"docker_tcp","base_url":"tcp://h:2376","tls_key":"` + text(MaxTextBytes+1) + `"}`, "tls_key"},
		{"host capabilities over", "/api/worker-hosts/", `{"name":"h","capabilities":` + config(MaxConfigBytes+1) + `}`, "capabilities"},
		{"allow-list description over", "/api/container-allowlist/", `{"container_name":"n","description":"` + text(MaxTextBytes+1) + `"}`, "description"},
		{"allow-list tags over", "/api/container-allowlist/", `{"container_name":"n","tags":["` + text(MaxConfigBytes) + `"]}`, "tags"},
	}
	for _, tc := range cases {
		before := e.counts()
		r := e.do(http.MethodPost, tc.path, tc.body)
		if tc.field == "" {
			if r.Status != http.StatusCreated {
				t.Errorf("%s: status %d, want 201: %.300s", tc.name, r.Status, r.Body)
			}
			continue
		}
		if r.Status != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400: %.300s", tc.name, r.Status, r.Body)
			continue
		}
		if f := fieldErrors(t, r); len(f[tc.field]) == 0 {
			t.Errorf("%s: 400 does not name %s: %.300s", tc.name, tc.field, r.Body)
		}
		e.sameRows(tc.name, before)
	}
	e.noServerErrors()
}

// TestNULRejected: a NUL character in any string field, at any depth of a
// JSON field, is a 400 naming the field, checked before the database (which
// would refuse it with SQLSTATE 22021/22P05); nothing is written and no
// PostgreSQL message reaches the client.
func TestNULRejected(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	cases := []struct{ path, body, field string }{
		{"/api/schedules/", `{"name":"s","task_key":"no\u0000op","schedule_type":"one_shot"}`, "task_key"},
		{"/api/schedules/", `{"name":"s\u0000","task_key":"noop","schedule_type":"one_shot"}`, "name"},
		{"/api/schedules/", `{"name":"s","task_key":"noop","schedule_type":"one_shot","custom_directive_text":"a\u0000"}`, "custom_directive_text"},
		{"/api/schedules/", `{"name":"s","task_key":"noop","schedule_type":"cron","cron_expr":"@daily\u0000"}`, "cron_expr"},
		{"/api/directives/", `{"name":"d","description":"\u0000"}`, "description"},
		{"/api/directives/", `{"name":"d","task_config":{"log_triage":{"tail":"\u0000"}}}`, "task_config"},
		{"/api/directives/", `{"name":"d","task_config":{"a\u0000b":1}}`, "task_config"},
		{"/api/tasks/", `{"key":"k","name":"\u0000"}`, "name"},
		{"/api/worker-hosts/", `{"name":"h","base_url":"unix:///var/run/docker.sock\u0000"}`, "base_url"},
		{"/api/worker-hosts/", `{"name":"h","capabilities":{"labels":["a\u0000"]}}`, "capabilities"},
		{"/api/container-allowlist/", `{"container_name":"n\u0000"}`, "container_name"},
		{"/api/container-allowlist/", `{"container_name":"n","tags":["\u0000"]}`, "tags"},
		{"/api/runs/launch/", `{"tasks":["log_\u0000triage"]}`, "tasks"},
	}
	for _, tc := range cases {
		before := e.counts()
		r := e.do(http.MethodPost, tc.path, tc.body)
		if r.Status != http.StatusBadRequest {
			t.Errorf("POST %s %s: status %d, want 400: %s", tc.path, tc.body, r.Status, r.Body)
			continue
		}
		if f := fieldErrors(t, r); len(f[tc.field]) == 0 {
			t.Errorf("POST %s %s: 400 does not name %s: %s", tc.path, tc.body, tc.field, r.Body)
		}
		if contains(r.Body, "SQLSTATE") || contains(r.Body, "invalid byte sequence") || contains(r.Body, "unsupported Unicode") {
			t.Errorf("POST %s: database message echoed: %s", tc.path, r.Body)
		}
		e.sameRows(tc.path, before)
	}
	e.must(201, "POST", "/api/directives/", `{"name":"d1"}`)
	if r := e.must(400, "PATCH", "/api/directives/1/", `{"description":"x\u0000y"}`); len(fieldErrors(t, r)["description"]) == 0 {
		t.Errorf("PATCH: %s", r.Body)
	}
	// Query filters reach SQL as text too.
	for _, q := range []string{"/api/jobs/?task_type=no%00op", "/api/findings/?container=a%00"} {
		r := e.must(400, "GET", q, "")
		if len(fieldErrors(t, r)) != 1 {
			t.Errorf("GET %s: %s", q, r.Body)
		}
	}
	e.noServerErrors()
}

// TestEscapedBackslashIsNotNUL: a literal escaped backslash followed by u0000
// is ordinary text, not a NUL: accepted.
func TestEscapedBackslashIsNotNUL(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.must(201, "POST", "/api/directives/", `{"name":"d","description":"a\\u0000b"}`)
	if d := r.json(t)["description"]; d != `a\u0000b` {
		t.Errorf("description = %q", d)
	}
}
