package tasks

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/cyberbrain/cyberbrain/pkg/domain"

	"github.com/cyberbrain/cyberbrain/pkg/logtriage"
)

type triageDoc struct {
	Containers []struct {
		Name         string                  `json:"name"`
		Lines        int                     `json:"lines"`
		FirstTriage  bool                    `json:"first_triage"`
		LevelCounts  map[logtriage.Level]int `json:"level_counts"`
		Templates    []logtriage.Template    `json:"templates"`
		NewTemplates []string                `json:"new_templates"`
	} `json:"containers"`
	OutOfScope int `json:"containers_out_of_scope"`
}

func decodeTriage(t *testing.T, res *Result) triageDoc {
	t.Helper()
	var doc triageDoc
	if err := json.Unmarshal(artifact(t, res, "log_triage.json"), &doc); err != nil {
		t.Fatalf("decode log_triage.json: %v", err)
	}
	return doc
}

func findTemplate(ts []logtriage.Template, level logtriage.Level, substr string) *logtriage.Template {
	for i := range ts {
		if ts[i].Level == level && strings.Contains(ts[i].Pattern, substr) {
			return &ts[i]
		}
	}
	return nil
}

// TestLogTriageOnRealContainers covers acceptance 1: the right templates and
// counts and the panic, a second triage that reads only new lines, and a
// container off the allow-list whose logs never appear.
func TestLogTriageOnRealContainers(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	d := newTaskDB(t, "log_triage", `{"scope": "allowlist", "window": "1h", "tail": 1000, "top": 20}`)
	app := unique("cb-app")
	secretName := unique("cb-secret")
	secret := unique("TOPSECRET")
	appID := f.start(t, app, nil, true)
	f.start(t, secretName, []string{"LOGGER_SECRET=" + secret}, false)
	d.allow(t, &d.host.ID, app)

	task := LogTriage(testPool, LLMConfig{})
	res := d.run(t, task, &d.host, d.job)
	doc := decodeTriage(t, res)
	if len(doc.Containers) != 1 || doc.Containers[0].Name != app {
		t.Fatalf("triaged containers = %+v, want only %s", doc.Containers, app)
	}
	if doc.OutOfScope < 1 {
		t.Errorf("containers_out_of_scope = %d, want >= 1", doc.OutOfScope)
	}
	c := doc.Containers[0]
	want := []struct {
		level  logtriage.Level
		substr string
		count  int
	}{
		{logtriage.Error, "failed to connect to db <*> after <*> (request <*>", 5},
		{logtriage.Warn, "cache miss ratio high: <*>", 3},
		{logtriage.Error, "upstream timeout after <*>", 2},
		{logtriage.Panic, "panic: runtime error: index out of range [<*>] with length <*>", 1},
	}
	for _, w := range want {
		tp := findTemplate(c.Templates, w.level, w.substr)
		if tp == nil {
			t.Errorf("no %s template %q in %+v", w.level, w.substr, c.Templates)
			continue
		}
		if tp.Count != w.count || !tp.New {
			t.Errorf("template %q: count %d new %v, want %d new", tp.Pattern, tp.Count, tp.New, w.count)
		}
	}
	if p := findTemplate(c.Templates, logtriage.Panic, "panic:"); p != nil {
		if !strings.Contains(p.Example, "goroutine 1 [running]") || len(p.Streams) != 1 || p.Streams[0] != "stderr" {
			t.Errorf("panic not folded with its stderr trace: %+v", p)
		}
	}
	if c.LevelCounts[logtriage.Error] != 7 || c.LevelCounts[logtriage.Warn] != 3 || c.LevelCounts[logtriage.Panic] != 1 {
		t.Errorf("level counts = %v", c.LevelCounts)
	}
	assertNotLeaked(t, res, secret, secretName)
	if !strings.Contains(res.ReportMarkdown, "failed to connect to db") || res.Data["panic"] != 1 {
		t.Errorf("report/data missing findings: %v\n%s", res.Data, res.ReportMarkdown)
	}

	// New lines after the accepted triage: only they are read.
	if err := f.cli.ContainerKill(context.Background(), appID, "SIGUSR1"); err != nil {
		t.Fatalf("signal logger: %v", err)
	}
	f.waitLog(t, appID, "batch 2 done")
	res2 := d.run(t, task, &d.host, newJob(t, d.st, d.host.ID, "log_triage", `{"window": "1h"}`))
	doc2 := decodeTriage(t, res2)
	if len(doc2.Containers) != 1 {
		t.Fatalf("second triage containers = %+v", doc2.Containers)
	}
	c2 := doc2.Containers[0]
	if c2.FirstTriage || c2.Lines != 4 {
		t.Errorf("second triage: first=%v lines=%d, want a continued triage of the 4 new lines", c2.FirstTriage, c2.Lines)
	}
	if tp := findTemplate(c2.Templates, logtriage.Error, "failed to connect to db"); tp == nil || tp.Count != 2 || tp.New {
		t.Errorf("db template on second triage = %+v, want count 2, known", tp)
	}
	if tp := findTemplate(c2.Templates, logtriage.Error, "disk quota exceeded for volume <*>"); tp == nil || !tp.New {
		t.Errorf("disk quota template = %+v, want new", tp)
	}
	if findTemplate(c2.Templates, logtriage.Panic, "panic") != nil {
		t.Error("second triage read the panic of the first batch again")
	}
	assertNotLeaked(t, res2, secret, secretName)
}

