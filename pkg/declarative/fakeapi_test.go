package declarative

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/cyberbrain/cyberbrain/pkg/client"
)

// fakeAPI is an in-memory stand-in for the collections apply and export
// use, so that plans can be computed and applied without a database. It
// records every write as "METHOD path body".
type fakeAPI struct {
	mu     sync.Mutex
	colls  map[string][]map[string]any // collection path → objects (API terms)
	nextID int64
	writes []string
	// fail answers the write "METHOD path" with this status and body.
	fail map[string][2]string
	url  string
}

func newFake(t *testing.T) (*fakeAPI, *client.Client) {
	t.Helper()
	f := &fakeAPI{colls: map[string][]map[string]any{}, nextID: 100, fail: map[string][2]string{}}
	for _, k := range kinds {
		f.colls[k.path] = nil
	}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	f.url = srv.URL
	c, err := client.New(srv.URL, "")
	if err != nil {
		t.Fatal(err)
	}
	return f, c
}

// add stores an object (API terms) in a collection; id is required.
func (f *fakeAPI) add(path string, obj map[string]any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.colls[path] = append(f.colls[path], normal(obj).(map[string]any))
}

func (f *fakeAPI) Writes() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.writes)
}

func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	coll, id := r.URL.Path, int64(0)
	if _, ok := f.colls[coll]; !ok {
		i := strings.LastIndex(strings.TrimSuffix(coll, "/"), "/")
		n, err := strconv.ParseInt(strings.Trim(coll[i:], "/"), 10, 64)
		coll, id = coll[:i+1], n
		if _, ok := f.colls[coll]; !ok || err != nil {
			http.Error(w, `{"error":"no such path"}`, http.StatusNotFound)
			return
		}
	}
	if r.Method == http.MethodGet {
		if fail, ok := f.fail["GET "+coll]; ok {
			w.WriteHeader(atoi(fail[0]))
			fmt.Fprint(w, fail[1])
			return
		}
		items := f.colls[coll]
		if items == nil {
			items = []map[string]any{}
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"count": len(items), "next": nil, "results": items})
		return
	}
	b, _ := io.ReadAll(r.Body)
	f.writes = append(f.writes, strings.TrimSpace(r.Method+" "+r.URL.Path+" "+string(b)))
	if fail, ok := f.fail[r.Method+" "+r.URL.Path]; ok {
		w.WriteHeader(atoi(fail[0]))
		fmt.Fprint(w, fail[1])
		return
	}
	var body map[string]any
	_ = json.Unmarshal(b, &body)
	switch r.Method {
	case http.MethodPost:
		f.nextID++
		body["id"] = f.nextID
		f.colls[coll] = append(f.colls[coll], normal(body).(map[string]any))
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(body)
	case http.MethodPatch:
		for _, o := range f.colls[coll] {
			if int64(o["id"].(float64)) == id {
				maps.Copy(o, normal(body).(map[string]any))
				_ = json.NewEncoder(w).Encode(o)
				return
			}
		}
		http.Error(w, `{"error":"not found"}`, http.StatusNotFound)
	case http.MethodDelete:
		f.colls[coll] = slices.DeleteFunc(f.colls[coll], func(o map[string]any) bool { return int64(o["id"].(float64)) == id })
		w.WriteHeader(http.StatusNoContent)
	}
}

func atoi(s string) int { n, _ := strconv.Atoi(s); return n }

// API objects with every field at the value a fresh create gives, then over.
func apiHost(id int64, name string, over map[string]any) map[string]any {
	return with(map[string]any{"id": id, "name": name, "type": "docker_socket", "base_url": "", "tls_verify": true,
		"capabilities": map[string]any{}, "enabled": true, "healthy": nil, "last_checked_at": "2024-01-01T00:00:00Z"}, over)
}

func apiDirective(id int64, name string, over map[string]any) map[string]any {
	return with(map[string]any{"id": id, "name": name, "description": "", "task_config": map[string]any{},
		"created_at": "2024-01-01T00:00:00Z"}, over)
}

func apiTask(id int64, key string, over map[string]any) map[string]any {
	return with(map[string]any{"id": id, "key": key, "name": key, "description": "", "enabled": true,
		"default_config": map[string]any{}, "max_concurrent": nil, "timeout_seconds": 300, "max_attempts": 3,
		"needs_docker": true, "needs_gpu": false}, over)
}

func apiSchedule(id int64, name string, over map[string]any) map[string]any {
	return with(map[string]any{"id": id, "name": name, "task_key": "noop", "directive_id": nil, "custom_directive_text": "",
		"target_host_id": nil, "enabled": true, "schedule_type": "interval", "interval_minutes": 5, "cron_expr": "",
		"timezone": "UTC", "max_global": nil, "max_per_job": nil, "next_run_at": "2030-01-01T00:00:00Z"}, over)
}

func apiAllow(id int64, host any, name string, over map[string]any) map[string]any {
	return with(map[string]any{"id": id, "worker_host_id": host, "container_name": name, "container_id": "",
		"description": "", "enabled": true, "tags": []any{}}, over)
}

func with(base, over map[string]any) map[string]any {
	maps.Copy(base, over)
	return base
}

func mustParse(t *testing.T, yaml string) *File {
	t.Helper()
	f, err := Parse(strings.NewReader(yaml))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return f
}

func plan(t *testing.T, c *client.Client, yaml string, prune bool) *Plan {
	t.Helper()
	p, err := MakePlan(context.Background(), c, mustParse(t, yaml), Options{Prune: prune})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// lines is the plan's changes as their String forms.
func lines(p *Plan) []string {
	var out []string
	for _, ch := range p.Changes {
		out = append(out, ch.String())
	}
	return out
}
