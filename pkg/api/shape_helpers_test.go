package api

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"
)

// jsonType names the JSON type of a decoded value.
func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "bool"
	case float64:
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

// wantShape checks that m has every key of shape with one of the JSON types
// listed for it ("string|null"); "time" is an RFC 3339 UTC string and
// "time|null" allows null too.
func wantShape(t *testing.T, what string, m map[string]any, shape map[string]string) {
	t.Helper()
	keys := make([]string, 0, len(shape))
	for k := range shape {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v, ok := m[k]
		if !ok {
			t.Errorf("%s: key %q missing (have %v)", what, k, mapKeys(m))
			continue
		}
		okType := false
		for _, want := range strings.Split(shape[k], "|") {
			got := jsonType(v)
			if want == "time" && got == "string" {
				s := v.(string)
				tm, err := time.Parse(time.RFC3339Nano, s)
				if err != nil || !strings.HasSuffix(s, "Z") || tm.IsZero() {
					t.Errorf("%s: %s = %q is not an RFC 3339 UTC time", what, k, s)
				}
				okType = true
			} else if want == got {
				okType = true
			}
		}
		if !okType {
			t.Errorf("%s: %s = %v (%s), want %s", what, k, v, jsonType(v), shape[k])
		}
	}
}

func mapKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// num reads a JSON number as int64 (ids, counts).
func num(t *testing.T, v any) int64 {
	t.Helper()
	f, ok := v.(float64)
	if !ok {
		t.Fatalf("%v (%T) is not a JSON number", v, v)
	}
	return int64(f)
}

// obj returns the object at m[k].
func objAt(t *testing.T, m map[string]any, k string) map[string]any {
	t.Helper()
	o, ok := m[k].(map[string]any)
	if !ok {
		t.Fatalf("%q is not an object: %v", k, m[k])
	}
	return o
}

// listAt returns the array of objects at m[k].
func listAt(t *testing.T, m map[string]any, k string) []map[string]any {
	t.Helper()
	a, ok := m[k].([]any)
	if !ok {
		t.Fatalf("%q is not an array: %v", k, m[k])
	}
	out := make([]map[string]any, len(a))
	for i, v := range a {
		if out[i], ok = v.(map[string]any); !ok {
			t.Fatalf("%q[%d] is not an object: %v", k, i, v)
		}
	}
	return out
}

// fieldErrors returns the "fields" of an error body, failing when absent.
func fieldErrors(t *testing.T, r resp) map[string][]string {
	t.Helper()
	var b ErrorBody
	if err := json.Unmarshal(r.Body, &b); err != nil {
		t.Fatalf("error body %s: %v", r.Body, err)
	}
	if len(b.Fields) == 0 {
		t.Errorf("error body has no fields: %s", r.Body)
	}
	return b.Fields
}

// sameRows fails when a rejected request changed any client-writable table.
func (e *env) sameRows(what string, before map[string]int64) {
	e.t.Helper()
	if after := e.counts(); fmt.Sprint(after) != fmt.Sprint(before) {
		e.t.Errorf("%s changed rows: %v -> %v", what, before, after)
	}
}

// Shapes of the resources the API returns (the guide's jq filters read them).
var (
	runShape = map[string]string{
		"id": "number", "directive_id": "number|null", "status": "string", "directive_snapshot": "object",
		"worker_host_id": "number|null", "created_at": "time", "started_at": "time|null", "completed_at": "time|null",
		"error_message": "string", "report_markdown": "string", "report_json": "object|null",
	}
	jobShape = map[string]string{
		"id": "number", "run_id": "number", "schedule_id": "number|null", "task_type": "string", "position": "number",
		"status": "string", "config": "object", "worker_host_id": "number|null", "attempt": "number",
		"max_attempts": "number", "timeout_seconds": "number", "claimed_by": "string", "claimed_until": "time|null",
		"cancel_requested": "bool", "created_at": "time", "started_at": "time|null", "completed_at": "time|null",
		"result": "object|null", "error_message": "string",
	}
	scheduleShape = map[string]string{
		"id": "number", "name": "string", "task_key": "string", "directive_id": "number|null",
		"custom_directive_text": "string", "target_host_id": "number|null", "enabled": "bool", "schedule_type": "string",
		"interval_minutes": "number|null", "cron_expr": "string", "timezone": "string", "max_global": "number|null",
		"max_per_job": "number|null", "last_run_at": "time|null", "next_run_at": "time|null", "claimed_by": "string",
		"claimed_until": "time|null", "created_at": "time", "updated_at": "time",
	}
	scheduledRunShape = map[string]string{
		"id": "number", "schedule_id": "number", "run_id": "number", "job_id": "number|null", "scheduled_for": "time",
		"status": "string", "created_at": "time", "started_at": "time|null", "finished_at": "time|null",
		"error_summary": "string",
	}
	directiveShape = map[string]string{
		"id": "number", "name": "string", "description": "string", "task_config": "object",
		"created_at": "time", "updated_at": "time",
	}
	hostShape = map[string]string{
		"id": "number", "name": "string", "type": "string", "base_url": "string", "tls_verify": "bool",
		"capabilities": "object", "enabled": "bool", "healthy": "bool|null", "last_seen_at": "time|null",
		"last_checked_at": "time|null", "last_error": "string", "engine_version": "string",
	}
	taskShape = map[string]string{
		"id": "number", "key": "string", "name": "string", "description": "string", "enabled": "bool",
		"default_config": "object", "max_concurrent": "number|null", "timeout_seconds": "number",
		"max_attempts": "number", "needs_docker": "bool", "needs_gpu": "bool",
	}
	allowlistShape = map[string]string{
		"id": "number", "worker_host_id": "number|null", "container_name": "string", "container_id": "string",
		"description": "string", "enabled": "bool", "tags": "array",
	}
)