// assertNotLeaked checks nothing of a non-allow-listed container is in a result.
func assertNotLeaked(t *testing.T, res *Result, needles ...string) {
	t.Helper()
	data, _ := json.Marshal(res.Data)
	hay := []string{res.Summary, res.ReportMarkdown, string(data)}
	for _, a := range res.Artifacts {
		hay = append(hay, string(a.Content))
	}
	for _, h := range hay {
		for _, n := range needles {
			if strings.Contains(h, n) {
				t.Errorf("result contains %q of a container that is not allow-listed", n)
			}
		}
	}
}

// TestLogTriageFailedAttemptKeepsCursor: a result that is not accepted
// (OnCommit never applied) leaves the cursor, so the next triage reads the
// same lines again.
func TestLogTriageFailedAttemptKeepsCursor(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	d := newTaskDB(t, "log_triage", "")
	app := unique("cb-app")
	f.start(t, app, nil, false)
	d.allow(t, nil, app) // a global entry
	task := LogTriage(testPool, LLMConfig{})
	if _, err := task.Run(context.Background(), d.env(&d.host, d.job)); err != nil {
		t.Fatal(err)
	}
	res := d.run(t, task, &d.host, newJob(t, d.st, d.host.ID, "log_triage", ""))
	doc := decodeTriage(t, res)
	if len(doc.Containers) != 1 || !doc.Containers[0].FirstTriage {
		t.Fatalf("want a first triage again, got %+v", doc.Containers)
	}
	if tp := findTemplate(doc.Containers[0].Templates, logtriage.Error, "failed to connect to db"); tp == nil || tp.Count != 5 {
		t.Errorf("db template = %+v, want the 5 lines read again", tp)
	}
}

// TestLogTriageBadConfig: a bad config is a permanent error.
func TestLogTriageBadConfig(t *testing.T) {
	t.Parallel()
	d := newTaskDB(t, "log_triage", `{"scope": "everything"}`)
	_, err := LogTriage(testPool, LLMConfig{}).Run(context.Background(), d.env(&d.host, d.job))
	if err == nil || !strings.Contains(err.Error(), "scope") || domain.IsRetryable(err) {
		t.Fatalf("err = %v, want a scope error", err)
	}
	d.job.Config = []byte(`{"window": "soon"}`)
	if _, err := LogTriage(testPool, LLMConfig{}).Run(context.Background(), d.env(&d.host, d.job)); err == nil {
		t.Fatal("want an error for window \"soon\"")
	}
}

// TestUnreachableHostFailsRetryable: a job on a host whose engine cannot be
// reached fails with a retryable error naming the host and the engine's answer.
func TestUnreachableHostFailsRetryable(t *testing.T) {
	t.Parallel()
	d := newTaskDB(t, "log_triage", "")
	down := d.host
	down.ID, down.Name, down.BaseURL = 9999, "down", "tcp://127.0.0.1:1"
	for _, task := range []Task{LogTriage(testPool, LLMConfig{}), ServiceMap(testPool), GPUReport(testPool)} {
		_, err := task.Run(context.Background(), d.env(&down, d.job))
		if err == nil || !domain.IsRetryable(err) || !strings.Contains(err.Error(), `worker host "down" (tcp://127.0.0.1:1)`) ||
			!strings.Contains(err.Error(), "127.0.0.1:1") {
			t.Errorf("err = %v (retryable %v)", err, domain.IsRetryable(err))
		}
	}
}
