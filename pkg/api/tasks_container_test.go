package api

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/cyberbrain/cyberbrain/pkg/containerspec"
)

func containerEnv(t *testing.T) *env {
	return newEnv(t, func(c *Config) {
		c.ContainerPolicy = containerspec.Policy{Images: []string{"postgres:16*", "registry.lan/ops/*"},
			Mounts: []string{"pgdumps", "/srv/backups"}}
	})
}

// A container task is defined with its spec; the env it was given is
// stored but never returned, and a body without env keeps it.
func TestContainerTaskEnvIsWriteOnly(t *testing.T) {
	e := containerEnv(t)
	body := `{"key": "nightly_dump", "kind": "container", "timeout_seconds": 600, "max_concurrent": 1,
		"default_config": {"image": "postgres:16-alpine", "command": ["pg_dump", "-f", "/backup/db.sql"],
		"env": {"PGPASSWORD": "s3cret-value"}, "mounts": [{"source": "pgdumps", "target": "/backup"}]}}`
	created := e.must(201, "POST", "/api/tasks/", body)
	if strings.Contains(string(created.Body), "s3cret-value") || strings.Contains(string(created.Body), "PGPASSWORD") {
		t.Fatalf("create answer reveals the env: %s", created.Body)
	}
	m := created.json(t)
	if m["kind"] != "container" || m["needs_docker"] != true {
		t.Fatalf("kind/needs_docker = %v/%v", m["kind"], m["needs_docker"])
	}
	id := int64(m["id"].(float64))
	for _, path := range []string{"/api/tasks/", fmt.Sprintf("/api/tasks/%d/", id)} {
		if r := e.must(200, "GET", path, ""); strings.Contains(string(r.Body), "s3cret-value") {
			t.Fatalf("GET %s reveals the env: %s", path, r.Body)
		}
	}
	// PATCH without env keeps it; a new env replaces it.
	e.must(200, "PATCH", fmt.Sprintf("/api/tasks/%d/", id), `{"default_config": {"image": "postgres:16", "command": ["true"]}}`)
	if got := e.scalar(`SELECT container_env->>'PGPASSWORD' FROM task_definitions WHERE id = ?`, id); got != "s3cret-value" {
		t.Fatalf("env after PATCH without env = %v", got)
	}
	e.must(200, "PATCH", fmt.Sprintf("/api/tasks/%d/", id), `{"default_config": {"image": "postgres:16", "env": {"A": "b"}}}`)
	if got := e.scalar(`SELECT container_env::text FROM task_definitions WHERE id = ?`, id); got != `{"A": "b"}` {
		t.Fatalf("env after PATCH with env = %v", got)
	}
	if got := e.scalar(`SELECT jsonb_exists(default_config, 'env') FROM task_definitions WHERE id = ?`, id); got != false {
		t.Fatalf("env stored in default_config: %v", got)
	}
	for _, entry := range e.logs.All() {
		if b, _ := json.Marshal(entry.ContextMap()); strings.Contains(entry.Message+string(b), "s3cret") {
			t.Fatalf("a log line holds the secret: %s %s", entry.Message, b)
		}
	}
}

// Bad specs are refused with 400 naming the field, and nothing is stored.
func TestContainerTaskBadSpecsAreRefusedNamingTheField(t *testing.T) {
	e := containerEnv(t)
	before := e.scalar(`SELECT count(*) FROM task_definitions`)
	cases := []struct{ name, config, field string }{
		{"unknown field", `{"image": "postgres:16", "cap_add": ["ALL"]}`, "default_config.cap_add"},
		{"privileged", `{"image": "postgres:16", "privileged": true}`, "default_config.privileged"},
		{"host pid", `{"image": "postgres:16", "pid": "host"}`, "default_config.pid"},
		{"host network", `{"image": "postgres:16", "network": "host"}`, "default_config.network"},
		{"container network", `{"image": "postgres:16", "network": "container:db"}`, "default_config.network"},
		{"mount not allowed", `{"image": "postgres:16", "mounts": [{"source": "/etc", "target": "/x"}]}`, "default_config.mounts[0].source"},
		{"volume not allowed", `{"image": "postgres:16", "mounts": [{"source": "other", "target": "/x"}]}`, "default_config.mounts[0].source"},
		{"mount over root", `{"image": "postgres:16", "mounts": [{"source": "pgdumps", "target": "/"}]}`, "default_config.mounts[0].target"},
		{"image off the allow-list", `{"image": "alpine:3"}`, "default_config.image"},
		{"no image", `{"command": ["true"]}`, "default_config.image"},
		{"bad pull", `{"image": "postgres:16", "pull": "sometimes"}`, "default_config.pull"},
		{"bad type", `{"image": "postgres:16", "memory_mb": "lots"}`, "default_config.memory_mb"},
		{"bad env key", `{"image": "postgres:16", "env": {"A-B": "x"}}`, "default_config.env"},
		{"negative cpus", `{"image": "postgres:16", "cpus": -1}`, "default_config.cpus"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.do("POST", "/api/tasks/", `{"key": "bad_one", "kind": "container", "default_config": `+c.config+`}`)
			if r.Status != 400 {
				t.Fatalf("status %d: %s", r.Status, r.Body)
			}
			var body struct{ Fields map[string][]string }
			_ = json.Unmarshal(r.Body, &body)
			if len(body.Fields[c.field]) == 0 {
				t.Fatalf("400 does not name %s: %s", c.field, r.Body)
			}
		})
	}
	r := e.do("POST", "/api/tasks/", `{"key": "noop", "kind": "container", "default_config": {"image": "postgres:16"}}`)
	if r.Status != 400 || !strings.Contains(string(r.Body), "built-in") {
		t.Fatalf("a container task under a built-in key: %d %s", r.Status, r.Body)
	}
	r = e.do("POST", "/api/tasks/", `{"key": "k", "kind": "script", "default_config": {}}`)
	if r.Status != 400 || !strings.Contains(string(r.Body), `"kind"`) {
		t.Fatalf("unknown kind: %d %s", r.Status, r.Body)
	}
	if after := e.scalar(`SELECT count(*) FROM task_definitions`); after != before {
		t.Fatalf("task definitions %v -> %v: a refused spec was stored", before, after)
	}
}

// With no --container-images, no container task can be defined; PATCHing a
// built-in definition into a container task is checked the same way.
func TestContainerTasksNeedAnImageAllowList(t *testing.T) {
	e := newEnv(t)
	r := e.do("POST", "/api/tasks/", `{"key": "dump", "kind": "container", "default_config": {"image": "postgres:16"}}`)
	if r.Status != 400 || !strings.Contains(string(r.Body), "allow-list") {
		t.Fatalf("status %d: %s", r.Status, r.Body)
	}
	m := e.must(201, "POST", "/api/tasks/", `{"key": "plain", "default_config": {"anything": 1}}`).json(t)
	if m["kind"] != "builtin" {
		t.Fatalf("default kind = %v", m["kind"])
	}
	id := int64(m["id"].(float64))
	if r := e.do("PATCH", fmt.Sprintf("/api/tasks/%d/", id), `{"kind": "container"}`); r.Status != 400 ||
		!strings.Contains(string(r.Body), "default_config.anything") {
		t.Fatalf("PATCH to container: %d %s", r.Status, r.Body)
	}
}
