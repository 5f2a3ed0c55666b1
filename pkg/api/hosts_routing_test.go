package api

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/cyberbrain/cyberbrain/pkg/store"
)

// fakeChecker answers health checks per host name and counts the calls.
type fakeChecker struct {
	mu      sync.Mutex
	results map[string]store.HostHealth
	errs    map[string]error
	calls   map[string]int
}

func newFakeChecker() *fakeChecker {
	return &fakeChecker{results: map[string]store.HostHealth{}, errs: map[string]error{}, calls: map[string]int{}}
}

func (f *fakeChecker) Health(_ context.Context, h store.WorkerHost) (store.HostHealth, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls[h.Name]++
	if err := f.errs[h.Name]; err != nil {
		return store.HostHealth{}, err
	}
	return f.results[h.Name], nil
}

func (f *fakeChecker) set(name string, res store.HostHealth, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.results[name], f.errs[name] = res, err
}

func (f *fakeChecker) n(name string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[name]
}

// TestHealthCheckRecords: ?check=true asks the checker once and records its
// verdict; a plain GET (or check=false) never calls it nor writes; a failed
// check keeps last_seen_at and records the error.
func TestHealthCheckRecords(t *testing.T) {
	t.Parallel()
	fc := newFakeChecker()
	e := newEnv(t, func(c *Config) { c.HostChecker = fc })
	two := 2
	fc.set("local", store.HostHealth{Healthy: true, EngineVersion: "27.1.0", GPUs: &two}, nil)

	for _, q := range []string{"", "?check=false", "?check=0", "?check=FALSE"} {
		r := e.must(200, "GET", "/api/worker-hosts/1/health/"+q, "").json(t)
		if r["checked"] != false || r["healthy"] != nil || r["last_checked_at"] != nil {
			t.Errorf("health%s: %v", q, r)
		}
	}
	if fc.n("local") != 0 {
		t.Fatalf("plain GETs called the checker %d times", fc.n("local"))
	}
	ok := e.must(200, "GET", "/api/worker-hosts/1/health/?check=1", "").json(t)
	wantShape(t, "health", ok, map[string]string{"id": "number", "name": "string", "enabled": "bool", "healthy": "bool",
		"last_seen_at": "time", "last_checked_at": "time", "last_error": "string", "engine_version": "string", "checked": "bool"})
	if ok["healthy"] != true || ok["engine_version"] != "27.1.0" || ok["checked"] != true || ok["last_error"] != "" || fc.n("local") != 1 {
		t.Errorf("healthy check: %v (calls %d)", ok, fc.n("local"))
	}
	h := e.must(200, "GET", "/api/worker-hosts/1/", "").json(t)
	if h["healthy"] != true || h["last_seen_at"] != ok["last_seen_at"] || fmt.Sprint(objAt(t, h, "capabilities")["gpus"]) != "2" {
		t.Errorf("host after check: %v", h)
	}
	// An operator's own gpus value is not overwritten by discovery.
	e.must(200, "PATCH", "/api/worker-hosts/1/", `{"capabilities":{"gpus":1}}`)
	e.must(200, "GET", "/api/worker-hosts/1/health/?check=true", "")
	h = e.must(200, "GET", "/api/worker-hosts/1/", "").json(t)
	if caps := objAt(t, h, "capabilities"); fmt.Sprint(caps["gpus"]) != "1" {
		t.Errorf("discovery overwrote the operator's gpus: %v", caps)
	}
	seen := h["last_seen_at"]

	fc.set("local", store.HostHealth{}, errors.New("Cannot connect to the Docker daemon at unix:///var/run/docker.sock"))
	bad := e.must(200, "GET", "/api/worker-hosts/1/health?check=TRUE", "").json(t)
	// The answer holds the error's class; the raw error is in the log only.
	if bad["healthy"] != false || bad["last_error"] != "engine unreachable" ||
		bad["last_seen_at"] != seen || bad["engine_version"] != "27.1.0" {
		t.Errorf("failed check: %v (seen before %v)", bad, seen)
	}
	// An unknown host is a 404 before any check.
	calls := fc.n("local")
	e.must(404, "GET", "/api/worker-hosts/77/health/?check=true", "")
	if fc.n("local") != calls {
		t.Errorf("404 host was checked")
	}
	e.noServerErrors()
}

