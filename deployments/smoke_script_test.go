package deployments

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// fakeAPI answers the endpoints scripts/smoke.sh uses, the way SPEC §4–5
// describe them, so the script's own logic (every expectation, the timeout,
// the messages) is tested here; against the real stack it runs with make run.
type fakeAPI struct {
	token         string // required as Bearer when set
	runCompletes  bool   // the run turns completed on its second poll
	scheduledRun  string // status of the run's ScheduledRun
	noSchedule    bool
	mu            sync.Mutex
	polls         int
	directiveName string
}

func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	reply := func(code int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_ = json.NewEncoder(w).Encode(v)
	}
	if strings.HasPrefix(r.URL.Path, "/api/") && f.token != "" && r.Header.Get("Authorization") != "Bearer "+f.token {
		reply(401, map[string]string{"error": "missing or invalid API token"})
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	switch route := r.Method + " " + r.URL.Path; route {
	case "GET /healthz":
		reply(200, map[string]string{"status": "ok"})
	case "POST /api/directives/":
		var body struct{ Name string }
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil || !strings.HasPrefix(body.Name, "smoke-") {
			reply(400, map[string]string{"error": "bad directive"})
			return
		}
		f.directiveName = body.Name
		reply(201, map[string]any{"id": 7, "name": body.Name})
	case "POST /api/runs/launch/":
		var body struct {
			DirectiveID int64    `json:"directive_id"`
			Tasks       []string `json:"tasks"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.DirectiveID != 7 ||
			len(body.Tasks) != 1 || body.Tasks[0] != "log_triage" {
			reply(400, map[string]string{"error": "bad launch"})
			return
		}
		reply(201, map[string]any{"id": 42, "status": "pending"})
	case "GET /api/schedules/":
		results := []map[string]any{{"id": 3, "name": "launch-run-41-log_triage"}}
		if !f.noSchedule {
			results = append([]map[string]any{{"id": 4, "name": "launch-run-42-log_triage"}}, results...)
		}
		reply(200, map[string]any{"count": len(results), "next": nil, "previous": nil, "results": results})
	case "GET /api/runs/42/":
		f.polls++
		status := "pending"
		if f.runCompletes && f.polls >= 2 {
			status = "completed"
		}
		reply(200, map[string]any{"id": 42, "status": status})
	case "GET /api/jobs/":
		if r.URL.Query().Get("run") != "42" {
			reply(200, []any{})
			return
		}
		reply(200, []map[string]any{{"id": 9, "task_type": "log_triage", "status": "completed", "error_message": ""}})
	case "GET /api/scheduled-runs/":
		if r.URL.Query().Get("run") != "42" {
			reply(200, []any{})
			return
		}
		reply(200, []map[string]any{{"id": 5, "status": f.scheduledRun}})
	default:
		reply(404, map[string]string{"error": "not found: " + route})
	}
}

// runSmoke runs scripts/smoke.sh against host with extra environment.
func runSmoke(t *testing.T, host string, env ...string) (int, string, string) {
	t.Helper()
	for _, tool := range []string{"bash", "curl", "jq"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed (apt-get install %s)", tool, tool)
		}
	}
	cmd := exec.Command("bash", filepath.Join(repoRoot(t), "scripts", "smoke.sh"))
	cmd.Env = append(os.Environ(), "HOST="+host, "CYBERBRAIN_API_TOKEN=")
	cmd.Env = append(cmd.Env, env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run smoke.sh: %v", err)
	}
	return code, stdout.String(), stderr.String()
}

func serveFake(t *testing.T, f *fakeAPI) string {
	t.Helper()
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

func TestSmokeScriptPassesWhenTheRunCompletes(t *testing.T) {
	f := &fakeAPI{token: "s3cret", runCompletes: true, scheduledRun: "finished"}
	code, stdout, stderr := runSmoke(t, serveFake(t, f), "CYBERBRAIN_API_TOKEN=s3cret")
	if code != 0 {
		t.Fatalf("smoke.sh exited %d:\n%s%s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "smoke: OK (run 42") {
		t.Errorf("no OK line:\n%s", stdout)
	}
	f.mu.Lock()
	polls := f.polls
	f.mu.Unlock()
	if polls < 2 {
		t.Errorf("the script polled the run %d times; it must wait for completion", polls)
	}
	if strings.Contains(stdout+stderr, "s3cret") {
		t.Error("smoke.sh printed the API token")
	}
}

func TestSmokeScriptFailsClearly(t *testing.T) {
	for _, c := range []struct {
		name string
		api  *fakeAPI
		env  []string
		want string
	}{
		{"no scheduler", &fakeAPI{scheduledRun: "pending"}, []string{"SMOKE_TIMEOUT=2"},
			"run 42 still pending after 2s: is a scheduler running? (docker-compose ps scheduler"},
		{"no schedule", &fakeAPI{noSchedule: true, runCompletes: true, scheduledRun: "finished"}, nil,
			"schedule launch-run-42-log_triage not on the first page of GET /api/schedules/"},
		{"scheduled run not finished", &fakeAPI{runCompletes: true, scheduledRun: "started"}, nil,
			"scheduled runs of run 42 not all finished: started"},
		{"no token", &fakeAPI{token: "s3cret", runCompletes: true, scheduledRun: "finished"}, nil,
			"401 unauthorized: set CYBERBRAIN_API_TOKEN"},
		{"bad timeout", &fakeAPI{}, []string{"SMOKE_TIMEOUT=soon"}, "SMOKE_TIMEOUT must be whole seconds"},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, stdout, stderr := runSmoke(t, serveFake(t, c.api), c.env...)
			if code == 0 {
				t.Fatalf("smoke.sh exited 0:\n%s", stdout)
			}
			if !strings.Contains(stderr, "smoke: FAIL: "+c.want) && !strings.Contains(stderr, c.want) {
				t.Fatalf("smoke.sh stderr lacks %q:\n%s", c.want, stderr)
			}
		})
	}

	t.Run("API down", func(t *testing.T) {
		code, _, stderr := runSmoke(t, "127.0.0.1:"+freePort(t))
		if code == 0 || !strings.Contains(stderr, "cannot reach the API") {
			t.Fatalf("exit %d, stderr:\n%s", code, stderr)
		}
	})
}
