package tasks

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/cyberbrain/cyberbrain/pkg/domain"
	"github.com/cyberbrain/cyberbrain/pkg/logtriage"
	"github.com/cyberbrain/cyberbrain/pkg/store"
)

// fakeHost is the worker host of the fake-engine tests.
var fakeHost = store.WorkerHost{ID: 7, Name: "fake", Type: domain.HostDockerTCP, BaseURL: "tcp://fake:2376"}

// fakeEnv is an Env over in-memory fakes for a job with the given config.
func fakeEnv(taskType, config string, allow AllowList, cursors *memCursors) Env {
	host := fakeHost
	return Env{Job: store.Job{ID: 11, RunID: 10, TaskType: taskType, Config: store.JSON(config)}, Host: &host,
		AllowList: allow, LogCursors: cursors, LLMCalls: &memLLMCalls{}, Logger: zap.NewNop()}
}

// commit applies a result as the scheduler does on acceptance.
func commit(t *testing.T, res *Result, cursors *memCursors) *memTx {
	t.Helper()
	tx := &memTx{memCursors: cursors}
	if err := res.SaveInTx(context.Background(), tx, store.Job{ID: 11, RunID: 10}); err != nil {
		t.Fatalf("save: %v", err)
	}
	return tx
}

type fullTriageDoc struct {
	Host       string `json:"host"`
	Scope      string `json:"scope"`
	Window     string `json:"window"`
	Tail       int    `json:"tail"`
	OutOfScope int    `json:"containers_out_of_scope"`
	Containers []struct {
		Name           string                  `json:"name"`
		ID             string                  `json:"id"`
		State          string                  `json:"state"`
		Since          time.Time               `json:"since"`
		FirstTriage    bool                    `json:"first_triage"`
		Lines          int                     `json:"lines"`
		Truncated      bool                    `json:"truncated"`
		LevelCounts    map[logtriage.Level]int `json:"level_counts"`
		Issues         int                     `json:"issues"`
		Templates      []logtriage.Template    `json:"templates"`
		TemplatesTotal int                     `json:"templates_total"`
		NewTemplates   []string                `json:"new_templates"`
		Error          string                  `json:"error"`
	} `json:"containers"`
}

func decodeFullTriage(t *testing.T, res *Result) fullTriageDoc {
	t.Helper()
	var doc fullTriageDoc
	if err := json.Unmarshal(artifact(t, res, "log_triage.json"), &doc); err != nil {
		t.Fatalf("decode log_triage.json: %v", err)
	}
	return doc
}