// TestLaunchRouting: launch puts Docker tasks on a usable host — healthy and
// recently seen first, then the fewest running jobs — never on a disabled,
// unhealthy or GPU-less one, and answers 400 saying why when none is left.
func TestLaunchRouting(t *testing.T) {
	t.Parallel()
	fc := newFakeChecker()
	e := newEnv(t, func(c *Config) { c.HostChecker = fc })
	e.must(201, "POST", "/api/worker-hosts/", `{"name":"a","type":"docker_tcp","base_url":"tcp://10.0.0.1:2376"}`) // id 2
	e.must(201, "POST", "/api/worker-hosts/", `{"name":"b","type":"docker_tcp","base_url":"tcp://10.0.0.2:2376"}`) // id 3
	hostOf := func(body string) any {
		t.Helper()
		return e.must(201, "POST", "/api/runs/launch/", body).json(t)["worker_host_id"]
	}
	check := func(id int) { e.must(200, "GET", fmt.Sprintf("/api/worker-hosts/%d/health/?check=true", id), "") }

	// b is seen healthy just now: it beats never-checked hosts.
	fc.set("b", store.HostHealth{Healthy: true, EngineVersion: "26"}, nil)
	check(3)
	if h := hostOf(`{"tasks":["log_triage"]}`); fmt.Sprint(h) != "3" {
		t.Errorf("routing with one healthy host: %v, want 3", h)
	}
	// a healthy too, b busy with running jobs: a wins.
	fc.set("a", store.HostHealth{Healthy: true}, nil)
	check(2)
	e.exec(`UPDATE jobs SET status = 'running', started_at = now(), claimed_by = 'x', claimed_until = now() + interval '1 hour' WHERE worker_host_id = 3`)
	if h := hostOf(`{"tasks":["service_map"]}`); fmt.Sprint(h) != "2" {
		t.Errorf("routing by load: %v, want 2", h)
	}
	// An explicit target is honoured even when busier.
	if h := hostOf(`{"tasks":["service_map"],"target_host_id":3}`); fmt.Sprint(h) != "3" {
		t.Errorf("explicit target: %v", h)
	}
	// a unhealthy, b disabled: only local (never checked) is left.
	fc.set("a", store.HostHealth{}, errors.New("connection refused"))
	check(2)
	e.must(200, "PATCH", "/api/worker-hosts/3/", `{"enabled":false}`)
	if h := hostOf(`{"tasks":["log_triage"]}`); fmt.Sprint(h) != "1" {
		t.Errorf("routing around unhealthy/disabled: %v, want 1", h)
	}
	r := e.must(400, "POST", "/api/runs/launch/", `{"tasks":["log_triage"],"target_host_id":2}`)
	if f := fieldErrors(t, r); len(f["target_host_id"]) == 0 || !strings.Contains(f["target_host_id"][0], `"a" is unhealthy (engine unreachable)`) {
		t.Errorf("target unhealthy: %s", r.Body)
	}
	// GPU: local says it has none; gpu_report has nowhere to go.
	e.must(200, "PATCH", "/api/worker-hosts/1/", `{"capabilities":{"gpus":0}}`)
	before := e.counts()
	r = e.must(400, "POST", "/api/runs/launch/", `{"tasks":["gpu_report"]}`)
	msg := fieldErrors(t, r)["target_host_id"]
	if len(msg) == 0 || !strings.Contains(msg[0], "no usable worker host") || !strings.Contains(msg[0], "lacks a GPU") ||
		!strings.Contains(msg[0], "disabled") || !strings.Contains(msg[0], "unhealthy") {
		t.Errorf("no GPU host: %s", r.Body)
	}
	e.sameRows("launch with no usable host", before)
	// Non-GPU tasks still run on local; a GPU host brought back takes gpu_report.
	if h := hostOf(`{"tasks":["log_triage"]}`); fmt.Sprint(h) != "1" {
		t.Errorf("non-GPU launch: %v", h)
	}
	e.must(200, "PATCH", "/api/worker-hosts/3/", `{"enabled":true,"capabilities":{"gpus":4}}`)
	if h := hostOf(`{"tasks":["gpu_report"]}`); fmt.Sprint(h) != "3" {
		t.Errorf("GPU launch: %v, want 3", h)
	}
	e.noServerErrors()
}
