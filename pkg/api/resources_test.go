package api

import (
	"fmt"
	"strings"
	"testing"

	"github.com/cyberbrain/cyberbrain/pkg/dockerhost"
	"github.com/cyberbrain/cyberbrain/pkg/testenv"
)

func TestTasksAllowlistHosts(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	steps := []struct {
		method, path, body string
		status             int
		want               string
	}{
		{"GET", "/api/tasks/", "", 200, `"count":4`},
		{"GET", "/api/tasks/1/", "", 200, `"key":"log_triage"`},
		{"POST", "/api/tasks/", `{"key":"disk_check","name":"Disk"}`, 201, `"max_attempts":3`},
		{"POST", "/api/tasks/", `{"key":"disk_check"}`, 409, `already exists`},
		{"POST", "/api/tasks/", `{"key":"Bad Key"}`, 400, `"key"`},
		{"POST", "/api/tasks/", `{"key":"x","max_attempts":0}`, 400, `max_attempts`},
		{"POST", "/api/tasks/", `{"key":"x","timeout_seconds":-1}`, 400, `timeout_seconds`},
		{"POST", "/api/tasks/", `{"key":"x","default_config":[]}`, 400, `default_config`},
		{"PATCH", "/api/tasks/4/", `{"enabled":true}`, 200, `"enabled":true`},
		{"PUT", "/api/tasks/5/", `{"key":"disk_check","max_concurrent":2}`, 200, `"max_concurrent":2`},
		{"DELETE", "/api/tasks/5/", "", 204, ``},
		{"GET", "/api/tasks/5/", "", 404, `Task not found`},

		{"POST", "/api/container-allowlist/", `{"container_name":"nginx","tags":["web"]}`, 201, `"tags":["web"]`},
		{"POST", "/api/container-allowlist/", `{"description":"neither"}`, 400, `container_name`},
		{"POST", "/api/container-allowlist/", `{"container_id":"XYZ"}`, 400, `container_id`},
		{"POST", "/api/container-allowlist/", `{"container_name":"a","worker_host_id":77}`, 400, `worker_host_id`},
		{"POST", "/api/container-allowlist/", `{"container_name":"a","tags":"web"}`, 400, `tags`},
		{"GET", "/api/container-allowlist/", "", 200, `"count":1`},
		{"PATCH", "/api/container-allowlist/1/", `{"enabled":false,"worker_host_id":1}`, 200, `"worker_host_id":1`},
		{"GET", "/api/container-allowlist/1/", "", 200, `"enabled":false`},
		{"DELETE", "/api/container-allowlist/1/", "", 204, ``},
		{"DELETE", "/api/container-allowlist/1/", "", 404, `not found`},

		{"GET", "/api/worker-hosts/", "", 200, `"name":"local"`},
		{"POST", "/api/worker-hosts/", `{"name":"gpu1","type":"docker_tcp","base_url":"tcp://10.0.0.5:2376","tls_key":"SECRET-KEY","tls_cert":"SECRET-CERT","capabilities":{"gpus":2}}`, 201, `"gpus":2`},
		{"POST", "/api/worker-hosts/", `{"name":"gpu1"}`, 409, `already exists`},
		{"POST", "/api/worker-hosts/", `{"name":"t","type":"docker_tcp"}`, 400, `base_url`},
		{"POST", "/api/worker-hosts/", `{"name":"t","type":"podman"}`, 400, `"type"`},
		{"POST", "/api/worker-hosts/", `{"name":"t","capabilities":{"gpus":-1}}`, 400, `capabilities`},
		{"POST", "/api/worker-hosts/", `{"name":"t","capabilities":{"gpus":"two"}}`, 400, `capabilities`},
		{"PATCH", "/api/worker-hosts/2/", `{"enabled":false}`, 200, `"enabled":false`},
		{"GET", "/api/worker-hosts/2/health/", "", 200, `"healthy":null`},
		{"GET", "/api/worker-hosts/2/health/?check=true", "", 503, `health checks unavailable`},
		{"GET", "/api/worker-hosts/2/health/?check=maybe", "", 400, `check`},
		{"GET", "/api/worker-hosts/99/health/", "", 404, `not found`},
	}
	for _, s := range steps {
		r := e.do(s.method, s.path, s.body)
		if r.Status != s.status || !contains(r.Body, s.want) {
			t.Errorf("%s %s %s: %d %s, want %d containing %s", s.method, s.path, s.body, r.Status, r.Body, s.status, s.want)
		}
		if contains(r.Body, "SECRET") || contains(r.Body, "tls_key") || contains(r.Body, "tls_cert") {
			t.Errorf("%s %s leaks TLS material: %s", s.method, s.path, r.Body)
		}
	}
	// The local host runs a launched job: deleting it is a conflict.
	e.must(201, "POST", "/api/runs/launch/", `{"tasks":["log_triage"],"target_host_id":1}`)
	if r := e.must(409, "DELETE", "/api/worker-hosts/1/", ""); !contains(r.Body, "referenced") {
		t.Errorf("delete of referenced host: %s", r.Body)
	}
	if r := e.must(409, "DELETE", "/api/tasks/1/", ""); !contains(r.Body, "referenced") {
		t.Errorf("delete of referenced task: %s", r.Body)
	}
	if v := e.scalar(`SELECT tls_key FROM worker_hosts WHERE name = 'gpu1'`); fmt.Sprint(v) != "SECRET-KEY" {
		t.Errorf("tls_key not stored: %v", v)
	}
	e.noServerErrors()
}