// TestLogTriageReportShape pins what users read: the summary line, the
// Markdown sections per container, the result numbers the run report and the
// dashboard use, and both artifacts with their content types.
func TestLogTriageReportShape(t *testing.T) {
	t.Parallel()
	base := time.Now().Add(-30 * time.Minute).Truncate(time.Second)
	eng := newFakeEngine(t)
	eng.add("aaaa00000001", "api",
		fakeLine{base, "INFO listening on :8080"},
		fakeLine{base.Add(1 * time.Second), "ERROR payment 4711 failed: card declined"},
		fakeLine{base.Add(2 * time.Second), "ERROR payment 4712 failed: card declined"},
		fakeLine{base.Add(3 * time.Second), "WARN slow response 1200ms"},
		fakeLine{base.Add(4 * time.Second), "ERROR payment 4713 failed: card declined"})
	eng.add("aaaa00000002", "quiet", fakeLine{base, "INFO all good"}, fakeLine{base.Add(time.Second), "INFO still good"})
	eng.add("aaaa00000003", "hidden", fakeLine{base, "ERROR hidden-container-secret"})

	env := fakeEnv(domain.TaskLogTriage, `{"window": "1h", "tail": 100}`, fixedAllowList{"quiet", "api"}, &memCursors{})
	res, err := LogTriage(eng, LLMConfig{}).Run(context.Background(), env)
	if err != nil {
		t.Fatal(err)
	}

	wantSummary := "4 issue(s) in 2 template(s) across 2 container(s) on fake (0 fatal/panic, 0 exception, 3 error, 1 warn); 2 new template(s)"
	if res.Summary != wantSummary || res.Data["summary"] != wantSummary {
		t.Errorf("summary = %q\nwant      %q", res.Summary, wantSummary)
	}
	wantData := map[string]any{"host": "fake", "containers": 2, "lines_read": 7, "issues": 4, "templates": 2,
		"new_templates": 2, "fatal": 0, "panic": 0, "exception": 0, "error": 3, "warn": 1, "containers_out_of_scope": 1}
	for k, v := range wantData {
		if res.Data[k] != v {
			t.Errorf("data[%s] = %v, want %v", k, res.Data[k], v)
		}
	}

	md := res.ReportMarkdown
	if !strings.HasPrefix(md, "## Log triage — fake\n\n"+wantSummary+".\n\n") {
		t.Errorf("report does not open with its title and summary:\n%s", md)
	}
	for _, want := range []string{
		"Scope `allowlist`, first-triage window 1h, at most 100 lines per container. 1 container(s) not on the allow-list were not read.",
		"### api\n\n`img` · running · aaaa00000001 · first triage, since ",
		" · 5 lines read\n",
		"Issues by level: error 3, warn 1.",
		"| level | count | first seen | last seen | template | new |",
		"| error | 3 | " + base.Add(time.Second).UTC().Format(time.RFC3339) + " | " + base.Add(4*time.Second).UTC().Format(time.RFC3339) + " | `ERROR payment <num> failed: card declined` | **new** |",
		"Example of the top template:\n\n```\nERROR payment 4711 failed: card declined\n```",
		"### quiet\n\n",
		"No warnings or errors.",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q:\n%s", want, md)
		}
	}
	if strings.Index(md, "### api") > strings.Index(md, "### quiet") {
		t.Error("containers are not in name order")
	}
	assertNotLeaked(t, res, "hidden")

	if len(res.Artifacts) != 2 {
		t.Fatalf("artifacts = %d, want report.md and log_triage.json", len(res.Artifacts))
	}
	for _, a := range res.Artifacts {
		switch a.Name {
		case "report.md":
			if a.ContentType != "text/markdown; charset=utf-8" || string(a.Content) != md {
				t.Errorf("report.md: %s, content equal to the report: %v", a.ContentType, string(a.Content) == md)
			}
		case "log_triage.json":
			if a.ContentType != "application/json" {
				t.Errorf("log_triage.json content type %s", a.ContentType)
			}
		default:
			t.Errorf("unexpected artifact %s", a.Name)
		}
	}

	doc := decodeFullTriage(t, res)
	if doc.Host != "fake" || doc.Scope != "allowlist" || doc.Window != "1h" || doc.Tail != 100 || doc.OutOfScope != 1 || len(doc.Containers) != 2 {
		t.Fatalf("log_triage.json header = %+v", doc)
	}
	api := doc.Containers[0]
	if api.Name != "api" || api.ID != "aaaa00000001" || api.State != "running" || !api.FirstTriage || api.Lines != 5 ||
		api.Truncated || api.Issues != 4 || api.TemplatesTotal != 2 || len(api.NewTemplates) != 2 {
		t.Errorf("api entry = %+v", api)
	}
	if api.LevelCounts[logtriage.Error] != 3 || api.LevelCounts[logtriage.Warn] != 1 {
		t.Errorf("api level counts = %v", api.LevelCounts)
	}
	if since := time.Since(api.Since); since < time.Hour-time.Minute || since > time.Hour+time.Minute {
		t.Errorf("first triage since %s, want about an hour ago (window 1h)", api.Since)
	}
	if tp := findTemplate(api.Templates, logtriage.Error, "payment <num> failed"); tp == nil || tp.Count != 3 || !tp.New {
		t.Errorf("payment template = %+v", tp)
	}
	if q := doc.Containers[1]; q.Name != "quiet" || q.Issues != 0 || q.Lines != 2 || len(q.Templates) != 0 {
		t.Errorf("quiet entry = %+v", q)
	}
}

