package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/cyberbrain/cyberbrain/pkg/domain"
	"github.com/cyberbrain/cyberbrain/pkg/store"
	"github.com/cyberbrain/cyberbrain/pkg/tasks"
	"github.com/cyberbrain/cyberbrain/pkg/testenv"
)

// Cancelling a running run from its page: the run turns cancelled at once,
// the task is stopped and its job and attempt end cancelled, all shown
// without a reload of the run page after the cancel.
func TestRunsCancelRunningRun(t *testing.T) {
	e := newEnv(t)
	runsEnableNoop(t, e)
	stopped := make(chan struct{}, 1)
	e.startScheduler(tasks.Registry{"noop": tasks.TaskFunc(func(ctx context.Context, env tasks.Env) (*tasks.Result, error) {
		<-ctx.Done() // runs until cancelled
		stopped <- struct{}{}
		return nil, ctx.Err()
	})})
	d, err := e.st.Launch(t.Context(), store.LaunchRequest{Tasks: []string{"noop"}})
	if err != nil {
		t.Fatal(err)
	}
	jobID := d.Jobs[0].ID
	e.b.Do(t, 30*time.Second,
		chromedp.Navigate(fmt.Sprintf("%s/runs/%d", e.url, d.ID)),
		chromedp.WaitVisible(runsBadge(d.ID, domain.StatusRunning)),
		chromedp.WaitVisible(chromedp.CSS(`#run-live .attempts tr.o-running`)),
		chromedp.Click(chromedp.CSS("#cancel-run button")),
		chromedp.WaitVisible(runsBadge(d.ID, domain.StatusCancelled)),
		chromedp.WaitVisible(chromedp.CSS(`body[data-live="ready"]`)))
	runsEval[int](t, e, `window.__marker = 1`)
	select {
	case <-stopped:
	case <-time.After(30 * time.Second):
		t.Fatal("the running task was not stopped")
	}
	e.b.Do(t, 30*time.Second,
		chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`[data-job-status="%d"].s-cancelled`, jobID))),
		chromedp.WaitVisible(chromedp.CSS(`#run-live .attempts tr.o-cancelled`)))
	if !runsEval[bool](t, e, `window.__marker === 1 && !document.querySelector("#cancel-run")`) {
		t.Fatal("after the cancel the page was reloaded or still offers Cancel")
	}
	e.noErrors("/runs/{id} cancel")

	// Cancelling it again (a stale page, another tab) says it has ended.
	rc := newFormClient(t, e)
	res, body := rc.post(fmt.Sprintf("/runs/%d/cancel", d.ID), url.Values{})
	if res.StatusCode != http.StatusConflict || !strings.Contains(body, "already finished") {
		t.Fatalf("second cancel: %d %s", res.StatusCode, body)
	}
	if res, _ := rc.post("/runs/987654/cancel", url.Values{}); res.StatusCode != http.StatusNotFound {
		t.Fatalf("cancel of an unknown run: %d", res.StatusCode)
	}
}

