package api

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cyberbrain/cyberbrain/pkg/testenv"
)

// TestGarbageWritesNothing sends bad input to every write endpoint: each
// answer is a 4xx JSON error, no row changes, nothing is logged as a server
// error (no 500, no recovered panic).
func TestGarbageWritesNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.must(201, "POST", "/api/directives/", `{"name":"keep"}`)
	e.must(201, "POST", "/api/schedules/", `{"name":"keep","task":"log_triage","schedule_type":"interval","interval_minutes":5}`)
	e.must(201, "POST", "/api/container-allowlist/", `{"container_name":"keep"}`)
	e.exec(`UPDATE schedules SET next_run_at = now() + interval '1 hour'`) // stable for the comparison below
	snapshot := func() string {
		var rows []string
		testenv.SQL(e.t, e.st).Raw(`SELECT concat_ws('|', (SELECT string_agg(to_jsonb(d)::text, ',') FROM directives d),
			(SELECT string_agg(to_jsonb(s)::text, ',') FROM schedules s), (SELECT string_agg(to_jsonb(t)::text, ',') FROM task_definitions t),
			(SELECT string_agg(to_jsonb(h)::text, ',') FROM worker_hosts h), (SELECT string_agg(to_jsonb(a)::text, ',') FROM container_allowlist a))`).Scan(&rows)
		return fmt.Sprint(e.counts(), rows)
	}
	before := snapshot()
	bodies := []string{
		`{`, `}`, `[]`, `"x"`, `42`, `nul`, `{"name": }`, `{"name": "a",}`, `{"name":"a"}{"name":"b"}`,
		`{"name": 1}`, `{"name": ["a"]}`, `{"name": {"a":1}}`, `{"name":"a\u0000b","key":"a\u0000"}`,
		`{"unknown_field": true}`, `{"id": 1, "name": "x", "zzz": 1}`,
		`{"directive_id": -1}`, `{"directive_id": 1e400}`, `{"directive_id": 9223372036854775808}`,
		`{"interval_minutes": 1.5}`, `{"max_global": -2147483649}`, `{"enabled": "yes"}`, `{"tags": [1,2]}`,
		`{"task_config": "{}"}`, `{"capabilities": [1]}`, `{"next_run_at": 12}`, `{"worker_host_id": "one"}`,
		"\xff\xfe\x00", strings.Repeat("[", 100000),
	}
	writes := []struct{ method, path string }{
		{"POST", "/api/directives/"}, {"PUT", "/api/directives/1/"}, {"PATCH", "/api/directives/1/"},
		{"POST", "/api/runs/launch/"},
		{"POST", "/api/schedules/"}, {"PUT", "/api/schedules/1/"}, {"PATCH", "/api/schedules/1/"},
		{"POST", "/api/tasks/"}, {"PUT", "/api/tasks/1/"}, {"PATCH", "/api/tasks/1/"},
		{"POST", "/api/container-allowlist/"}, {"PUT", "/api/container-allowlist/1/"}, {"PATCH", "/api/container-allowlist/1/"},
		{"POST", "/api/worker-hosts/"}, {"PUT", "/api/worker-hosts/1/"}, {"PATCH", "/api/worker-hosts/1/"},
	}
	for _, w := range writes {
		for _, b := range bodies {
			r := e.do(w.method, w.path, b)
			if r.Status < 400 || r.Status >= 500 {
				t.Errorf("%s %s %.60q: %d %.200s", w.method, w.path, b, r.Status, r.Body)
				continue
			}
			isJSONError(t, r)
		}
		// Over the 1 MiB limit, declared and chunked.
		big := `{"name":"` + strings.Repeat("a", 2<<20) + `"}`
		if r := e.do(w.method, w.path, big); r.Status != 413 {
			t.Errorf("%s %s 2 MB: %d", w.method, w.path, r.Status)
		}
		req, _ := http.NewRequest(w.method, e.url+w.path, io.MultiReader(strings.NewReader(big))) // no length: chunked
		req.ContentLength = -1
		if res, err := http.DefaultClient.Do(req); err != nil {
			t.Errorf("chunked: %v", err)
		} else {
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != 413 || !bytes.Contains(b, []byte(`"error"`)) {
				t.Errorf("%s %s chunked 2 MB: %d %.100s", w.method, w.path, res.StatusCode, b)
			}
		}
	}
	// Non-numeric, negative and huge ids on every item route.
	for _, p := range []string{"/api/directives/%s/", "/api/runs/%s/", "/api/runs/%s/cancel/", "/api/jobs/%s/", "/api/schedules/%s/run-now/",
		"/api/schedules/%s/enable/", "/api/tasks/%s/", "/api/worker-hosts/%s/health/", "/api/artifacts/%s/download/"} {
		for _, id := range []string{"abc", "-1", "0", "1.5", "99999999999999999999", "%00", "1%20OR%201=1"} {
			path := fmt.Sprintf(p, id)
			method := "GET"
			if strings.HasSuffix(path, "cancel/") || strings.HasSuffix(path, "run-now/") || strings.HasSuffix(path, "enable/") {
				method = "POST"
			}
			if r := e.do(method, path, ""); r.Status != 404 {
				t.Errorf("%s %s: %d %s", method, path, r.Status, r.Body)
			}
		}
	}
	if after := snapshot(); after != before {
		t.Errorf("garbage changed rows:\n%s\n%s", before, after)
	}
	e.noServerErrors()
}