// TestLogTriageCursorsAcrossRuns: after an accepted triage the next one reads
// only the lines that came later, from where the first stopped; a template
// seen before is no longer new; a run with nothing new reads nothing. The
// cursor belongs to the host: the same container name on another host starts
// with a first triage.
func TestLogTriageCursorsAcrossRuns(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	base := time.Now().Add(-20 * time.Minute).Truncate(time.Second)
	eng := newFakeEngine(t)
	eng.add("bbbb00000001", "worker",
		fakeLine{base, "ERROR job 1 failed: timeout"},
		fakeLine{base.Add(time.Second), "ERROR job 2 failed: timeout"})
	cursors := &memCursors{}
	task := LogTriage(eng, LLMConfig{})
	env := fakeEnv(domain.TaskLogTriage, `{"window": "1h"}`, fixedAllowList{"worker"}, cursors)

	res, err := task.Run(ctx, env)
	if err != nil {
		t.Fatal(err)
	}
	commit(t, res, cursors)
	st, _ := cursors.LogStates(ctx, fakeHost.ID)
	cur := st["worker"]
	if want := base.Add(time.Second).Add(time.Microsecond); !cur.LastSuccessAt.Equal(want) {
		t.Errorf("cursor = %s, want just after the newest line (%s)", cur.LastSuccessAt, want)
	}
	var known []string
	if err := json.Unmarshal(cur.KnownTemplates, &known); err != nil || len(known) != 1 {
		t.Errorf("known templates = %s (%v), want the one template", cur.KnownTemplates, err)
	}

	eng.add("bbbb00000001", "worker",
		fakeLine{base.Add(2 * time.Second), "ERROR job 3 failed: timeout"},
		fakeLine{base.Add(3 * time.Second), "FATAL out of memory"})
	res, err = task.Run(ctx, env)
	if err != nil {
		t.Fatal(err)
	}
	doc := decodeFullTriage(t, res)
	c := doc.Containers[0]
	if c.FirstTriage || c.Lines != 2 || !c.Since.Equal(cur.LastSuccessAt) {
		t.Errorf("second triage: first=%v lines=%d since=%s, want 2 lines since the cursor %s", c.FirstTriage, c.Lines, c.Since, cur.LastSuccessAt)
	}
	if tp := findTemplate(c.Templates, logtriage.Error, "job <num> failed"); tp == nil || tp.Count != 1 || tp.New {
		t.Errorf("known template on the second triage = %+v, want count 1, not new", tp)
	}
	if tp := findTemplate(c.Templates, logtriage.Fatal, "out of memory"); tp == nil || !tp.New {
		t.Errorf("fatal template = %+v, want new", tp)
	}
	if len(c.NewTemplates) != 1 || res.Data["new_templates"] != 1 || res.Data["fatal"] != 1 {
		t.Errorf("new templates %v, data %v", c.NewTemplates, res.Data)
	}
	if !strings.Contains(res.ReportMarkdown, " · since last triage at "+cur.LastSuccessAt.UTC().Format(time.RFC3339)) {
		t.Errorf("report does not say where the triage continued:\n%s", res.ReportMarkdown)
	}
	commit(t, res, cursors)

	res, err = task.Run(ctx, env)
	if err != nil {
		t.Fatal(err)
	}
	if res.Data["lines_read"] != 0 || res.Data["issues"] != 0 || !strings.Contains(res.ReportMarkdown, "No warnings or errors.") {
		t.Errorf("third triage with nothing new: %v\n%s", res.Data, res.ReportMarkdown)
	}
	commit(t, res, cursors)
	st, _ = cursors.LogStates(ctx, fakeHost.ID)
	if want := base.Add(3 * time.Second).Add(time.Microsecond); !st["worker"].LastSuccessAt.Equal(want) {
		t.Errorf("cursor after an empty triage = %s, want it kept at %s", st["worker"].LastSuccessAt, want)
	}
	if err := json.Unmarshal(st["worker"].KnownTemplates, &known); err != nil || len(known) != 2 {
		t.Errorf("known templates after three triages = %s, want 2", st["worker"].KnownTemplates)
	}

	other := env
	other.Host = &store.WorkerHost{ID: 8, Name: "other", Type: domain.HostDockerTCP, BaseURL: "tcp://other:2376"}
	res, err = task.Run(ctx, other)
	if err != nil {
		t.Fatal(err)
	}
	if c := decodeFullTriage(t, res).Containers[0]; !c.FirstTriage || c.Lines != 4 {
		t.Errorf("same name on another host: first=%v lines=%d, want a first triage of all 4 lines", c.FirstTriage, c.Lines)
	}
}

// TestLogTriageTailAndTop: tail bounds the lines read (the newest ones) and
// the report says so; top bounds the templates listed in the report while
// the JSON keeps them all.
func TestLogTriageTailAndTop(t *testing.T) {
	t.Parallel()
	base := time.Now().Add(-10 * time.Minute).Truncate(time.Second)
	eng := newFakeEngine(t)
	var lines []fakeLine
	for i := range 6 {
		lines = append(lines, fakeLine{base.Add(time.Duration(i) * time.Second), fmt.Sprintf("ERROR kind-%c broke", 'a'+i)})
	}
	eng.add("cccc00000001", "noisy", lines...)
	cursors := &memCursors{}
	env := fakeEnv(domain.TaskLogTriage, `{"window": "1h", "tail": 3, "top": 1}`, fixedAllowList{"noisy"}, cursors)
	res, err := LogTriage(eng, LLMConfig{}).Run(context.Background(), env)
	if err != nil {
		t.Fatal(err)
	}
	c := decodeFullTriage(t, res).Containers[0]
	if c.Lines != 3 || !c.Truncated || c.TemplatesTotal != 3 || len(c.Templates) != 3 {
		t.Errorf("tail 3: lines %d truncated %v templates %d/%d", c.Lines, c.Truncated, len(c.Templates), c.TemplatesTotal)
	}
	for _, old := range []string{"kind-a", "kind-b", "kind-c"} {
		if strings.Contains(string(artifact(t, res, "log_triage.json")), old) {
			t.Errorf("read %s, older than the last 3 lines", old)
		}
	}
	md := res.ReportMarkdown
	for _, want := range []string{" · 3 lines read (tail limit reached: older lines skipped)",
		"2 more template(s) in log_triage.json (raise `top` to list them here)."} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q:\n%s", want, md)
		}
	}
	if rows := strings.Count(md, "| error | 1 |"); rows != 1 {
		t.Errorf("report lists %d template rows, want top 1", rows)
	}
	commit(t, res, cursors)
	st, _ := cursors.LogStates(context.Background(), fakeHost.ID)
	if want := base.Add(5 * time.Second).Add(time.Microsecond); !st["noisy"].LastSuccessAt.Equal(want) {
		t.Errorf("cursor = %s, want after the newest line %s", st["noisy"].LastSuccessAt, want)
	}
}

