package declarative

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// On an empty system every item is a create, in dependency order, and the
// references of later creates resolve to the ids the earlier ones got.
func TestPlanCreatesInDependencyOrder(t *testing.T) {
	t.Parallel()
	f, c := newFake(t)
	p := plan(t, c, `
allowlist:
  - container_name: nginx
    host: gpu1
    tags: [web]
schedules:
  - name: hourly
    task: log_triage
    directive: nightly
    target_host: gpu1
    schedule_type: cron
    cron_expr: "0 * * * *"
tasks:
  - key: extra
    enabled: false
directives:
  - name: nightly
worker_hosts:
  - name: gpu1
    type: docker_tcp
    base_url: tcp://10.0.0.5:2376
    tls_ca: CA-PEM
    tls_key: KEY-PEM
`, false)
	want := []string{`+ create worker host "gpu1"`, `+ create directive "nightly"`, `+ create task "extra"`,
		`+ create schedule "hourly"`, `+ create allow-list entry host=gpu1 container_name=nginx`}
	if got := lines(p); !slices.Equal(got, want) {
		t.Fatalf("plan\n got %q\nwant %q", got, want)
	}
	if p.Unchanged != 0 {
		t.Errorf("unchanged %d", p.Unchanged)
	}
	// A create carries the whole object: defaults of absent fields, and the
	// write-only TLS material.
	host := p.Changes[0].Fields
	if host["tls_ca"] != "CA-PEM" || host["tls_key"] != "KEY-PEM" || host["enabled"] != true || host["tls_verify"] != true {
		t.Errorf("host create fields %v", host)
	}
	if _, ok := host["tls_cert"]; ok {
		t.Errorf("a TLS field the file does not give is sent: %v", host)
	}
	sched := p.Changes[3].Fields
	if sched["timezone"] != "UTC" || sched["enabled"] != true || sched["custom_directive_text"] != "" {
		t.Errorf("schedule create fields %v", sched)
	}
	if task := p.Changes[2].Fields; len(task) != 2 {
		t.Errorf("task create sends fields the file does not give: %v", task)
	}

	var done []string
	if err := p.Apply(context.Background(), c, func(ch Change) { done = append(done, ch.Label) }); err != nil {
		t.Fatal(err)
	}
	if len(done) != 5 {
		t.Errorf("done %v", done)
	}
	writes := f.Writes()
	if len(writes) != 5 {
		t.Fatalf("writes %q", writes)
	}
	// ids 101 (host) and 102 (directive) were given by the fake in order.
	body := func(i int) map[string]any {
		var m map[string]any
		if err := json.Unmarshal([]byte(writes[i][strings.Index(writes[i], "{"):]), &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	if !strings.HasPrefix(writes[0], "POST /api/worker-hosts/ ") || body(0)["tls_ca"] != "CA-PEM" {
		t.Errorf("host write %s", writes[0])
	}
	s := body(3)
	if !strings.HasPrefix(writes[3], "POST /api/schedules/ ") || s["directive_id"] != 102.0 || s["target_host_id"] != 101.0 ||
		s["task_key"] != "log_triage" || s["task"] != nil || s["directive"] != nil {
		t.Errorf("schedule write %s", writes[3])
	}
	if a := body(4); a["worker_host_id"] != 101.0 || a["host"] != nil || fmt.Sprint(a["tags"]) != "[web]" {
		t.Errorf("allow-list write %s", writes[4])
	}
	if tk := body(2); len(tk) != 2 || tk["key"] != "extra" || tk["enabled"] != false {
		t.Errorf("task write %s", writes[2])
	}

	// Applied, the same file plans nothing.
	if again := plan(t, c, "worker_hosts:\n  - {name: gpu1, type: docker_tcp, base_url: \"tcp://10.0.0.5:2376\", tls_ca: other}\n", false); len(again.Changes) != 0 || again.Unchanged != 1 {
		t.Errorf("after apply: %q", lines(again))
	}
}

// Objects are matched by name whatever their ids and order; an equal file
// changes nothing, and says how many objects it checked.
func TestPlanMatchesByName(t *testing.T) {
	t.Parallel()
	f, c := newFake(t)
	f.add("/api/worker-hosts/", apiHost(9, "b", nil))
	f.add("/api/worker-hosts/", apiHost(3, "a", map[string]any{"capabilities": map[string]any{"gpus": 2}}))
	f.add("/api/directives/", apiDirective(40, "d", map[string]any{"task_config": map[string]any{"noop": map[string]any{"sleep_ms": 1}}}))
	f.add("/api/schedules/", apiSchedule(7, "s", map[string]any{"directive_id": 40, "target_host_id": 3}))
	f.add("/api/container-allowlist/", apiAllow(8, 9, "nginx", nil))
	f.add("/api/container-allowlist/", apiAllow(5, nil, "nginx", nil))
	p := plan(t, c, `
worker_hosts:
  - name: a
    capabilities: {gpus: 2}
  - name: b
directives:
  - {name: d, task_config: {noop: {sleep_ms: 1}}}
schedules:
  - {name: s, task: noop, directive: d, target_host: a, schedule_type: interval, interval_minutes: 5}
allowlist:
  - {container_name: nginx}
  - {container_name: nginx, host: b}
`, true)
	if len(p.Changes) != 0 || p.Unchanged != 6 {
		t.Fatalf("changes %q, unchanged %d", lines(p), p.Unchanged)
	}
	if s := p.String(); s != "no changes: the system already matches the file (6 objects)\n" {
		t.Errorf("String() = %q", s)
	}
}

// An update changes only the fields that differ, says old → new, and sends
// them in the API's terms (references as ids). A field the file leaves out
// goes back to its default.
func TestPlanUpdates(t *testing.T) {
	t.Parallel()
	f, c := newFake(t)
	f.add("/api/worker-hosts/", apiHost(1, "local", nil))
	f.add("/api/worker-hosts/", apiHost(2, "gpu1", nil))
	f.add("/api/directives/", apiDirective(3, "nightly", map[string]any{"description": "old words"}))
	f.add("/api/schedules/", apiSchedule(4, "s", map[string]any{"target_host_id": 1, "max_global": 2}))
	p := plan(t, c, `
worker_hosts:
  - {name: local, enabled: false}
directives:
  - name: nightly
schedules:
  - {name: s, task: noop, target_host: gpu1, schedule_type: interval, interval_minutes: 10}
`, false)
	want := []string{
		`~ update worker host "local": enabled true → false`,
		`~ update directive "nightly": description "old words" → ""`,
		`~ update schedule "s": target_host "local" → "gpu1", interval_minutes 5 → 10, max_global 2 → null`,
	}
	if got := lines(p); !slices.Equal(got, want) {
		t.Fatalf("plan\n got %q\nwant %q", got, want)
	}
	if p.Changes[2].ID != 4 || len(p.Changes[2].Fields) != 3 {
		t.Errorf("schedule change %+v", p.Changes[2])
	}
	if err := p.Apply(context.Background(), c, nil); err != nil {
		t.Fatal(err)
	}
	writes := f.Writes()
	wantWrites := []string{`PATCH /api/worker-hosts/1/ {"enabled":false}`, `PATCH /api/directives/3/ {"description":""}`,
		`PATCH /api/schedules/4/ {"interval_minutes":10,"max_global":null,"target_host_id":2}`}
	if !slices.Equal(writes, wantWrites) {
		t.Errorf("writes\n got %q\nwant %q", writes, wantWrites)
	}
	if p := plan(t, c, "directives:\n  - name: nightly\n", false); len(p.Changes) != 0 {
		t.Errorf("not converged: %q", lines(p))
	}
}

// Task definitions are tuned, not described: only the fields given are
// compared, and prune never deletes one.
func TestPlanTasksArePartial(t *testing.T) {
	t.Parallel()
	f, c := newFake(t)
	f.add("/api/tasks/", apiTask(1, "log_triage", map[string]any{"description": "seeded"}))
	f.add("/api/tasks/", apiTask(2, "noop", map[string]any{"enabled": false, "max_concurrent": 4}))
	p := plan(t, c, "tasks:\n  - key: noop\n    enabled: true\n", true)
	if got := lines(p); !slices.Equal(got, []string{`~ update task "noop": enabled false → true`}) || p.Unchanged != 0 {
		t.Errorf("plan %q", got)
	}
	if p := plan(t, c, "tasks: []\n", true); len(p.Changes) != 0 {
		t.Errorf("prune touched tasks: %q", lines(p))
	}
}

// TLS material is sent when a host is created and never compared after: the
// API does not give it back.
func TestPlanTLSOnlyOnCreate(t *testing.T) {
	t.Parallel()
	f, c := newFake(t)
	f.add("/api/worker-hosts/", apiHost(1, "gpu1", map[string]any{"type": "docker_tcp", "base_url": "tcp://h:2376"}))
	p := plan(t, c, `
worker_hosts:
  - {name: gpu1, type: docker_tcp, base_url: "tcp://h:2376", tls_ca: NEW-CA, tls_cert: C, tls_key: K}
  - {name: gpu2, type: docker_tcp, base_url: "tcp://h2:2376", tls_verify: false}
`, false)
	if got := lines(p); !slices.Equal(got, []string{`+ create worker host "gpu2"`}) || p.Unchanged != 1 {
		t.Fatalf("plan %q", got)
	}
	if _, ok := p.Changes[0].Fields["tls_ca"]; ok {
		t.Errorf("create sends TLS the file does not give: %v", p.Changes[0].Fields)
	}
	// A changed base_url updates, but the TLS fields still stay out.
	p = plan(t, c, "worker_hosts:\n  - {name: gpu1, type: docker_tcp, base_url: \"tcp://h:2377\", tls_key: K}\n", false)
	if len(p.Changes) != 1 || len(p.Changes[0].Fields) != 1 || p.Changes[0].Fields["base_url"] != "tcp://h:2377" {
		t.Errorf("update %+v", p.Changes)
	}
}

// Prune deletes, only in the sections the file has, what they do not name;
// launch-run-… schedules and task definitions are never deleted; deletes run
// after creates and in reverse dependency order.
func TestPlanPrune(t *testing.T) {
	t.Parallel()
	f, c := newFake(t)
	f.add("/api/worker-hosts/", apiHost(1, "local", nil))
	f.add("/api/worker-hosts/", apiHost(2, "old", nil))
	f.add("/api/directives/", apiDirective(3, "keep-me", nil))
	f.add("/api/tasks/", apiTask(4, "noop", nil))
	f.add("/api/schedules/", apiSchedule(5, "launch-run-12-noop", map[string]any{"schedule_type": "one_shot", "interval_minutes": nil}))
	f.add("/api/schedules/", apiSchedule(6, "stale", nil))
	f.add("/api/container-allowlist/", apiAllow(7, 2, "nginx", nil))
	f.add("/api/container-allowlist/", apiAllow(8, nil, "nginx", nil))
	const file = `
worker_hosts:
  - name: local
  - name: new
schedules: []
tasks: []
allowlist:
  - container_name: nginx
`
	if p := plan(t, c, file, false); !slices.Equal(lines(p), []string{`+ create worker host "new"`}) {
		t.Errorf("without --prune: %q", lines(p))
	}
	p := plan(t, c, file, true)
	want := []string{`+ create worker host "new"`, `- delete worker host "old"`, `- delete schedule "stale"`,
		`- delete allow-list entry host=old container_name=nginx`}
	if got := lines(p); !slices.Equal(got, want) {
		t.Fatalf("plan\n got %q\nwant %q", got, want)
	}
	var order []string
	if err := p.Apply(context.Background(), c, func(ch Change) { order = append(order, ch.String()) }); err != nil {
		t.Fatal(err)
	}
	wantOrder := []string{want[0], want[3], want[2], want[1]}
	if !slices.Equal(order, wantOrder) {
		t.Errorf("apply order\n got %q\nwant %q", order, wantOrder)
	}
	writes := f.Writes()
	if !slices.Equal(writes[1:], []string{"DELETE /api/container-allowlist/7/", "DELETE /api/schedules/6/", "DELETE /api/worker-hosts/2/"}) {
		t.Errorf("writes %q", writes)
	}
	// What stays: the directive (no section), the task, the launch schedule.
	if p := plan(t, c, "schedules: []\ntasks: []\n", true); len(p.Changes) != 0 {
		t.Errorf("second prune: %q", lines(p))
	}
}

// The first refused change stops the apply with the API's answer; what was
// done stays done.
func TestApplyStopsAtFirstError(t *testing.T) {
	t.Parallel()
	f, c := newFake(t)
	f.fail["POST /api/schedules/"] = [2]string{"400", `{"error":"invalid schedule","fields":{"cron_expr":["bad"]}}`}
	p := plan(t, c, `
directives: [{name: a}]
schedules:
  - {name: s1, task: noop, schedule_type: cron, cron_expr: "bad"}
allowlist: [{container_name: x}]
`, false)
	var done []string
	err := p.Apply(context.Background(), c, func(ch Change) { done = append(done, ch.Label) })
	want := "create schedule \"s1\": POST /api/schedules/: 400 invalid schedule\n  cron_expr: bad"
	if err == nil || err.Error() != want {
		t.Fatalf("error %q, want %q", err, want)
	}
	if !slices.Equal(done, []string{`directive "a"`}) {
		t.Errorf("done %q", done)
	}
	if w := f.Writes(); len(w) != 2 {
		t.Errorf("writes after the failure: %q", w)
	}
	// Picking up from there: the directive exists now.
	delete(f.fail, "POST /api/schedules/")
	p = plan(t, c, "directives: [{name: a}]\nschedules:\n  - {name: s1, task: noop, schedule_type: interval, interval_minutes: 1}\n", false)
	if got := lines(p); !slices.Equal(got, []string{`+ create schedule "s1"`}) {
		t.Errorf("second plan %q", got)
	}

	f.fail["DELETE /api/directives/"+fmt.Sprint(101)+"/"] = [2]string{"409", `{"error":"directive is referenced by runs"}`}
	p = plan(t, c, "directives: []\n", true)
	if err := p.Apply(context.Background(), c, nil); err == nil || !strings.HasPrefix(err.Error(), `delete directive "a": DELETE /api/directives/101/: 409 directive is referenced`) {
		t.Errorf("refused delete: %v", err)
	}
}

// A reference to an object that does not exist and is not created by the
// same file stops the apply before anything is sent for that item.
func TestApplyUnknownReference(t *testing.T) {
	t.Parallel()
	f, c := newFake(t)
	p := plan(t, c, "schedules:\n  - {name: s, task: noop, directive: ghost, schedule_type: one_shot}\n", false)
	err := p.Apply(context.Background(), c, nil)
	if err == nil || err.Error() != `create schedule "s": directive: directive "ghost" does not exist` {
		t.Errorf("got %v", err)
	}
	if w := f.Writes(); len(w) != 0 {
		t.Errorf("sent %q", w)
	}
	f.add("/api/schedules/", apiSchedule(1, "s", nil))
	p = plan(t, c, "schedules:\n  - {name: s, task: noop, target_host: nowhere, schedule_type: interval, interval_minutes: 5}\n", false)
	if err := p.Apply(context.Background(), c, nil); err == nil || !strings.Contains(err.Error(), `update schedule "s": target_host: worker host "nowhere" does not exist`) {
		t.Errorf("update: %v", err)
	}
}

// Reading the system fails cleanly: an API error names the section, and an
// object naming an id the API did not list is reported, not guessed at.
func TestLoadErrors(t *testing.T) {
	t.Parallel()
	f, c := newFake(t)
	f.fail["GET /api/directives/"] = [2]string{"500", `{"error":"database gone"}`}
	_, err := MakePlan(context.Background(), c, mustParse(t, "tasks: []\n"), Options{})
	if err == nil || !strings.HasPrefix(err.Error(), "read directives: GET /api/directives/: 500 database gone") {
		t.Errorf("got %v", err)
	}
	if _, err := Export(context.Background(), c); err == nil || !strings.Contains(err.Error(), "database gone") {
		t.Errorf("export: %v", err)
	}
	delete(f.fail, "GET /api/directives/")
	f.add("/api/schedules/", apiSchedule(1, "s", map[string]any{"directive_id": 77}))
	_, err = MakePlan(context.Background(), c, mustParse(t, "tasks: []\n"), Options{})
	if err == nil || !strings.Contains(err.Error(), "schedule 1 names directives id 77, which the API did not list") {
		t.Errorf("dangling reference: %v", err)
	}
}

// Export writes every section in dependency order, names for references,
// no defaults, no TLS, no launch schedules, task settings whole; parsed
// back, it plans nothing against the system it came from.
func TestExportFormat(t *testing.T) {
	t.Parallel()
	f, c := newFake(t)
	f.add("/api/worker-hosts/", apiHost(1, "local", map[string]any{"capabilities": map[string]any{"labels": []any{"local"}}}))
	f.add("/api/worker-hosts/", apiHost(2, "gpu1", map[string]any{"type": "docker_tcp", "base_url": "tcp://h:2376",
		"enabled": false, "tls_ca": "SECRET"}))
	f.add("/api/directives/", apiDirective(3, "nightly", map[string]any{"task_config": map[string]any{"log_triage": map[string]any{"tail": 500}}}))
	f.add("/api/tasks/", apiTask(4, "noop", map[string]any{"enabled": false, "needs_docker": false}))
	f.add("/api/schedules/", apiSchedule(5, "launch-run-1-noop", nil))
	f.add("/api/schedules/", apiSchedule(6, "hourly", map[string]any{"directive_id": 3, "target_host_id": 2,
		"schedule_type": "cron", "interval_minutes": nil, "cron_expr": "0 * * * *", "timezone": "Europe/Berlin", "max_global": 1}))
	f.add("/api/container-allowlist/", apiAllow(7, 2, "nginx", map[string]any{"tags": []any{"web"}}))
	out, err := Export(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	want := `# cyberbrain configuration exported from ` + f.url + `.
# Apply it with: cyberbrain apply -f FILE (TLS keys of worker hosts are never exported).
worker_hosts:
  - name: local
    capabilities:
      labels:
        - local
  - name: gpu1
    type: docker_tcp
    base_url: tcp://h:2376
    enabled: false
directives:
  - name: nightly
    task_config:
      log_triage:
        tail: 500
tasks:
  - key: noop
    name: noop
    description: ""
    enabled: false
    default_config: {}
    max_concurrent: null
    timeout_seconds: 300
    max_attempts: 3
    needs_docker: false
    needs_gpu: false
schedules:
  - name: hourly
    task: noop
    directive: nightly
    target_host: gpu1
    schedule_type: cron
    cron_expr: 0 * * * *
    timezone: Europe/Berlin
    max_global: 1
allowlist:
  - host: gpu1
    container_name: nginx
    tags:
      - web
`
	if string(out) != want {
		t.Errorf("export\n%s\n--- want:\n%s", out, want)
	}
	file, err := Parse(strings.NewReader(string(out)))
	if err != nil {
		t.Fatal(err)
	}
	p, err := MakePlan(context.Background(), c, file, Options{Prune: true})
	if err != nil || len(p.Changes) != 0 || p.Unchanged != 6 {
		t.Errorf("export planned against its source: %q, %d unchanged, %v", lines(p), p.Unchanged, err)
	}
}

// An empty system exports every section, empty.
func TestExportEmpty(t *testing.T) {
	t.Parallel()
	_, c := newFake(t)
	out, err := Export(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	body := string(out[strings.Index(string(out), "worker_hosts"):])
	if body != "worker_hosts: []\ndirectives: []\ntasks: []\nschedules: []\nallowlist: []\n" {
		t.Errorf("export of nothing:\n%s", out)
	}
}

func TestChangeAndPlanStrings(t *testing.T) {
	t.Parallel()
	p := &Plan{Unchanged: 2, Changes: []Change{
		{Action: Create, Label: `schedule "a"`},
		{Action: Update, Label: `task "noop"`, Diff: []string{"enabled false → true", "max_attempts 3 → 1"}},
		{Action: Delete, Label: "allow-list entry container_name=x"},
	}}
	want := "+ create schedule \"a\"\n~ update task \"noop\": enabled false → true, max_attempts 3 → 1\n" +
		"- delete allow-list entry container_name=x\n3 to change, 2 unchanged\n"
	if p.String() != want {
		t.Errorf("got %q", p.String())
	}
	if s := (&Plan{}).String(); s != "no changes: the system already matches the file (0 objects)\n" {
		t.Errorf("empty plan %q", s)
	}
}

func TestRender(t *testing.T) {
	t.Parallel()
	for v, want := range map[any]string{nil: "null", "a<b>": `"a<b>"`, 1.5: "1.5", true: "true"} {
		if got := render(v); got != want {
			t.Errorf("render(%v) = %s, want %s", v, got, want)
		}
	}
	if got := render(map[string]any{"b": []any{1.0}, "a": "x"}); got != `{"a":"x","b":[1]}` {
		t.Errorf("render map = %s", got)
	}
}
