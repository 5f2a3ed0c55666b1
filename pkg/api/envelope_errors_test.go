package api

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
)

// TestEveryCollectionEnvelope: each top-level collection answers exactly
// {count, next, previous, results}, results an array even when empty, and
// honours the page bounds (1 and 1000 accepted, beyond refused).
func TestEveryCollectionEnvelope(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	counts := map[string]int{"/api/directives/": 0, "/api/runs/": 0, "/api/tasks/": 4, "/api/schedules/": 0,
		"/api/container-allowlist/": 0, "/api/worker-hosts/": 1}
	for p, n := range counts {
		r := e.must(200, "GET", p, "")
		m := r.json(t)
		if strings.Join(mapKeys(m), ",") != "count,next,previous,results" {
			t.Errorf("%s keys %v", p, mapKeys(m))
		}
		if num(t, m["count"]) != int64(n) || len(listAt(t, m, "results")) != n || m["next"] != nil || m["previous"] != nil {
			t.Errorf("%s: %s", p, r.Body)
		}
		for _, q := range []string{"page_size=1", "page_size=1000", "page=1", "ordering=id", "ordering=-created_at"} {
			e.must(200, "GET", p+"?"+q, "")
		}
		for q, field := range map[string]string{"page_size=1001": "page_size", "page_size=0": "page_size", "page=0": "page", "page=1000001": "page"} {
			if f := fieldErrors(t, e.must(400, "GET", p+"?"+q, "")); len(f[field]) == 0 {
				t.Errorf("%s?%s: fields %v", p, q, f)
			}
		}
	}
	tasks := listAt(t, e.must(200, "GET", "/api/tasks/?ordering=id", "").json(t), "results")
	wantShape(t, "task", tasks[0], taskShape)
	if tasks[0]["key"] != "log_triage" || tasks[3]["key"] != "noop" || tasks[3]["enabled"] != false {
		t.Errorf("seeded tasks by id: %v", tasks)
	}
	hosts := listAt(t, e.must(200, "GET", "/api/worker-hosts/", "").json(t), "results")
	wantShape(t, "host", hosts[0], hostShape)
	if hosts[0]["name"] != "local" || hosts[0]["type"] != "docker_socket" || hosts[0]["enabled"] != true || hosts[0]["healthy"] != nil {
		t.Errorf("seeded local host: %v", hosts[0])
	}
	e.must(201, "POST", "/api/container-allowlist/", `{"container_name":"web"}`)
	al := listAt(t, e.must(200, "GET", "/api/container-allowlist/", "").json(t), "results")
	wantShape(t, "allow-list entry", al[0], allowlistShape)
	// Runs have no name to order by.
	if f := fieldErrors(t, e.must(400, "GET", "/api/runs/?ordering=name", "")); len(f["ordering"]) == 0 {
		t.Errorf("runs ordering=name: %v", f)
	}
	e.noServerErrors()
}

// TestPageLinks: next/previous are absolute links that keep every other
// query parameter, and following them walks the whole filtered list.
func TestPageLinks(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for i := 0; i < 5; i++ {
		e.must(201, "POST", "/api/runs/launch/", `{"tasks":["log_triage"]}`)
	}
	e.must(200, "POST", "/api/runs/5/cancel/", "")
	var seen []string
	link := "/api/runs/?status=pending&page_size=2&ordering=id"
	pages := 0
	for link != "" {
		pages++
		if pages > 5 {
			t.Fatal("next links do not end")
		}
		m := e.must(200, "GET", link, "").json(t)
		if num(t, m["count"]) != 4 {
			t.Errorf("%s: count %v", link, m["count"])
		}
		for _, r := range listAt(t, m, "results") {
			seen = append(seen, fmt.Sprint(r["id"]))
			if r["status"] != "pending" {
				t.Errorf("filter lost on %s: %v", link, r)
			}
		}
		next, _ := m["next"].(string)
		if next == "" {
			break
		}
		u, err := url.Parse(next)
		if err != nil || !strings.HasPrefix(next, e.url+"/api/runs/?") {
			t.Fatalf("next %q", next)
		}
		q := u.Query()
		if q.Get("status") != "pending" || q.Get("page_size") != "2" || q.Get("ordering") != "id" {
			t.Errorf("next %q drops parameters", next)
		}
		link = strings.TrimPrefix(next, e.url)
	}
	if strings.Join(seen, ",") != "1,2,3,4" || pages != 2 {
		t.Errorf("walked %v in %d pages", seen, pages)
	}
	p2 := e.must(200, "GET", "/api/runs/?status=pending&page_size=2&page=2", "").json(t)
	prev, _ := p2["previous"].(string)
	pu, err := url.Parse(prev)
	if err != nil || pu.Query().Has("page") || pu.Query().Get("status") != "pending" {
		t.Errorf("previous of page 2: %q (page 1 is linked without page=)", prev)
	}
	// Past the end: no results, previous points at the last page.
	far := e.must(200, "GET", "/api/runs/?page_size=2&page=9", "").json(t)
	if len(listAt(t, far, "results")) != 0 || far["next"] != nil || !strings.Contains(fmt.Sprint(far["previous"]), "page=3") {
		t.Errorf("past the end: %v", far)
	}
	e.noServerErrors()
}

