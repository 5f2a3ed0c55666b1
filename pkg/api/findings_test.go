package api

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cyberbrain/cyberbrain/pkg/store"
	"github.com/cyberbrain/cyberbrain/pkg/testenv"
)

// seedFindings stores a log_triage run and job on each of two hosts (local,
// id 1, and edge, id 60) and these findings, created at base plus the given
// minutes. It returns base.
func seedFindings(t *testing.T, e *env, rows []seedFinding) time.Time {
	t.Helper()
	e.exec(`INSERT INTO worker_hosts (id, name, enabled) VALUES (60, 'edge', true)`)
	jobs := map[int64]store.Job{}
	for _, host := range []int64{1, 60} {
		h := host
		run := store.Run{Status: "completed", WorkerHostID: &h, DirectiveSnapshot: store.JSON(`{}`)}
		if err := testenv.SQL(t, e.st).Create(&run).Error; err != nil {
			t.Fatalf("create run: %v", err)
		}
		job := store.Job{RunID: run.ID, TaskType: "log_triage", Status: "completed", Config: store.JSON(`{}`),
			WorkerHostID: &h, MaxAttempts: 1, TimeoutSeconds: 60, Attempt: 1}
		if err := testenv.SQL(t, e.st).Create(&job).Error; err != nil {
			t.Fatalf("create job: %v", err)
		}
		jobs[host] = job
	}
	base := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	for i, r := range rows {
		j := jobs[r.host]
		e.exec(`INSERT INTO findings (run_id, job_id, worker_host_id, container_name, severity, kind, rank, statement, evidence, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?::jsonb, ?)`, j.RunID, j.ID, r.host, r.container, r.severity, r.kind, i,
			r.container+" "+r.kind, fmt.Sprintf(`{"n": %d}`, i), base.Add(time.Duration(r.minute)*time.Minute))
	}
	return base
}

type seedFinding struct {
	host      int64
	container string
	severity  string
	kind      string
	minute    int
}

var findingRows = []seedFinding{
	{1, "api", "critical", "oom", 0},
	{1, "api", "high", "restart", 1},
	{1, "db", "medium", "new_template", 2},
	{60, "api", "high", "health", 3},
	{60, "worker", "low", "resolved_template", 4},
	{1, "api", "high", "new_template", 5},
}

// statements lists the results' statements in order.
func statements(t *testing.T, r resp) []string {
	t.Helper()
	var out []string
	for _, f := range listAt(t, r.json(t), "results") {
		out = append(out, f["statement"].(string))
	}
	return out
}

// TestFindingsFilters: each filter alone and together, newest first.
func TestFindingsFilters(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	base := seedFindings(t, e, findingRows)
	since := base.Add(3 * time.Minute).Format(time.RFC3339)
	cases := []struct {
		query string
		want  string
	}{
		{"", "api new_template,worker resolved_template,api health,db new_template,api restart,api oom"},
		{"?host=60", "worker resolved_template,api health"},
		{"?container=api", "api new_template,api health,api restart,api oom"},
		{"?severity=high", "api new_template,api health,api restart"},
		{"?since=" + since, "api new_template,worker resolved_template,api health"},
		{"?host=1&container=api&severity=high", "api new_template,api restart"},
		{"?container=api&since=" + since, "api new_template,api health"},
		{"?container=nobody", ""},
		{"?since=" + strings.Replace(base.Add(time.Hour).Format(time.RFC3339Nano), "Z", "%2B00:00", 1), ""},
	}
	for _, c := range cases {
		r := e.must(200, "GET", "/api/findings/"+c.query, "")
		got := strings.Join(statements(t, r), ",")
		if got != c.want {
			t.Errorf("GET /api/findings/%s = %q, want %q", c.query, got, c.want)
		}
		if n := num(t, r.json(t)["count"]); int(n) != len(statements(t, r)) {
			t.Errorf("%s: count %d for %d results", c.query, n, len(statements(t, r)))
		}
	}
	e.noServerErrors()
}

// TestFindingsRowShape pins the fields a dashboard or an alert reads.
func TestFindingsRowShape(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	seedFindings(t, e, findingRows[:1])
	r := e.must(200, "GET", "/api/findings/", "")
	rows := listAt(t, r.json(t), "results")
	if len(rows) != 1 {
		t.Fatalf("results = %v", rows)
	}
	wantShape(t, "finding", rows[0], map[string]string{"id": "number", "run_id": "number", "job_id": "number",
		"worker_host_id": "number", "container": "string", "severity": "string", "kind": "string", "rank": "number",
		"statement": "string", "evidence": "object", "created_at": "string"})
	if rows[0]["severity"] != "critical" || rows[0]["kind"] != "oom" || objAt(t, rows[0], "evidence")["n"] != 0.0 {
		t.Errorf("row = %v", rows[0])
	}
}

// TestFindingsBadFilters: a bad filter value is a 400 JSON error naming
// the parameter, and nothing is listed.
func TestFindingsBadFilters(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, c := range []struct{ query, field string }{
		{"host=abc", "host"},
		{"host=0", "host"},
		{"host=-3", "host"},
		{"severity=urgent", "severity"},
		{"severity=CRITICAL", "severity"},
		{"since=yesterday", "since"},
		{"since=2026-11-30", "since"},
		{"page=0", "page"},
		{"page_size=100000", "page_size"},
		{"page_size=x", "page_size"},
	} {
		r := e.do("GET", "/api/findings/?"+c.query, "")
		if r.Status != 400 {
			t.Errorf("?%s: status %d, want 400: %s", c.query, r.Status, r.Body)
			continue
		}
		isJSONError(t, r)
		if f := fieldErrors(t, r); len(f[c.field]) == 0 {
			t.Errorf("?%s: error fields %v do not name %s", c.query, f, c.field)
		}
	}
	e.noServerErrors()
}

// TestFindingsPagination: pages of the newest-first list with next and
// previous links that keep the filters.
func TestFindingsPagination(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	seedFindings(t, e, findingRows)
	p1 := e.must(200, "GET", "/api/findings/?container=api&page_size=3", "").json(t)
	if num(t, p1["count"]) != 4 || len(listAt(t, p1, "results")) != 3 || p1["previous"] != nil {
		t.Fatalf("page 1 = %v", p1)
	}
	next, _ := p1["next"].(string)
	if !strings.Contains(next, "page=2") || !strings.Contains(next, "container=api") || !strings.Contains(next, "page_size=3") {
		t.Fatalf("next = %q, want page 2 with the filter and size", next)
	}
	path := next[strings.Index(next, "/api/"):]
	p2 := e.must(200, "GET", path, "")
	if got := statements(t, p2); len(got) != 1 || got[0] != "api oom" {
		t.Errorf("page 2 = %v, want the oldest, api oom", got)
	}
	m := p2.json(t)
	if m["next"] != nil || !strings.Contains(fmt.Sprint(m["previous"]), "container=api") {
		t.Errorf("page 2 links next=%v previous=%v", m["next"], m["previous"])
	}
	beyond := e.must(200, "GET", "/api/findings/?container=api&page_size=3&page=9", "").json(t)
	if len(listAt(t, beyond, "results")) != 0 || beyond["next"] != nil || !strings.Contains(fmt.Sprint(beyond["previous"]), "page=2") {
		t.Errorf("past the end = %v, want no results and a link back to page 2", beyond)
	}
	e.noServerErrors()
}