// TestLogTriageScopeAll reads every container and needs no allow-list.
func TestLogTriageScopeAll(t *testing.T) {
	t.Parallel()
	base := time.Now().Add(-time.Minute).Truncate(time.Second)
	eng := newFakeEngine(t)
	eng.add("dddd00000001", "one", fakeLine{base, "ERROR a"})
	eng.add("dddd00000002", "two", fakeLine{base, "WARN b"})
	env := fakeEnv(domain.TaskLogTriage, `{"scope": "all"}`, nil, &memCursors{})
	res, err := LogTriage(eng, LLMConfig{}).Run(context.Background(), env)
	if err != nil {
		t.Fatal(err)
	}
	if res.Data["containers"] != 2 || res.Data["containers_out_of_scope"] != 0 || res.Data["issues"] != 2 {
		t.Errorf("scope all: %v", res.Data)
	}
	if !strings.Contains(res.ReportMarkdown, "Scope `all`") || strings.Contains(res.ReportMarkdown, "not on the allow-list") {
		t.Errorf("scope all report:\n%s", res.ReportMarkdown)
	}
}

// TestLogTriageNothingInScope: an empty allow-list reads nothing and says
// how many containers it left out, without naming them.
func TestLogTriageNothingInScope(t *testing.T) {
	t.Parallel()
	eng := newFakeEngine(t)
	eng.add("eeee00000001", "private-db", fakeLine{time.Now().Add(-time.Minute), "ERROR private"})
	res, err := LogTriage(eng, LLMConfig{}).Run(context.Background(),
		fakeEnv(domain.TaskLogTriage, "", fixedAllowList{}, &memCursors{}))
	if err != nil {
		t.Fatal(err)
	}
	if want := `no containers in scope "allowlist" on fake (1 not allow-listed)`; res.Summary != want {
		t.Errorf("summary = %q, want %q", res.Summary, want)
	}
	if res.Data["containers"] != 0 || res.Data["lines_read"] != 0 {
		t.Errorf("data = %v", res.Data)
	}
	assertNotLeaked(t, res, "private")
}

// TestLogTriageContainerGone: a container removed between the list and the
// read is reported as such; the job still succeeds and no cursor is saved
// for it (its next triage is a first one).
func TestLogTriageContainerGone(t *testing.T) {
	t.Parallel()
	base := time.Now().Add(-time.Minute).Truncate(time.Second)
	eng := newFakeEngine(t)
	eng.add("ffff00000001", "alive", fakeLine{base, "ERROR x"})
	eng.add("ffff00000002", "vanished", fakeLine{base, "ERROR y"})
	eng.gone["ffff00000002"] = true
	cursors := &memCursors{}
	res, err := LogTriage(eng, LLMConfig{}).Run(context.Background(),
		fakeEnv(domain.TaskLogTriage, "", fixedAllowList{"alive", "vanished"}, cursors))
	if err != nil {
		t.Fatalf("a vanished container failed the job: %v", err)
	}
	doc := decodeFullTriage(t, res)
	if len(doc.Containers) != 2 || doc.Containers[1].Name != "vanished" ||
		doc.Containers[1].Error != "container removed before its logs could be read" {
		t.Fatalf("containers = %+v", doc.Containers)
	}
	if !strings.Contains(res.ReportMarkdown, "### vanished") || !strings.Contains(res.ReportMarkdown, "_container removed before its logs could be read_") {
		t.Errorf("report:\n%s", res.ReportMarkdown)
	}
	commit(t, res, cursors)
	st, _ := cursors.LogStates(context.Background(), fakeHost.ID)
	if _, ok := st["vanished"]; ok || len(st) != 1 {
		t.Errorf("cursors after commit = %v, want only alive's", st)
	}
}