// The health check reaches the real engine: the local one answers, a TCP
// address nothing listens on is recorded unhealthy with the error's class.
func TestHostHealthCheck(t *testing.T) {
	t.Parallel()
	testenv.Docker(t)
	cases := []struct {
		name    string
		baseURL string
		want    string
	}{
		{"healthy", "", `"healthy":true`},
		{"unreachable", "tcp://127.0.0.1:1", `"last_error":"engine unreachable"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			pool := dockerhost.NewPool()
			t.Cleanup(pool.Close)
			e := newEnv(t, func(c *Config) { c.HostChecker = pool })
			if tc.baseURL != "" {
				e.exec(`UPDATE worker_hosts SET type = 'docker_tcp', base_url = ? WHERE id = 1`, tc.baseURL)
			}
			plain := e.must(200, "GET", "/api/worker-hosts/1/health/", "")
			if !contains(plain.Body, `"healthy":null`) || !contains(plain.Body, `"checked":false`) {
				t.Errorf("plain GET: %s", plain.Body)
			}
			if v := e.scalar(`SELECT last_checked_at IS NULL FROM worker_hosts WHERE id = 1`); v != true {
				t.Errorf("a plain GET recorded a check")
			}
			r := e.must(200, "GET", "/api/worker-hosts/1/health?check=true", "")
			if !contains(r.Body, tc.want) || !contains(r.Body, `"checked":true`) {
				t.Errorf("check: %s", r.Body)
			}
			if v := e.scalar(`SELECT last_checked_at IS NOT NULL FROM worker_hosts WHERE id = 1`); v != true {
				t.Errorf("check not recorded")
			}
		})
	}
}

func TestReportsArtifactsTokens(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	run := e.must(201, "POST", "/api/runs/launch/", `{"tasks":["log_triage"]}`).json(t)
	id := run["id"]
	job := run["jobs"].([]any)[0].(map[string]any)["id"]
	e.exec(`UPDATE runs SET report_markdown = '# ok', report_json = '{"n":1}' WHERE id = ?`, id)
	e.exec(`INSERT INTO artifacts (run_id, job_id, name, content_type, size, content) VALUES (?, ?, 'report "x".md', 'text/markdown', 4, '\x2320a0'::bytea)`, id, job)
	e.exec(`INSERT INTO job_attempts (job_id, attempt, claimant, outcome, error) VALUES (?, 1, 'host:1', 'lost', 'lease expired')`, job)
	e.exec(`INSERT INTO llm_calls (job_id, model, prompt_tokens, completion_tokens, total_tokens) VALUES (?, 'm1', 10, 5, 15), (?, 'm1', 1, 1, 2), (?, 'm2', 3, 0, 3)`, job, job, job)

	rep := e.must(200, "GET", fmt.Sprintf("/api/runs/%v/report/", id), "").json(t)
	if rep["run_id"] != id || rep["report_markdown"] != "# ok" || len(rep["artifacts"].([]any)) != 1 {
		t.Errorf("report: %v", rep)
	}
	arts := e.must(200, "GET", fmt.Sprintf("/api/runs/%v/artifacts/", id), "").array(t)
	if len(arts) != 1 || arts[0]["size"].(float64) != 4 || arts[0]["content"] != nil {
		t.Errorf("artifacts: %v", arts)
	}
	aid := arts[0]["id"]
	e.must(200, "GET", fmt.Sprintf("/api/artifacts/%v/", aid), "")
	dl := e.must(200, "GET", fmt.Sprintf("/api/artifacts/%v/download/", aid), "")
	if dl.Header.Get("Content-Type") != "text/markdown" || !strings.HasPrefix(dl.Header.Get("Content-Disposition"), "attachment") || string(dl.Body) != "\x23\x20\xa0" {
		t.Errorf("download: %v %q", dl.Header, dl.Body)
	}
	jd := e.must(200, "GET", fmt.Sprintf("/api/jobs/%v/", job), "").json(t)
	atts, _ := jd["attempts"].([]any)
	if len(atts) != 1 || atts[0].(map[string]any)["outcome"] != "lost" {
		t.Errorf("job attempts: %v", jd)
	}
	ts := e.must(200, "GET", "/api/token-stats/", "").json(t)
	if ts["total_tokens"].(float64) != 20 || ts["calls"].(float64) != 3 || len(ts["models"].([]any)) != 2 {
		t.Errorf("token stats: %v", ts)
	}
	for _, p := range []string{"/api/runs/999/report/", "/api/runs/999/artifacts/", "/api/runs/999/jobs/", "/api/artifacts/999/",
		"/api/artifacts/999/download/", "/api/jobs/999/", "/api/runs/999/"} {
		isJSONError(t, e.must(404, "GET", p, ""))
	}
	e.noServerErrors()
}
