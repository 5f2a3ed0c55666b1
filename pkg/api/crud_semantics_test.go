package api

import (
	"fmt"
	"strings"
	"testing"
)

// TestPutBackWhatWasRead: a client that GETs a row and PUTs it back unchanged
// is not refused for the read-only fields and changes nothing but updated_at.
func TestPutBackWhatWasRead(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.must(201, "POST", "/api/directives/", `{"name":"d","description":"x","task_config":{"log_triage":{"tail":5}}}`)
	e.must(201, "POST", "/api/container-allowlist/", `{"container_name":"nginx","container_id":"abc123","tags":["web","edge"],"worker_host_id":1}`)
	e.must(201, "POST", "/api/schedules/", `{"name":"s","task":"service_map","schedule_type":"cron","cron_expr":"15 4 * * 1","timezone":"Asia/Tokyo","max_global":2,"directive_id":1}`)
	e.must(201, "POST", "/api/tasks/", `{"key":"disk_check","name":"Disk","max_concurrent":3,"default_config":{"min_free":10},"needs_docker":false}`)
	for _, p := range []string{"/api/directives/1/", "/api/container-allowlist/1/", "/api/schedules/1/", "/api/tasks/5/",
		"/api/tasks/1/", "/api/worker-hosts/1/"} {
		before := e.must(200, "GET", p, "")
		after := e.do("PUT", p, string(before.Body))
		if after.Status != 200 {
			t.Errorf("PUT %s of its own GET: %d %s", p, after.Status, after.Body)
			continue
		}
		b, a := before.json(t), after.json(t)
		for k, v := range b {
			if k == "updated_at" {
				continue
			}
			if fmt.Sprint(a[k]) != fmt.Sprint(v) {
				t.Errorf("PUT %s round trip changed %s: %v -> %v", p, k, v, a[k])
			}
		}
		if again := e.must(200, "GET", p, "").json(t); fmt.Sprint(again["created_at"]) != fmt.Sprint(b["created_at"]) {
			t.Errorf("%s created_at moved", p)
		}
	}
	e.noServerErrors()
}