// Text from users, containers and tasks (a directive's name, a run's error
// and report, a finding's statement) is shown as text on every run page:
// no script of it runs and no element of it is created.
func TestRunsPagesEscapeUserText(t *testing.T) {
	e := newEnv(t)
	const payload = `<img src=x onerror="window.__xss=1">`
	dir := &store.Directive{Name: payload, Description: payload, TaskConfig: json.RawMessage(`{}`)}
	if err := e.st.CreateDirective(t.Context(), dir); err != nil {
		t.Fatal(err)
	}
	snap, _ := json.Marshal(map[string]string{"name": payload})
	run := runsInsert(t, e, store.Run{Status: domain.StatusFailed, DirectiveID: &dir.ID, DirectiveSnapshot: snap,
		ErrorMessage: payload + `<script>window.__xss=1</script>`,
		ReportMarkdown: "## Findings\n\n" + payload + "\n\n<script>window.__xss=1</script>\n\n" +
			"[click](javascript:window.__xss=1) and `" + payload + "`\n"})
	db := testenv.SQL(t, e.st)
	var job store.Job
	if err := db.Raw(`INSERT INTO jobs (run_id, task_type, status, error_message) VALUES (?, 'log_triage', 'failed', ?) RETURNING id`,
		run.ID, payload).Scan(&job.ID).Error; err != nil {
		t.Fatal(err)
	}
	if err := db.Exec(`INSERT INTO job_attempts (job_id, attempt, claimant, ended_at, outcome, error) VALUES (?, 1, ?, now(), 'failed', ?)`,
		job.ID, payload, payload).Error; err != nil {
		t.Fatal(err)
	}
	if err := db.Exec(`INSERT INTO findings (run_id, job_id, worker_host_id, container_name, severity, kind, rank, statement)
		VALUES (?, ?, (SELECT min(id) FROM worker_hosts), ?, 'high', 'new_template', 1, ?)`, run.ID, job.ID, payload, payload).Error; err != nil {
		t.Fatal(err)
	}
	if err := db.Exec(`INSERT INTO artifacts (run_id, job_id, name, content_type, size, content) VALUES (?, ?, ?, 'text/html', 4, 'abcd')`,
		run.ID, job.ID, payload).Error; err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/", "/runs", fmt.Sprintf("/runs?directive=%d", dir.ID), fmt.Sprintf("/runs/%d", run.ID), "/launch"} {
		e.b.Do(t, 20*time.Second, chromedp.Navigate(e.url+path), chromedp.WaitVisible(chromedp.CSS("main h1")))
		if got := runsEval[string](t, e, `typeof window.__xss`); got != "undefined" {
			t.Errorf("%s: the payload ran (window.__xss is %s)", path, got)
		}
		if n := runsEval[int](t, e, `document.querySelectorAll('img[src="x"], main script, a[href^="javascript"]').length`); n != 0 {
			t.Errorf("%s: %d elements came from the payload", path, n)
		}
		if !runsEval[bool](t, e, fmt.Sprintf(`document.querySelector("main").textContent.includes(%q)`, payload)) {
			t.Errorf("%s: the payload is not shown as text", path)
		}
		if n := runsEval[int](t, e, `document.querySelectorAll("h1").length`); n != 1 {
			t.Errorf("%s: %d h1 elements, want 1", path, n)
		}
		e.noErrors(path)
	}
	// The run page shows the error verbatim, and the report's markdown
	// rendered with its HTML left out.
	e.b.Do(t, 20*time.Second, chromedp.Navigate(fmt.Sprintf("%s/runs/%d", e.url, run.ID)), chromedp.WaitVisible(chromedp.CSS("#run-report h4")))
	if got := runsEval[string](t, e, `document.querySelector("#run-error").textContent`); got != run.ErrorMessage {
		t.Errorf("error shown as %q", got)
	}
	if got := runsText(t, e, "#run-report h4"); got != "Findings" {
		t.Errorf("report heading %q", got)
	}
	e.noErrors("run report")
}

