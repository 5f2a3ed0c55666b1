package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/cyberbrain/cyberbrain/pkg/api"
	"github.com/cyberbrain/cyberbrain/pkg/store"
	"github.com/cyberbrain/cyberbrain/pkg/testenv"
)

// realAPI serves the real API on a fresh database and returns a client of
// it (with token when the API requires one) and the store behind it.
func realAPI(t *testing.T, token string) (*Client, *store.Store) {
	t.Helper()
	st := testenv.NewStore(t)
	srv, err := api.New(api.Config{Store: st, APIToken: token})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	c, err := New(hs.URL, token)
	if err != nil {
		t.Fatal(err)
	}
	return c, st
}

// Launch, Run and Report read back what the API stored, the report's
// artifacts included, and Stream hands back an artifact's exact bytes.
func TestLaunchRunReportStream(t *testing.T) {
	t.Parallel()
	c, st := realAPI(t, "")
	ctx := context.Background()

	run, err := c.Launch(ctx, LaunchRequest{Tasks: []string{"log_triage", "service_map"}})
	if err != nil {
		t.Fatal(err)
	}
	if run.ID == 0 || run.Status != "pending" || len(run.Jobs) != 2 {
		t.Fatalf("launched run: %+v", run)
	}
	tasks := map[string]bool{}
	for _, j := range run.Jobs {
		tasks[j.TaskType] = true
		if j.Status != "pending" {
			t.Errorf("job %d: status %q", j.ID, j.Status)
		}
	}
	if !tasks["log_triage"] || !tasks["service_map"] {
		t.Errorf("jobs %+v", run.Jobs)
	}

	got, err := c.Run(ctx, run.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != run.ID || got.Status != "pending" || len(got.Jobs) != 2 || got.CreatedAt.IsZero() || got.CompletedAt != nil {
		t.Errorf("Run: %+v", got)
	}

	rep, err := c.Report(ctx, run.ID)
	if err != nil {
		t.Fatal(err)
	}
	if rep.RunID != run.ID || rep.Status != "pending" || rep.ReportMarkdown != "" || len(rep.Artifacts) != 0 {
		t.Errorf("report of a pending run: %+v", rep)
	}

	content := []byte{0, 1, 2, 0xff, '\n', 'x'}
	db := testenv.SQL(t, st)
	if err := db.Exec(`UPDATE runs SET report_markdown = '# Done', report_json = '{"n":1}' WHERE id = ?`, run.ID).Error; err != nil {
		t.Fatal(err)
	}
	if err := db.Exec(`INSERT INTO artifacts (run_id, job_id, name, content_type, size, content) VALUES (?, ?, 'out.bin', 'application/x-test', ?, ?)`,
		run.ID, run.Jobs[0].ID, len(content), content).Error; err != nil {
		t.Fatal(err)
	}
	rep, err = c.Report(ctx, run.ID)
	if err != nil {
		t.Fatal(err)
	}
	if rep.ReportMarkdown != "# Done" || string(rep.ReportJSON) != `{"n": 1}` && string(rep.ReportJSON) != `{"n":1}` {
		t.Errorf("report: %q %s", rep.ReportMarkdown, rep.ReportJSON)
	}
	if len(rep.Artifacts) != 1 {
		t.Fatalf("artifacts: %+v", rep.Artifacts)
	}
	a := rep.Artifacts[0]
	if a.Name != "out.bin" || a.Size != int64(len(content)) || a.RunID != run.ID || a.JobID == nil || *a.JobID != run.Jobs[0].ID {
		t.Errorf("artifact: %+v", a)
	}

	body, hdr, err := c.Stream(ctx, fmt.Sprintf("/api/artifacts/%d/download/", a.ID))
	if err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(body)
	body.Close()
	if err != nil || string(data) != string(content) {
		t.Errorf("streamed %q (%v), want %q", data, err, content)
	}
	if _, params, err := mime.ParseMediaType(hdr.Get("Content-Disposition")); err != nil || params["filename"] != "out.bin" {
		t.Errorf("Content-Disposition %q", hdr.Get("Content-Disposition"))
	}
	if hdr.Get("Content-Type") != "application/x-test" {
		t.Errorf("Content-Type %q", hdr.Get("Content-Type"))
	}
}

// The API's refusals arrive as *APIError with the status, message and
// fields it sent: 404 for unknown ids, 400 with fields, 409 on a second
// cancel.
func TestRealAPIErrors(t *testing.T) {
	t.Parallel()
	c, _ := realAPI(t, "")
	ctx := context.Background()

	_, err := c.Run(ctx, 999)
	var ae *APIError
	if !errors.As(err, &ae) || ae.Status != http.StatusNotFound || !IsNotFound(err) {
		t.Fatalf("unknown run: %v", err)
	}
	if !strings.HasPrefix(err.Error(), "GET /api/runs/999/: 404 ") {
		t.Errorf("404 text: %q", err)
	}
	if _, err := c.Report(ctx, 999); !IsNotFound(err) {
		t.Errorf("report of an unknown run: %v", err)
	}
	if _, _, err := c.Stream(ctx, "/api/artifacts/999/download/"); !IsNotFound(err) {
		t.Errorf("download of an unknown artifact: %v", err)
	}

	err = c.Do(ctx, http.MethodPost, Schedules, nil, map[string]any{"name": "x", "task_key": "noop",
		"schedule_type": "cron", "cron_expr": "61 * * * *"}, nil)
	if !errors.As(err, &ae) || ae.Status != http.StatusBadRequest || len(ae.Fields["cron_expr"]) == 0 {
		t.Fatalf("invalid cron: %#v", err)
	}
	if !strings.Contains(err.Error(), "\n  cron_expr: ") || IsNotFound(err) {
		t.Errorf("400 text: %q", err)
	}

	if _, err := c.Launch(ctx, LaunchRequest{Tasks: []string{"no_such_task"}}); !errors.As(err, &ae) || ae.Status != http.StatusBadRequest {
		t.Errorf("launch of an unknown task: %v", err)
	}

	run, err := c.Launch(ctx, LaunchRequest{Tasks: []string{"log_triage"}})
	if err != nil {
		t.Fatal(err)
	}
	cancel := Item(Runs, run.ID) + "cancel/"
	if err := c.Do(ctx, http.MethodPost, cancel, nil, nil, nil); err != nil {
		t.Fatalf("first cancel: %v", err)
	}
	err = c.Do(ctx, http.MethodPost, cancel, nil, nil, nil)
	if !errors.As(err, &ae) || ae.Status != http.StatusConflict {
		t.Errorf("second cancel: %v", err)
	}
}

// With a token configured, the API refuses a client without it or with
// another one (401, with the hint), accepts the right one, and the error
// text never carries the token the client sent.
func TestRealAPIToken(t *testing.T) {
	t.Parallel()
	c, _ := realAPI(t, "right-token-123")
	ctx := context.Background()
	if _, err := ListAs[Task](ctx, c, Tasks, nil); err != nil {
		t.Fatalf("with the token: %v", err)
	}
	for _, tok := range []string{"", "wrong-token-456"} {
		other, err := New(c.Server(), tok)
		if err != nil {
			t.Fatal(err)
		}
		err = other.Do(ctx, http.MethodGet, Runs, nil, nil, nil)
		var ae *APIError
		if !errors.As(err, &ae) || ae.Status != http.StatusUnauthorized {
			t.Fatalf("token %q: %v", tok, err)
		}
		if !strings.Contains(err.Error(), "CYBERBRAIN_API_TOKEN") {
			t.Errorf("401 without the hint: %q", err)
		}
		if tok != "" && strings.Contains(err.Error(), tok) {
			t.Errorf("the error prints the token: %q", err)
		}
		if strings.Contains(err.Error(), "right-token-123") {
			t.Errorf("the error prints the server's token: %q", err)
		}
	}
}

// Do creates, patches and deletes through the real API: the 201 body
// decodes, a 204 leaves out untouched, a RawMessage keeps the bytes.
func TestDoCRUD(t *testing.T) {
	t.Parallel()
	c, _ := realAPI(t, "")
	ctx := context.Background()
	var d Directive
	if err := c.Do(ctx, http.MethodPost, Directives, nil, map[string]any{"name": "nightly", "description": "n",
		"task_config": map[string]any{"noop": map[string]any{"sleep_ms": 5}}}, &d); err != nil {
		t.Fatal(err)
	}
	if d.ID == 0 || d.Name != "nightly" || d.Description != "n" {
		t.Fatalf("created %+v", d)
	}
	var cfg map[string]map[string]float64
	if err := json.Unmarshal(d.TaskConfig, &cfg); err != nil || cfg["noop"]["sleep_ms"] != 5 {
		t.Errorf("task_config %s", d.TaskConfig)
	}

	var raw json.RawMessage
	if err := c.Do(ctx, http.MethodPatch, Item(Directives, d.ID), nil, map[string]any{"description": "changed"}, &raw); err != nil {
		t.Fatal(err)
	}
	var patched map[string]any
	if err := json.Unmarshal(raw, &patched); err != nil || patched["description"] != "changed" || patched["name"] != "nightly" {
		t.Errorf("patched: %s (%v)", raw, err)
	}

	untouched := Directive{Name: "keep"}
	if err := c.Do(ctx, http.MethodDelete, Item(Directives, d.ID), nil, nil, &untouched); err != nil {
		t.Fatal(err)
	}
	if untouched.Name != "keep" {
		t.Errorf("a 204 changed out: %+v", untouched)
	}
	if err := c.Do(ctx, http.MethodGet, Item(Directives, d.ID), nil, nil, nil); !IsNotFound(err) {
		t.Errorf("deleted directive still there: %v", err)
	}
}

// List reads the whole collection oldest first and keeps the caller's
// filters; ListAs decodes the items.
func TestListAgainstRealAPI(t *testing.T) {
	t.Parallel()
	c, _ := realAPI(t, "")
	ctx := context.Background()
	for _, n := range []string{"c", "a", "b"} {
		if err := c.Do(ctx, http.MethodPost, Directives, nil, map[string]any{"name": n}, nil); err != nil {
			t.Fatal(err)
		}
	}
	ds, err := ListAs[Directive](ctx, c, Directives, nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for i, d := range ds {
		names = append(names, d.Name)
		if i > 0 && d.ID <= ds[i-1].ID {
			t.Errorf("not in id order: %+v", ds)
		}
	}
	if got := strings.Join(names, ","); !strings.HasSuffix(got, "c,a,b") {
		t.Errorf("directives %s, want creation order ending c,a,b", got)
	}

	tasks, err := ListAs[Task](ctx, c, Tasks, nil)
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]Task{}
	for _, tk := range tasks {
		keys[tk.Key] = tk
	}
	if len(keys) < 4 || keys["noop"].Enabled || !keys["log_triage"].Enabled || keys["noop"].TimeoutSeconds != 60 {
		t.Errorf("seeded tasks: %+v", tasks)
	}

	for _, tk := range []string{"service_map", "service_map", "log_triage"} {
		if _, err := c.Launch(ctx, LaunchRequest{Tasks: []string{tk}}); err != nil {
			t.Fatal(err)
		}
	}
	first, err := c.Launch(ctx, LaunchRequest{Tasks: []string{"log_triage"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Do(ctx, http.MethodPost, Item(Runs, first.ID)+"cancel/", nil, nil, nil); err != nil {
		t.Fatal(err)
	}
	q := url.Values{"status": {"cancelled"}}
	runs, err := ListAs[Run](ctx, c, Runs, q)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 1 || runs[0].ID != first.ID || runs[0].Status != "cancelled" {
		t.Errorf("cancelled runs: %+v", runs)
	}
	if len(q) != 1 {
		t.Errorf("List changed the caller's query: %v", q)
	}
	all, err := List(ctx, c, Runs, nil)
	if err != nil || len(all) != 4 {
		t.Errorf("all runs: %d (%v)", len(all), err)
	}
}

// Wait on a run cancelled through the API returns the terminal state; a
// cancelled context stops waiting (the run goes on); an unknown run is a
// 404 error naming the run.
func TestWaitAgainstRealAPI(t *testing.T) {
	t.Parallel()
	c, _ := realAPI(t, "")
	ctx := context.Background()
	run, err := c.Launch(ctx, LaunchRequest{Tasks: []string{"log_triage"}})
	if err != nil {
		t.Fatal(err)
	}

	wctx, stop := context.WithCancel(ctx)
	calls := 0
	_, err = c.Wait(wctx, run.ID, WaitOptions{OnChange: func(prev, cur *Run) {
		calls++
		if prev != nil || cur.Status != "pending" {
			t.Errorf("first change: %v → %+v", prev, cur)
		}
		stop() // Ctrl-C while the run is pending
	}})
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "goes on without us") || calls != 1 {
		t.Errorf("cancelled wait: %v (%d changes)", err, calls)
	}
	if r, err := c.Run(ctx, run.ID); err != nil || r.Status != "pending" {
		t.Errorf("the run after the wait stopped: %+v %v", r, err)
	}

	if err := c.Do(ctx, http.MethodPost, Item(Runs, run.ID)+"cancel/", nil, nil, nil); err != nil {
		t.Fatal(err)
	}
	final, err := c.Wait(ctx, run.ID, WaitOptions{})
	if err != nil || final.Status != "cancelled" || !Terminal(final.Jobs[0].Status) {
		t.Errorf("wait on a cancelled run: %+v %v", final, err)
	}

	_, err = c.Wait(ctx, 4242, WaitOptions{})
	if !IsNotFound(err) || !strings.Contains(err.Error(), "wait for run 4242") {
		t.Errorf("wait on an unknown run: %v", err)
	}
}
