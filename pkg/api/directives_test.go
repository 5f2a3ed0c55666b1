package api

import (
	"fmt"
	"strings"
	"testing"
)

func TestDirectivesCRUD(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	d := e.must(201, "POST", "/api/directives/", `{"name":"a","description":"x","task_config":{"log_triage":{"tail":10}}}`).json(t)
	id := int64(d["id"].(float64))
	steps := []struct {
		method, path, body string
		status             int
		want               string
	}{
		{"POST", "/api/directives/", `{"name":"a"}`, 409, `already exists`},
		{"POST", "/api/directives/", `{"description":"no name"}`, 400, `"name":["is required"]`},
		{"POST", "/api/directives/", `{"name":"   "}`, 400, `"name"`},
		{"POST", "/api/directives/", `{"name":"` + strings.Repeat("n", 201) + `"}`, 400, `200 characters`},
		{"POST", "/api/directives/", `{"name":"b","task_config":[1]}`, 400, `task_config`},
		{"POST", "/api/directives/", `{"name":"b","task_config":"x"}`, 400, `task_config`},
		{"GET", fmt.Sprintf("/api/directives/%d/", id), "", 200, `"task_config":{"log_triage":{"tail":10}}`},
		{"GET", fmt.Sprintf("/api/directives/%d", id), "", 200, `"name":"a"`},
		{"PATCH", fmt.Sprintf("/api/directives/%d/", id), `{"description":"y"}`, 200, `"description":"y"`},
		{"GET", fmt.Sprintf("/api/directives/%d/", id), "", 200, `"name":"a"`},
		{"PUT", fmt.Sprintf("/api/directives/%d/", id), `{"description":"z"}`, 400, `"name"`},
		{"PUT", fmt.Sprintf("/api/directives/%d/", id), `{"id":99,"name":"a2","created_at":"x"}`, 200, `"description":""`},
		{"GET", "/api/directives/999/", "", 404, `Directive not found`},
		{"GET", "/api/directives/abc/", "", 404, `not a valid id`},
		{"GET", "/api/directives/-1/", "", 404, `not a valid id`},
		{"GET", "/api/directives/99999999999999999999999/", "", 404, `not a valid id`},
		{"PATCH", "/api/directives/999/", `{"name":"q"}`, 404, `Directive not found`},
		{"DELETE", "/api/directives/999/", "", 404, `Directive not found`},
	}
	for _, s := range steps {
		r := e.do(s.method, s.path, s.body)
		if r.Status != s.status || !contains(r.Body, s.want) {
			t.Errorf("%s %s %s: %d %s, want %d containing %s", s.method, s.path, s.body, r.Status, r.Body, s.status, s.want)
		}
	}
	// Referenced by a run: 409, kept. Unreferenced: 204.
	e.must(201, "POST", "/api/runs/launch/", fmt.Sprintf(`{"directive_id":%d,"tasks":["log_triage"]}`, id))
	r := e.must(409, "DELETE", fmt.Sprintf("/api/directives/%d/", id), "")
	if !contains(r.Body, "referenced") {
		t.Errorf("delete of referenced directive: %s", r.Body)
	}
	other := e.must(201, "POST", "/api/directives/", `{"name":"gone"}`).json(t)
	e.must(204, "DELETE", fmt.Sprintf("/api/directives/%v/", other["id"]), "")
	e.must(404, "GET", fmt.Sprintf("/api/directives/%v/", other["id"]), "")
	e.noServerErrors()
}