// The runs list filters by status, task and directive with a plain GET
// form, pages through runs 50 at a time, and answers a bad filter with a
// 400 page.
func TestRunsListFiltersAndPages(t *testing.T) {
	e := newEnv(t)
	db := testenv.SQL(t, e.st)
	dir := &store.Directive{Name: "nightly", TaskConfig: json.RawMessage(`{}`)}
	if err := e.st.CreateDirective(t.Context(), dir); err != nil {
		t.Fatal(err)
	}
	if err := db.Exec(`INSERT INTO runs (status, completed_at) SELECT 'completed', now() FROM generate_series(1, 120)`).Error; err != nil {
		t.Fatal(err)
	}
	pending := runsInsert(t, e, store.Run{Status: domain.StatusPending, DirectiveID: &dir.ID,
		DirectiveSnapshot: json.RawMessage(`{"name": "nightly"}`)})
	if err := db.Exec(`INSERT INTO jobs (run_id, task_type) VALUES (?, 'gpu_report')`, pending.ID).Error; err != nil {
		t.Fatal(err)
	}

	rc := newFormClient(t, e)
	rows := regexp.MustCompile(`data-run-status="(\d+)"`)
	older := regexp.MustCompile(`href="(/runs\?before=\d+)" rel="next"`)
	status, body := rc.getStatus("/runs")
	ids := rows.FindAllStringSubmatch(body, -1)
	if status != http.StatusOK || len(ids) != 50 || ids[0][1] != fmt.Sprint(pending.ID) {
		t.Fatalf("/runs: %d, %d rows", status, len(ids))
	}
	seen := len(ids)
	for page := 0; ; page++ {
		m := older.FindStringSubmatch(body)
		if m == nil {
			break
		}
		status, body = rc.getStatus(strings.ReplaceAll(m[1], "&amp;", "&"))
		seen += len(rows.FindAllString(body, -1))
		if status != http.StatusOK || page > 3 {
			t.Fatalf("older page %s: %d", m[1], status)
		}
	}
	if seen != 121 || !strings.Contains(body, "rel=\"prev\"") {
		t.Fatalf("paging showed %d runs, want 121", seen)
	}

	for _, q := range []string{"status=pending", "task=gpu_report", fmt.Sprintf("directive=%d", dir.ID),
		fmt.Sprintf("status=pending&task=gpu_report&directive=%d", dir.ID)} {
		status, body := rc.getStatus("/runs?" + q)
		if ids := rows.FindAllStringSubmatch(body, -1); status != http.StatusOK || len(ids) != 1 || ids[0][1] != fmt.Sprint(pending.ID) {
			t.Errorf("/runs?%s: %d, %v", q, status, ids)
		}
	}
	if status, body := rc.getStatus("/runs?status=failed&task=gpu_report"); status != http.StatusOK || !strings.Contains(body, "No runs match") {
		t.Errorf("empty filter: %d", status)
	}
	for _, q := range []string{"status=bogus", "task=no_such_task", "directive=abc", "directive=987654", "before=-3", "after=x"} {
		if status, body := rc.getStatus("/runs?" + q); status != http.StatusBadRequest || !strings.Contains(body, "error-message") {
			t.Errorf("/runs?%s: %d, want a 400 page", q, status)
		}
	}
	for _, p := range []string{"/runs/abc", "/runs/987654", "/runs/0"} {
		if status, _ := rc.getStatus(p); status != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", p, status)
		}
	}

	// In the browser: the form filters without script, keeping its choices.
	e.b.Do(t, 20*time.Second,
		chromedp.Navigate(e.url+"/runs"),
		chromedp.WaitVisible(chromedp.CSS("#f-status")),
		chromedp.SetValue(chromedp.CSS("#f-status"), "pending"),
		chromedp.SetValue(chromedp.CSS("#f-task"), "gpu_report"),
		chromedp.Click(chromedp.CSS(".filters button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS(".filters a.button.secondary")))
	if loc := getString(t, e, chromedp.Location()); !strings.Contains(loc, "status=pending") || !strings.Contains(loc, "task=gpu_report") {
		t.Fatalf("filter went to %s", loc)
	}
	if n := runsEval[int](t, e, `document.querySelectorAll("#runs-table tbody tr").length`); n != 1 {
		t.Fatalf("filtered list has %d rows", n)
	}
	if v := runsEval[string](t, e, `document.querySelector("#f-status").value`); v != "pending" {
		t.Fatalf("status select shows %q after filtering", v)
	}
	e.noErrors("/runs filtered")
}

// The run page shows each job's attempts in order with their claimant,
// duration and outcome, a lost attempt marked as such. An artifact
// downloads from it as an attachment with its stored type; it is not
// reachable through another run.
func TestRunsRunPageAttemptsAndArtifacts(t *testing.T) {
	e := newEnv(t)
	run := runsInsert(t, e, store.Run{ReportMarkdown: "# Done"})
	other := runsInsert(t, e, store.Run{})
	db := testenv.SQL(t, e.st)
	var jid int64
	if err := db.Raw(`INSERT INTO jobs (run_id, task_type, status, attempt) VALUES (?, 'service_map', 'completed', 2) RETURNING id`, run.ID).Scan(&jid).Error; err != nil {
		t.Fatal(err)
	}
	if err := db.Exec(`INSERT INTO job_attempts (job_id, attempt, claimant, started_at, ended_at, outcome, error) VALUES
		(?, 1, 'replica-a', now() - interval '60 s', now() - interval '30 s', 'lost', 'lease expired'),
		(?, 2, 'replica-b', now() - interval '25 s', now() - interval '20 s', 'completed', '')`, jid, jid).Error; err != nil {
		t.Fatal(err)
	}
	var aid int64
	if err := db.Raw(`INSERT INTO artifacts (run_id, name, content_type, size, content)
		VALUES (?, 'reports/report.md', 'text/markdown; charset=utf-8', 7, '# Hello') RETURNING id`, run.ID).Scan(&aid).Error; err != nil {
		t.Fatal(err)
	}
	rc := newFormClient(t, e)
	status, body := rc.getStatus(fmt.Sprintf("/runs/%d", run.ID))
	link := fmt.Sprintf(`href="/runs/%d/artifacts/%d" download`, run.ID, aid)
	if status != http.StatusOK || !strings.Contains(body, link) || !strings.Contains(body, "7 B") {
		t.Fatalf("run page: %d, no artifact link %s", status, link)
	}
	timeline := regexp.MustCompile(`(?s)<tr class="attempt o-lost">.*replica-a.*30\.0 s.*>lost<.*lease expired.*` +
		`<tr class="attempt o-completed">.*replica-b.*5\.0 s.*>completed<`)
	if !timeline.MatchString(body) || !strings.Contains(body, "1 lost") {
		t.Fatalf("the attempts timeline is missing or out of order:\n%s", body)
	}
	res, content := rc.get(fmt.Sprintf("/runs/%d/artifacts/%d", run.ID, aid))
	if res.StatusCode != http.StatusOK || content != "# Hello" ||
		res.Header.Get("Content-Type") != "text/markdown; charset=utf-8" ||
		res.Header.Get("Content-Disposition") != `attachment; filename=report.md` {
		t.Fatalf("download: %d %q %v", res.StatusCode, content, res.Header)
	}
	if status, _ := rc.getStatus(fmt.Sprintf("/runs/%d/artifacts/%d", other.ID, aid)); status != http.StatusNotFound {
		t.Fatalf("artifact through another run: %d", status)
	}
}