// TestPutResetsPatchKeeps: PUT replaces the whole row (absent optional
// fields take their defaults), PATCH changes only the fields given, and null
// clears a nullable field.
func TestPutResetsPatchKeeps(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	steps := []struct {
		method, path, body string
		status             int
		want               map[string]string // field -> fmt.Sprint of the value
	}{
		// Task definitions.
		{"POST", "/api/tasks/", `{"key":"disk","name":"Disk","description":"d","max_concurrent":2,"timeout_seconds":10,"max_attempts":7,"needs_docker":false,"needs_gpu":true,"enabled":false}`, 201,
			map[string]string{"max_concurrent": "2", "timeout_seconds": "10", "max_attempts": "7", "needs_docker": "false", "needs_gpu": "true", "enabled": "false"}},
		{"PATCH", "/api/tasks/5/", `{"name":"Disk 2"}`, 200,
			map[string]string{"name": "Disk 2", "description": "d", "max_concurrent": "2", "timeout_seconds": "10", "max_attempts": "7", "enabled": "false"}},
		{"PATCH", "/api/tasks/5/", `{"max_concurrent":null,"enabled":null,"default_config":{"a":1}}`, 200,
			map[string]string{"max_concurrent": "<nil>", "enabled": "false", "default_config": "map[a:1]"}},
		{"PATCH", "/api/tasks/5/", `{"default_config":null}`, 200, map[string]string{"default_config": "map[]"}},
		{"PUT", "/api/tasks/5/", `{"key":"disk"}`, 200,
			map[string]string{"name": "", "description": "", "max_concurrent": "<nil>", "timeout_seconds": "300", "max_attempts": "3",
				"needs_docker": "true", "needs_gpu": "false", "enabled": "true"}},
		{"PUT", "/api/tasks/5/", `{"name":"no key"}`, 400, nil},
		{"PATCH", "/api/tasks/5/", `{"max_concurrent":0}`, 400, nil},
		{"PATCH", "/api/tasks/5/", `{"max_concurrent":1000001}`, 400, nil},
		{"PATCH", "/api/tasks/5/", `{"timeout_seconds":604801}`, 400, nil},
		{"PATCH", "/api/tasks/5/", `{"max_attempts":101}`, 400, nil},
		{"PATCH", "/api/tasks/5/", `{"key":"bad-key"}`, 400, nil},
		{"PATCH", "/api/tasks/5/", `{"key":"log_triage"}`, 409, nil},
		{"GET", "/api/tasks/5/", ``, 200, map[string]string{"key": "disk", "max_attempts": "3", "timeout_seconds": "300"}},

		// Directives.
		{"POST", "/api/directives/", `{"name":"  spaced  ","description":"x","task_config":{"k":{}}}`, 201, map[string]string{"name": "spaced"}},
		{"POST", "/api/directives/", `{"name":"other"}`, 201, map[string]string{"task_config": "map[]", "description": ""}},
		{"PATCH", "/api/directives/1/", `{"task_config":null}`, 200, map[string]string{"task_config": "map[]", "description": "x", "name": "spaced"}},
		{"PATCH", "/api/directives/1/", `{"name":"other"}`, 409, nil},
		{"PATCH", "/api/directives/1/", `{"name":""}`, 400, nil},
		{"PATCH", "/api/directives/1/", `{}`, 200, map[string]string{"name": "spaced", "description": "x"}},

		// Worker hosts.
		{"POST", "/api/worker-hosts/", `{"name":" edge ","type":"docker_ssh","base_url":"ssh://ops@edge","capabilities":{"gpus":1,"labels":["a"],"zone":"eu"},"tls_verify":false}`, 201,
			map[string]string{"name": "edge", "type": "docker_ssh", "capabilities": "map[gpus:1 labels:[a] zone:eu]", "tls_verify": "false", "enabled": "true", "healthy": "<nil>"}},
		{"PATCH", "/api/worker-hosts/2/", `{"enabled":false}`, 200, map[string]string{"type": "docker_ssh", "base_url": "ssh://ops@edge", "tls_verify": "false", "enabled": "false"}},
		{"PATCH", "/api/worker-hosts/2/", `{"capabilities":null}`, 200, map[string]string{"capabilities": "map[]"}},
		{"PATCH", "/api/worker-hosts/2/", `{"type":"docker_tcp"}`, 400, nil}, // ssh:// is no tcp URL
		{"PATCH", "/api/worker-hosts/2/", `{"type":"docker_tcp","base_url":"https://edge:2376"}`, 200, map[string]string{"type": "docker_tcp"}},
		{"PATCH", "/api/worker-hosts/2/", `{"name":"local"}`, 409, nil},
		{"PATCH", "/api/worker-hosts/2/", `{"healthy":true,"last_seen_at":"2030-01-01T00:00:00Z","engine_version":"99"}`, 200,
			map[string]string{"healthy": "<nil>", "last_seen_at": "<nil>", "engine_version": ""}},
		{"PUT", "/api/worker-hosts/2/", `{"name":"edge"}`, 200,
			map[string]string{"type": "docker_socket", "base_url": "", "tls_verify": "true", "enabled": "true", "capabilities": "map[]"}},

		// Allow-list entries.
		{"POST", "/api/container-allowlist/", `{"container_id":"0123abcd","description":"by id","tags":null}`, 201,
			map[string]string{"container_name": "", "container_id": "0123abcd", "tags": "[]", "worker_host_id": "<nil>", "enabled": "true"}},
		{"PATCH", "/api/container-allowlist/1/", `{"container_name":"db","worker_host_id":2}`, 200,
			map[string]string{"container_id": "0123abcd", "description": "by id", "worker_host_id": "2"}},
		{"PATCH", "/api/container-allowlist/1/", `{"worker_host_id":null}`, 200, map[string]string{"worker_host_id": "<nil>"}},
		{"PATCH", "/api/container-allowlist/1/", `{"container_name":"","container_id":""}`, 400, nil},
		{"PATCH", "/api/container-allowlist/1/", `{"container_id":"` + strings.Repeat("a", 65) + `"}`, 400, nil},
		{"PATCH", "/api/container-allowlist/1/", `{"container_id":"ABC"}`, 400, nil},
		{"PATCH", "/api/container-allowlist/1/", `{"container_name":"` + strings.Repeat("n", 256) + `"}`, 400, nil},
		{"PATCH", "/api/container-allowlist/1/", `{"worker_host_id":0}`, 400, nil},
		{"PUT", "/api/container-allowlist/1/", `{"container_name":"db"}`, 200,
			map[string]string{"container_id": "", "description": "", "tags": "[]", "enabled": "true", "worker_host_id": "<nil>"}},
	}
	for _, s := range steps {
		before := e.counts()
		r := e.do(s.method, s.path, s.body)
		if r.Status != s.status {
			t.Errorf("%s %s %.120s: %d %s, want %d", s.method, s.path, s.body, r.Status, r.Body, s.status)
			continue
		}
		if s.status >= 400 {
			isJSONError(t, r)
			e.sameRows(s.method+" "+s.path, before)
			continue
		}
		m := r.json(t)
		for k, want := range s.want {
			if got := fmt.Sprint(m[k]); got != want {
				t.Errorf("%s %s %.80s: %s = %s, want %s", s.method, s.path, s.body, k, got, want)
			}
		}
	}
	// Rejected edits left the rows as the last accepted write made them.
	if h := e.must(200, "GET", "/api/worker-hosts/2/", "").json(t); h["name"] != "edge" || h["type"] != "docker_socket" {
		t.Errorf("host after rejected edits: %v", h)
	}
	e.noServerErrors()
}

