package api

import (
	"net/http"
	"strings"
	"testing"
)

// TestBadFiltersAre400: a filter the server cannot read is a 400 naming the
// parameter, never the unfiltered list. Go's URL parser silently drops a
// pair with ';' or a bad %-escape, which is how `?run=99999;x` and
// `?page_size=%zz` used to answer everything.
func TestBadFiltersAre400(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.must(201, "POST", "/api/runs/launch/", `{"tasks":["log_triage"]}`)
	cases := []struct{ path, param string }{
		{"/api/jobs/?run=99999;x", "run"},
		{"/api/jobs/?run=1;status=completed", "run"},
		{"/api/jobs/?status=bogus", "status"},
		{"/api/jobs/?page_size=%zz", "page_size"},
		{"/api/jobs/?limit=%zz", "limit"},
		{"/api/jobs/?runs=1", "runs"},
		{"/api/directives/?page_size=%zz", "page_size"},
		{"/api/directives/?page_size=2&page_size=3", "page_size"},
		{"/api/runs/?status=bogus", "status"},
		{"/api/runs/?stauts=failed", "stauts"},
		{"/api/scheduled-runs/?status=bogus", "status"},
		{"/api/schedules/?kind=bogus", "kind"},
		{"/api/schedules/?enabled=yes", "enabled"},
		{"/api/runs/1/jobs/?limit=0", "limit"},
		{"/api/runs/1/jobs/?offset=-1", "offset"},
		{"/api/runs/1/?expand=jobs", "expand"},
		{"/api/findings/?severity=urgent", "severity"},
		{"/api/nope/?a=1", ""}, // an unknown route stays a 404
	}
	for _, tc := range cases {
		r := e.do(http.MethodGet, tc.path, "")
		if tc.param == "" {
			if r.Status != http.StatusNotFound {
				t.Errorf("GET %s: %d, want 404: %s", tc.path, r.Status, r.Body)
			}
			continue
		}
		if r.Status != http.StatusBadRequest {
			t.Errorf("GET %s: status %d, want 400: %.200s", tc.path, r.Status, r.Body)
			continue
		}
		m := isJSONError(t, r)
		if f := fieldErrors(t, r); len(f[tc.param]) == 0 || !strings.Contains(m["error"].(string), tc.param) {
			t.Errorf("GET %s: 400 does not name %s: %s", tc.path, tc.param, r.Body)
		}
	}
	// Well-formed filters still work, escaped ';' included.
	e.must(200, "GET", "/api/jobs/?run=1&status=pending&task_type=log_triage&limit=5&offset=0", "")
	e.must(200, "GET", "/api/findings/?container=a%3Bb", "")
	e.must(200, "GET", "/api/runs/?", "")
	e.noServerErrors()
}

// TestRunSubCollectionsPage: /api/runs/{id}/jobs/ and /artifacts/ honour
// ?limit= and ?offset= like the other bare arrays.
func TestRunSubCollectionsPage(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.must(201, "POST", "/api/runs/launch/", `{}`) // three jobs, in position order
	all := e.must(200, "GET", "/api/runs/1/jobs/", "").array(t)
	if len(all) != 3 {
		t.Fatalf("%d jobs", len(all))
	}
	page := e.must(200, "GET", "/api/runs/1/jobs/?limit=1&offset=1", "").array(t)
	if len(page) != 1 || page[0]["id"] != all[1]["id"] {
		t.Errorf("limit=1&offset=1: %v, want job %v", page, all[1]["id"])
	}
	if rest := e.must(200, "GET", "/api/runs/1/jobs/?offset=2", "").array(t); len(rest) != 1 || rest[0]["id"] != all[2]["id"] {
		t.Errorf("offset=2: %v", rest)
	}
	if a := e.must(200, "GET", "/api/runs/1/artifacts/?limit=10&offset=5", "").array(t); len(a) != 0 {
		t.Errorf("artifacts: %v", a)
	}
	e.must(404, "GET", "/api/runs/99/jobs/?limit=1", "")
}

// TestNonJSONBodyIs415: a body labelled as anything but JSON is refused
// with 415 before it is read; JSON with parameters, +json types and a body
// without a Content-Type are read as before.
func TestNonJSONBodyIs415(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, ct := range []string{"application/x-www-form-urlencoded", "text/plain", "application/xml", "multipart/form-data; boundary=x", "not a type"} {
		before := e.counts()
		r := e.do(http.MethodPost, "/api/directives/", `{"name":"form"}`, "Content-Type", ct)
		if r.Status != http.StatusUnsupportedMediaType {
			t.Errorf("Content-Type %q: status %d, want 415: %s", ct, r.Status, r.Body)
			continue
		}
		if m := isJSONError(t, r); !strings.Contains(m["error"].(string), "application/json") {
			t.Errorf("Content-Type %q: %s", ct, r.Body)
		}
		e.sameRows(ct, before)
	}
	e.must(201, "POST", "/api/directives/", `{"name":"plain"}`)
	for i, ct := range []string{"application/json; charset=utf-8", "application/merge-patch+json", ""} {
		if r := e.do(http.MethodPatch, "/api/directives/1/", `{"description":"ok"}`, "Content-Type", ct); r.Status != http.StatusOK {
			t.Errorf("%d: Content-Type %q: %d %s", i, ct, r.Status, r.Body)
		}
	}
	// A bodiless action is not refused for a header curl adds by habit.
	e.must(201, "POST", "/api/runs/launch/", `{"tasks":["log_triage"]}`)
	if r := e.do(http.MethodPost, "/api/runs/1/cancel/", "", "Content-Type", "application/x-www-form-urlencoded"); r.Status != http.StatusOK {
		t.Errorf("bodiless cancel: %d %s", r.Status, r.Body)
	}
}
