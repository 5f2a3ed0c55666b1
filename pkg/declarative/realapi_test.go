package declarative

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/cyberbrain/cyberbrain/pkg/api"
	"github.com/cyberbrain/cyberbrain/pkg/client"
	"github.com/cyberbrain/cyberbrain/pkg/store"
	"github.com/cyberbrain/cyberbrain/pkg/testenv"
)

func realAPI(t *testing.T) (*client.Client, *store.Store) {
	t.Helper()
	st := testenv.NewStore(t)
	srv, err := api.New(api.Config{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	c, err := client.New(hs.URL, "")
	if err != nil {
		t.Fatal(err)
	}
	return c, st
}

// rowCounts is the row count of every table apply could write.
func rowCounts(t *testing.T, st *store.Store) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	for _, tbl := range []string{"worker_hosts", "directives", "task_definitions", "schedules", "container_allowlist",
		"runs", "jobs", "scheduled_runs"} {
		var n int64
		if err := testenv.SQL(t, st).Raw("SELECT count(*) FROM " + tbl).Scan(&n).Error; err != nil {
			t.Fatal(err)
		}
		out[tbl] = n
	}
	return out
}

func applyFile(t *testing.T, c *client.Client, yaml string, prune bool) *Plan {
	t.Helper()
	p := plan(t, c, yaml, prune)
	if err := p.Apply(context.Background(), c, nil); err != nil {
		t.Fatalf("apply: %v\nplan:\n%s", err, p)
	}
	return p
}

func exportBody(t *testing.T, c *client.Client) string {
	t.Helper()
	out, err := Export(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	s := string(out)
	return s[strings.Index(s, "worker_hosts:"):] // past the header naming the server
}

const full = `
worker_hosts:
  - name: local
    capabilities: {labels: [local]}
  - name: gpu1
    type: docker_tcp
    base_url: tcp://10.0.0.5:2376
    tls_verify: false
    tls_ca: "-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n"
    capabilities: {gpus: 2, labels: [gpu]}
    enabled: false
directives:
  - name: nightly
    description: "true"
    task_config: {log_triage: {tail: 500}, noop: {sleep_ms: 5}}
  - name: empty
tasks:
  - key: noop
    enabled: true
    timeout_seconds: 30
    max_concurrent: 2
  - key: gpu_report
    enabled: false
schedules:
  - name: triage-hourly
    task: log_triage
    directive: nightly
    target_host: gpu1
    schedule_type: cron
    cron_expr: "0 * * * *"
    timezone: Europe/Berlin
    max_global: 1
    max_per_job: 3
  - name: noop-often
    task: noop
    schedule_type: interval
    interval_minutes: 15
    enabled: false
    custom_directive_text: look at nginx
allowlist:
  - container_name: nginx
    host: gpu1
    tags: [web, edge]
  - container_name: postgres
    description: every host
  - container_id: abc123
    host: local
    enabled: false
`

// The file applied to a real API: a dry plan writes nothing; the apply
// converges (a second plan is empty); export → apply on a fresh database →
// export gives the same text.
func TestRealApplyExportRoundTrip(t *testing.T) {
	t.Parallel()
	src, st := realAPI(t)
	before := rowCounts(t, st)
	exportedBefore := exportBody(t, src)
	p := plan(t, src, full, true)
	if len(p.Changes) < 10 {
		t.Errorf("plan on a fresh database:\n%s", p)
	}
	if after := rowCounts(t, st); !equal(after, before) || exportBody(t, src) != exportedBefore {
		t.Fatalf("planning wrote: %v → %v", before, after)
	}
	if err := p.Apply(context.Background(), src, nil); err != nil {
		t.Fatal(err)
	}
	if again := plan(t, src, full, true); len(again.Changes) != 0 {
		t.Fatalf("second plan not empty:\n%s", again)
	}
	var tlsCA string
	if err := testenv.SQL(t, st).Raw("SELECT tls_ca FROM worker_hosts WHERE name = 'gpu1'").Scan(&tlsCA).Error; err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(tlsCA, "-----BEGIN CERTIFICATE-----") {
		t.Errorf("TLS CA not stored on create: %q", tlsCA)
	}

	// A launch's one-shot schedule is in the database but not in the export.
	if _, err := src.Launch(context.Background(), client.LaunchRequest{Tasks: []string{"noop"}}); err != nil {
		t.Fatal(err)
	}
	exported := exportBody(t, src)
	if strings.Contains(exported, "launch-run-") || strings.Contains(exported, "BEGIN CERTIFICATE") {
		t.Errorf("export carries a launch schedule or TLS:\n%s", exported)
	}
	for _, want := range []string{"description: \"true\"", "target_host: gpu1", "host: local", "max_per_job: 3", "tls_verify: false"} {
		if !strings.Contains(exported, want) {
			t.Errorf("export lacks %q:\n%s", want, exported)
		}
	}

	dst, _ := realAPI(t)
	applyFile(t, dst, exported, true)
	if got := exportBody(t, dst); got != exported {
		t.Errorf("round trip differs:\n%s\n--- source:\n%s", got, exported)
	}
	if p := plan(t, dst, exported, true); len(p.Changes) != 0 {
		t.Errorf("second apply of the export:\n%s", p)
	}
}

// Prune against the real API: launch schedules and task definitions stay;
// a schedule with history is refused with the API's 409, and the apply
// stops there with what was done before kept.
func TestRealPrune(t *testing.T) {
	t.Parallel()
	c, st := realAPI(t)
	ctx := context.Background()
	applyFile(t, c, `
directives: [{name: a}, {name: b}]
schedules:
  - {name: used, task: log_triage, schedule_type: interval, interval_minutes: 60}
  - {name: unused, task: log_triage, schedule_type: interval, interval_minutes: 60}
`, false)
	if _, err := c.Launch(ctx, client.LaunchRequest{Tasks: []string{"log_triage"}}); err != nil {
		t.Fatal(err)
	}
	scheds, err := client.ListAs[client.Schedule](ctx, c, client.Schedules, nil)
	if err != nil {
		t.Fatal(err)
	}
	var used int64
	launches := 0
	for _, s := range scheds {
		if s.Name == "used" {
			used = s.ID
		}
		if strings.HasPrefix(s.Name, "launch-run-") {
			launches++
		}
	}
	if launches != 1 {
		t.Fatalf("schedules %+v", scheds)
	}
	if err := c.Do(ctx, http.MethodPost, client.Item(client.Schedules, used)+"run-now/", nil, nil, nil); err != nil {
		t.Fatal(err)
	}
	tasksBefore := rowCounts(t, st)["task_definitions"]

	p := plan(t, c, "directives: [{name: a}]\nschedules: []\ntasks: []\n", true)
	// The launch created the "default" directive: the file does not name it.
	want := "- delete directive \"b\"\n- delete directive \"default\"\n- delete schedule \"used\"\n- delete schedule \"unused\"\n" +
		"4 to change, 1 unchanged\n"
	if p.String() != want {
		t.Fatalf("plan\n%s\nwant\n%s", p, want)
	}
	var done []string
	err = p.Apply(ctx, c, func(ch Change) { done = append(done, ch.Label) })
	if err == nil || !strings.Contains(err.Error(), `delete schedule "used": DELETE /api/schedules/`) || !strings.Contains(err.Error(), ": 409 ") {
		t.Fatalf("delete of a schedule with history: %v", err)
	}
	if len(done) != 1 || done[0] != `schedule "unused"` {
		t.Errorf("done before the refusal: %q", done)
	}
	if rowCounts(t, st)["task_definitions"] != tasksBefore {
		t.Error("a task definition was deleted")
	}
	// The next apply continues: the refused schedule and the directive remain.
	p = plan(t, c, "directives: [{name: a}]\nschedules: []\n", true)
	if got := lines(p); len(got) != 3 || got[0] != `- delete directive "b"` || got[2] != `- delete schedule "used"` {
		t.Errorf("next plan %q", got)
	}
}

// A refusal on create carries the API's field message.
func TestRealApplyFieldError(t *testing.T) {
	t.Parallel()
	c, st := realAPI(t)
	before := rowCounts(t, st)
	p := plan(t, c, "schedules:\n  - {name: bad, task: log_triage, schedule_type: cron, cron_expr: \"61 * * * *\"}\n", false)
	err := p.Apply(context.Background(), c, nil)
	if err == nil || !strings.HasPrefix(err.Error(), `create schedule "bad": POST /api/schedules/: 400 `) || !strings.Contains(err.Error(), "\n  cron_expr: ") {
		t.Errorf("got %v", err)
	}
	if after := rowCounts(t, st); !equal(after, before) {
		t.Errorf("rows changed: %v → %v", before, after)
	}
}