// TestHostURLsPerType: each host type accepts only its URL schemes, and a
// remote type needs a URL.
func TestHostURLsPerType(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	cases := []struct {
		typ, url string
		ok       bool
	}{
		{"docker_socket", "", true},
		{"docker_socket", "unix:///var/run/docker.sock", true},
		{"docker_socket", "unix:///run/user/1000/docker.sock", false}, // not in --docker-socket-allow
		{"docker_socket", "tcp://10.0.0.1:2375", false},
		{"docker_tcp", "tcp://10.0.0.1:2376", true},
		{"docker_tcp", "https://docker.example:2376", true},
		{"docker_tcp", "http://10.0.0.1:2375", true},
		{"docker_tcp", "", false},
		{"docker_tcp", "unix:///var/run/docker.sock", false},
		{"docker_tcp", "ssh://u@h", false},
		{"docker_ssh", "ssh://ops@10.0.0.2", true},
		{"docker_ssh", "", false},
		{"docker_ssh", "tcp://10.0.0.2:22", false},
		{"podman", "unix:///x", false},
	}
	for i, tc := range cases {
		body := fmt.Sprintf(`{"name":"h%d","type":%q,"base_url":%q}`, i, tc.typ, tc.url)
		r := e.do("POST", "/api/worker-hosts/", body)
		if tc.ok {
			if r.Status != 201 {
				t.Errorf("%s %q: %d %s", tc.typ, tc.url, r.Status, r.Body)
			} else {
				wantShape(t, "host", r.json(t), hostShape)
			}
			continue
		}
		if r.Status != 400 {
			t.Errorf("%s %q: %d %s, want 400", tc.typ, tc.url, r.Status, r.Body)
			continue
		}
		f := fieldErrors(t, r)
		if len(f["base_url"]) == 0 && len(f["type"]) == 0 {
			t.Errorf("%s %q: error names neither type nor base_url: %s", tc.typ, tc.url, r.Body)
		}
	}
	for _, caps := range []string{`{"gpus":1025}`, `{"max_concurrency":0}`, `{"labels":"gpu"}`, `{"labels":[1]}`, `{"gpu_image":5}`, `[]`, `"x"`} {
		r := e.do("POST", "/api/worker-hosts/", `{"name":"c","capabilities":`+caps+`}`)
		if r.Status != 400 || len(fieldErrors(t, r)["capabilities"]) == 0 {
			t.Errorf("capabilities %s: %d %s", caps, r.Status, r.Body)
		}
	}
	e.must(201, "POST", "/api/worker-hosts/", `{"name":"c","capabilities":{"gpus":0,"max_concurrency":4,"labels":[],"gpu_image":"nvidia/cuda"}}`)
	e.noServerErrors()
}

// TestHostTLSMaterialWriteOnly: tls_ca/tls_cert/tls_key are stored, never
// answered, and a PATCH that does not name them keeps them.
func TestHostTLSMaterialWriteOnly(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	h := e.must(201, "POST", "/api/worker-hosts/", `{"name":"r","type":"docker_tcp","base_url":"tcp://10.0.0.3:2376","tls_ca":"CA-PEM","tls_cert":"CERT-PEM","tls_key":"KEY-PEM"}`).json(t)
	for _, k := range []string{"tls_ca", "tls_cert", "tls_key"} {
		if _, ok := h[k]; ok {
			t.Errorf("create answers %s", k)
		}
	}
	stored := func() string {
		return fmt.Sprint(e.scalar(`SELECT concat_ws(',', tls_ca, tls_cert, tls_key) FROM worker_hosts WHERE id = ?`, h["id"]))
	}
	if got := stored(); got != "CA-PEM,CERT-PEM,KEY-PEM" {
		t.Fatalf("stored TLS material %q", got)
	}
	e.must(200, "PATCH", fmt.Sprintf("/api/worker-hosts/%v/", h["id"]), `{"capabilities":{"gpus":2}}`)
	if got := stored(); got != "CA-PEM,CERT-PEM,KEY-PEM" {
		t.Errorf("PATCH without TLS fields changed them: %q", got)
	}
	e.must(200, "PATCH", fmt.Sprintf("/api/worker-hosts/%v/", h["id"]), `{"tls_key":"KEY2"}`)
	if got := stored(); got != "CA-PEM,CERT-PEM,KEY2" {
		t.Errorf("PATCH of tls_key: %q", got)
	}
	e.noServerErrors()
}

