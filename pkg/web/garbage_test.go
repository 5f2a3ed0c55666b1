package web_test

import (
	"net/url"
	"strings"
	"testing"
)

// Whatever a visitor sends — odd ids, unknown filters, broken forms — the
// dashboard answers with a page (or a redirect), never a server error, and
// stores nothing it should not.
func TestBadInputNeverFails(t *testing.T) {
	e := newEnv(t)
	fc := newFormClient(t, e)
	long := strings.Repeat("x", 100_000)
	for _, p := range []string{
		"/runs/abc", "/runs/-1", "/runs/99999999999999999999", "/runs/0", "/runs?status=bogus", "/runs?before=x",
		"/runs?after=-5", "/runs?directive=%00", "/runs?task=" + long, "/runs?status=failed&status=ok",
		"/runs/1/artifacts/abc", "/runs/abc/artifacts/1", "/schedules/abc", "/schedules/999", "/schedules?page=-1",
		"/schedules?page=abc", "/schedules/1?page=99999999999", "/schedules/preview?cron_expr=%ff%fe",
		"/schedules/preview?schedule_type=bogus", "/schedules/preview?timezone=Mars/Base", "/hosts/abc", "/hosts/999",
		"/hosts/abc/map", "/hosts/999/gpus", "/static/../../etc/passwd", "/static/nothing.js", "/nonexistent",
		"/login?next=//evil.example", "/launch?task=" + long,
	} {
		res, body := fc.get(p)
		if res.StatusCode >= 500 {
			t.Errorf("GET %.80s: %d %.200s", p, res.StatusCode, body)
		}
	}
	for _, c := range []struct {
		path string
		form url.Values
	}{
		{"/launch", url.Values{"task": {"<script>", "noop", ""}, "directive": {"abc"}, "host": {"-5"}}},
		{"/launch", url.Values{"task": {long}}},
		{"/schedules", url.Values{"name": {long}, "schedule_type": {"cron"}, "cron_expr": {"* * *"}, "task": {"nope"}}},
		{"/schedules", url.Values{"schedule_type": {"interval"}, "interval_minutes": {"-3"}, "max_global": {"1e99"}}},
		{"/schedules", url.Values{"schedule_type": {"one_shot"}, "next_run_at": {"yesterday"}, "timezone": {"\x00"}}},
		{"/schedules/abc/run-now", url.Values{}}, {"/schedules/999/delete", url.Values{}},
		{"/schedules/999/enable", url.Values{}}, {"/runs/abc/cancel", url.Values{}}, {"/runs/999/cancel", url.Values{}},
		{"/hosts/1/allowlist", url.Values{"container_name": {long}, "tags": {strings.Repeat(",", 5000)}}},
		{"/hosts/1/allowlist/abc/delete", url.Values{}}, {"/hosts/999/check", url.Values{}},
		{"/login", url.Values{"token": {long}}},
	} {
		res, body := fc.post(c.path, c.form)
		if res.StatusCode >= 500 {
			t.Errorf("POST %s: %d %.200s", c.path, res.StatusCode, body)
		}
		if res.StatusCode >= 400 && !strings.Contains(res.Header.Get("Content-Type"), "text/html") {
			t.Errorf("POST %s: %d answered %q, want a page", c.path, res.StatusCode, res.Header.Get("Content-Type"))
		}
	}
	var n int64
	testenvSQLCount(t, e, `SELECT (SELECT count(*) FROM runs) + (SELECT count(*) FROM schedules) +
		(SELECT count(*) FROM container_allowlist)`, &n)
	if n != 0 {
		t.Errorf("bad forms stored %d rows", n)
	}
}