// FuzzLaunchDecode: the launch decoder never panics and rejects garbage with
// a 4xx error.
func FuzzLaunchDecode(f *testing.F) {
	for _, s := range []string{`{}`, `{"directive_id":1,"tasks":["log_triage"]}`, `{"task_ids":[1,2]}`, `{"target_host_id":-1}`,
		`{"tasks":[""]}`, `[`, `{"directive_id":1e99}`, ``, `null`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		req, err := decodeLaunch(b)
		if err != nil {
			var ae *apiError
			if !errors.As(err, &ae) || ae.Status < 400 || ae.Status >= 500 {
				t.Fatalf("decodeLaunch(%q): non-4xx error %v", b, err)
			}
			return
		}
		if req.DirectiveID != nil && *req.DirectiveID <= 0 || req.TargetHostID != nil && *req.TargetHostID <= 0 {
			t.Fatalf("decodeLaunch(%q) accepted a non-positive id", b)
		}
		if len(req.Tasks) > 0 && len(req.TaskIDs) > 0 {
			t.Fatalf("decodeLaunch(%q) accepted tasks and task_ids", b)
		}
	})
}

// FuzzScheduleDecode: the schedule decoder and validation never panic,
// reject garbage with 4xx, and what they accept has valid timing.
func FuzzScheduleDecode(f *testing.F) {
	for _, s := range []string{`{"name":"a","task":"log_triage","schedule_type":"cron","cron_expr":"*/5 * * * *","timezone":"Europe/Berlin"}`,
		`{"name":"a","task_key":"x","schedule_type":"interval","interval_minutes":5}`, `{"schedule_type":"one_shot","next_run_at":"2030-01-01T00:00:00Z"}`,
		`{"cron_expr":"@daily"}`, `{"interval_minutes":null}`, `{`, `{"max_global":0}`} {
		f.Add([]byte(s), false)
		f.Add([]byte(s), true)
	}
	f.Fuzz(func(t *testing.T, b []byte, full bool) {
		iv := 5
		cur := storeScheduleForFuzz(iv)
		w, err := decodeSchedule(b, cur, full)
		if err != nil {
			var ae *apiError
			if !errors.As(err, &ae) || ae.Status < 400 || ae.Status >= 500 {
				t.Fatalf("decodeSchedule(%q): non-4xx error %v", b, err)
			}
			return
		}
		timing := w.Schedule
		if errs := scheduleTiming(timing).Validate(); len(errs) > 0 {
			t.Fatalf("decodeSchedule(%q) accepted invalid timing: %v", b, errs)
		}
		if _, err := scheduleTiming(timing).NextAfter(time.Now(), time.Now()); err != nil {
			t.Fatalf("decodeSchedule(%q): accepted timing has no next slot: %v", b, err)
		}
	})
}