// TestErrorBodies: the error JSON is {"error"} or {"error","fields"} and
// nothing else, with messages that name the problem.
func TestErrorBodies(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	cases := []struct {
		method, path, body string
		status             int
		fields             map[string]string // field -> substring of its first message; nil: no fields key
		msg                string
	}{
		{"POST", "/api/directives/", `{"name":"a","colour":"red"}`, 400, map[string]string{"colour": "unknown field"}, "invalid colour"},
		{"POST", "/api/directives/", `{"name":7}`, 400, map[string]string{"name": "must be a string, not number"}, "invalid name"},
		{"POST", "/api/tasks/", `{"key":"k","max_attempts":"3"}`, 400, map[string]string{"max_attempts": "must be an integer"}, "invalid max_attempts"},
		{"POST", "/api/tasks/", `{"key":"k","enabled":1}`, 400, map[string]string{"enabled": "true or false"}, ""},
		{"POST", "/api/container-allowlist/", `{"tags":{"a":1}}`, 400, map[string]string{"tags": "must be an array"}, ""},
		{"POST", "/api/runs/launch/", `{"task_ids":[1,-2]}`, 400, map[string]string{"task_ids": "positive"}, "invalid launch request"},
		{"POST", "/api/directives/", `{"name":"a"`, 400, nil, "malformed JSON"},
		{"POST", "/api/directives/", `{"name":"a",}`, 400, nil, "malformed JSON at byte"},
		{"POST", "/api/directives/", ``, 400, nil, "request body is required"},
		{"POST", "/api/directives/", `null`, 400, nil, "must be a JSON object"},
		{"GET", "/api/directives/42/", ``, 404, nil, "Directive not found"},
		{"GET", "/api/runs/42/", ``, 404, nil, "Run not found"},
		{"GET", "/api/schedules/42/", ``, 404, nil, "Schedule not found"},
		{"GET", "/api/worker-hosts/42/", ``, 404, nil, "Worker host not found"},
		{"GET", "/api/container-allowlist/42/", ``, 404, nil, "Allow-list entry not found"},
		{"GET", "/api/runs/42/jobs/", ``, 404, nil, "Run not found"},
		{"DELETE", "/api/runs/1/", ``, 405, nil, "method not allowed"},
		{"PATCH", "/api/runs/launch/", `{}`, 405, nil, "method not allowed"},
	}
	for _, tc := range cases {
		r := e.do(tc.method, tc.path, tc.body)
		if r.Status != tc.status {
			t.Errorf("%s %s %s: %d %s, want %d", tc.method, tc.path, tc.body, r.Status, r.Body, tc.status)
			continue
		}
		m := isJSONError(t, r)
		if !strings.Contains(m["error"].(string), tc.msg) {
			t.Errorf("%s %s: error %q lacks %q", tc.method, tc.path, m["error"], tc.msg)
		}
		if tc.fields == nil {
			if strings.Join(mapKeys(m), ",") != "error" {
				t.Errorf("%s %s: keys %v, want only error", tc.method, tc.path, mapKeys(m))
			}
			continue
		}
		if strings.Join(mapKeys(m), ",") != "error,fields" {
			t.Errorf("%s %s: keys %v", tc.method, tc.path, mapKeys(m))
		}
		f := fieldErrors(t, r)
		for k, want := range tc.fields {
			if len(f[k]) == 0 || !strings.Contains(f[k][0], want) {
				t.Errorf("%s %s %s: fields[%s] = %v, want %q", tc.method, tc.path, tc.body, k, f[k], want)
			}
		}
	}
	if r := e.do("DELETE", "/api/runs/1/", ""); !strings.Contains(r.Header.Get("Allow"), "GET") {
		t.Errorf("405 Allow header %q", r.Header.Get("Allow"))
	}
	e.noServerErrors()
}