func TestPagination(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for i := 1; i <= 5; i++ {
		e.must(201, "POST", "/api/directives/", fmt.Sprintf(`{"name":"d%d"}`, i))
	}
	p1 := e.must(200, "GET", "/api/directives/?page_size=2", "").json(t)
	if p1["count"].(float64) != 5 || len(p1["results"].([]any)) != 2 || p1["previous"] != nil {
		t.Fatalf("page 1: %v", p1)
	}
	if first := p1["results"].([]any)[0].(map[string]any)["name"]; first != "d5" {
		t.Errorf("newest first: got %v", first)
	}
	next, _ := p1["next"].(string)
	if !strings.HasPrefix(next, e.url+"/api/directives/?") || !strings.Contains(next, "page=2") || !strings.Contains(next, "page_size=2") {
		t.Fatalf("next = %q", next)
	}
	// A parameter given twice is ambiguous: 400, not whichever comes first.
	isJSONError(t, e.must(400, "GET", strings.TrimPrefix(next, e.url)+"&page=3", ""))
	last := e.must(200, "GET", "/api/directives/?page_size=2&page=3", "").json(t)
	if last["next"] != nil || len(last["results"].([]any)) != 1 || !strings.Contains(last["previous"].(string), "page=2") {
		t.Errorf("last page: %v", last)
	}
	asc := e.must(200, "GET", "/api/directives/?ordering=name", "").json(t)
	if asc["results"].([]any)[0].(map[string]any)["name"] != "d1" {
		t.Errorf("ordering=name: %v", asc["results"])
	}
	beyond := e.must(200, "GET", "/api/directives/?page=50", "").json(t)
	if len(beyond["results"].([]any)) != 0 || beyond["count"].(float64) != 5 {
		t.Errorf("page beyond the end: %v", beyond)
	}
	for _, q := range []string{"page=0", "page=-1", "page=x", "page_size=0", "page_size=1001", "page_size=1e3", "ordering=secret", "ordering=id%3Bdrop"} {
		r := e.do("GET", "/api/directives/?"+q, "")
		if r.Status != 400 {
			t.Errorf("?%s: %d %s", q, r.Status, r.Body)
		}
		isJSONError(t, r)
	}
	// Run filters.
	e.must(201, "POST", "/api/runs/launch/", `{"tasks":["log_triage"]}`)
	dir := e.must(201, "POST", "/api/runs/launch/", `{"directive_id":1,"tasks":["log_triage"]}`).json(t)
	for q, n := range map[string]int{"": 2, "status=pending": 2, "status=completed": 0, "directive=1": 1, "directive=999": 0} {
		got := e.must(200, "GET", "/api/runs/?"+q, "").json(t)
		if int(got["count"].(float64)) != n || len(got["results"].([]any)) != n {
			t.Errorf("runs ?%s: %v, want %d", q, got["count"], n)
		}
	}
	for _, q := range []string{"status=bogus", "directive=x", "directive=-3"} {
		if r := e.do("GET", "/api/runs/?"+q, ""); r.Status != 400 {
			t.Errorf("runs ?%s: %d", q, r.Status)
		}
	}
	for _, q := range []string{"status=running", "task_type=nope", "limit=1&offset=5"} {
		if arr := e.must(200, "GET", "/api/jobs/?"+q, "").array(t); len(arr) != 0 {
			t.Errorf("jobs ?%s: %v", q, arr)
		}
	}
	if arr := e.must(200, "GET", "/api/jobs/?limit=1", "").array(t); len(arr) != 1 || arr[0]["run_id"] != dir["id"] {
		t.Errorf("jobs ?limit=1 (newest first): %v", arr)
	}
	for _, q := range []string{"limit=0", "limit=1001", "offset=-1", "run=abc", "status=done"} {
		if r := e.do("GET", "/api/jobs/?"+q, ""); r.Status != 400 {
			t.Errorf("jobs ?%s: %d", q, r.Status)
		}
		if r := e.do("GET", "/api/scheduled-runs/?"+q, ""); r.Status != 400 {
			t.Errorf("scheduled-runs ?%s: %d", q, r.Status)
		}
	}
	if arr := e.must(200, "GET", "/api/scheduled-runs/?schedule=1&status=pending", "").array(t); len(arr) != 1 {
		t.Errorf("scheduled-runs ?schedule=1: %v", arr)
	}
	e.noServerErrors()
}