// The TLS material is write-only, so a client cannot echo it: a PUT of what
// GET returned (which TestPutBackWhatWasRead shows is meant to work) keeps
// tls_ca, tls_cert and tls_key; an explicit "" or null clears one.
func TestHostPutRoundTripKeepsTLS(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.must(201, "POST", "/api/worker-hosts/", `{"name":"r","type":"docker_tcp","base_url":"tcp://10.0.0.3:2376","tls_ca":"CA-PEM","tls_cert":"CERT-PEM","tls_key":"KEY-PEM"}`)
	stored := func() string {
		return fmt.Sprint(e.scalar(`SELECT concat_ws(',', tls_ca, tls_cert, tls_key) FROM worker_hosts WHERE id = 2`))
	}
	got := e.must(200, "GET", "/api/worker-hosts/2/", "")
	e.must(200, "PUT", "/api/worker-hosts/2/", string(got.Body))
	if v := stored(); v != "CA-PEM,CERT-PEM,KEY-PEM" {
		t.Errorf("PUT of the host's own GET changed its TLS material to %q", v)
	}
	e.must(200, "PUT", "/api/worker-hosts/2/", `{"name":"r","type":"docker_tcp","base_url":"tcp://10.0.0.3:2376","tls_cert":"CERT2"}`)
	if v := stored(); v != "CA-PEM,CERT2,KEY-PEM" {
		t.Errorf("PUT of tls_cert alone: %q", v)
	}
	e.must(200, "PUT", "/api/worker-hosts/2/", `{"name":"r","type":"docker_tcp","base_url":"tcp://10.0.0.3:2376","tls_ca":"","tls_key":null}`)
	if v := stored(); v != ",CERT2," {
		t.Errorf("PUT clearing tls_ca and tls_key: %q", v)
	}
	e.must(200, "PATCH", "/api/worker-hosts/2/", `{"tls_cert":""}`)
	if v := stored(); v != ",," {
		t.Errorf("PATCH clearing tls_cert: %q", v)
	}
	e.noServerErrors()
}

// Renaming the key of a task definition that jobs and schedules refer to
// would rewrite their task_type / task_key: finished jobs' history would
// change and pending work would name a task no worker implements. Like a
// delete it is a 409 that changes nothing; an unreferenced task may be
// renamed.
func TestTaskKeyRenameKeepsHistory(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	run := e.must(201, "POST", "/api/runs/launch/", `{"tasks":["log_triage"]}`).json(t)
	before := e.counts()
	r := e.do("PATCH", "/api/tasks/1/", `{"key":"renamed","name":"Renamed"}`)
	if r.Status != 409 || !strings.Contains(string(r.Body), "cannot be renamed") {
		t.Errorf("rename of a referenced task: %d %s", r.Status, r.Body)
	}
	isJSONError(t, r)
	e.sameRows("refused rename", before)
	job := listAt(t, e.must(200, "GET", fmt.Sprintf("/api/runs/%v/", run["id"]), "").json(t), "jobs")[0]
	if job["task_type"] != "log_triage" {
		t.Errorf("job task_type = %v after a refused rename", job["task_type"])
	}
	if task := e.must(200, "GET", "/api/tasks/1/", "").json(t); task["key"] != "log_triage" || task["name"] == "Renamed" {
		t.Errorf("refused rename changed the task: %v", task)
	}
	// The same PUT without a key change, and other fields, still save.
	e.must(200, "PATCH", "/api/tasks/1/", `{"key":"log_triage","description":"d"}`)

	// A schedule is a reference too.
	e.must(201, "POST", "/api/tasks/", `{"key":"disk_check","name":"Disk","needs_docker":false}`)
	e.must(200, "PATCH", "/api/tasks/5/", `{"key":"disk_check2"}`) // unreferenced: allowed
	sc := e.must(201, "POST", "/api/schedules/", `{"name":"s","task":"disk_check2","schedule_type":"interval","interval_minutes":5}`).json(t)
	if r := e.do("PUT", "/api/tasks/5/", `{"key":"disk_check3","name":"Disk","needs_docker":false}`); r.Status != 409 {
		t.Errorf("rename of a task a schedule uses: %d %s", r.Status, r.Body)
	}
	if sc := e.must(200, "GET", fmt.Sprintf("/api/schedules/%v/", sc["id"]), "").json(t); sc["task_key"] != "disk_check2" {
		t.Errorf("schedule task_key = %v after a refused rename", sc["task_key"])
	}
	e.noServerErrors()
}

// JSON text must be UTF-8 (RFC 8259 §8.1). Invalid bytes inside a string
// used to be replaced by U+FFFD and the mangled value stored, so the name a
// client read back was not the one it sent.
func TestInvalidUTF8Rejected(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	before := e.counts()
	r := e.do("POST", "/api/directives/", "{\"name\":\"a\xffb\"}")
	if r.Status != 400 || !strings.Contains(string(r.Body), "invalid UTF-8") {
		t.Errorf("invalid UTF-8: %d %s", r.Status, r.Body)
	}
	isJSONError(t, r)
	e.sameRows("invalid UTF-8", before)
}
