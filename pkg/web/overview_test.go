package web_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/cyberbrain/cyberbrain/pkg/domain"
	"github.com/cyberbrain/cyberbrain/pkg/store"
	"github.com/cyberbrain/cyberbrain/pkg/testenv"
)

// The overview counts pending, running and recently failed runs, charts the
// last hour's runs per minute, and lists unhealthy hosts and the newest
// log triage issues; it and the runs list load without a browser error, in
// light and dark mode. A new run updates the counts in place.
func TestRunsOverviewShowsCounts(t *testing.T) {
	e := newEnv(t)
	db := testenv.SQL(t, e.st)
	runsEnableNoop(t, e)
	if err := db.Exec(`UPDATE task_definitions SET enabled = false WHERE key = 'gpu_report'`).Error; err != nil {
		t.Fatal(err)
	}
	for _, s := range []domain.RunStatus{domain.StatusPending, domain.StatusPending, domain.StatusRunning,
		domain.StatusFailed, domain.StatusFailed, domain.StatusFailed, domain.StatusCompleted} {
		runsInsert(t, e, store.Run{Status: s})
	}
	// A failure from two days ago is not "in the last 24 h".
	old := runsInsert(t, e, store.Run{Status: domain.StatusFailed})
	if err := db.Exec(`UPDATE runs SET created_at = now() - interval '2 days', completed_at = now() - interval '2 days' WHERE id = ?`, old.ID).Error; err != nil {
		t.Fatal(err)
	}
	var hostID int64
	if err := db.Raw(`UPDATE worker_hosts SET healthy = false, last_error = 'engine unreachable', last_checked_at = now()
		WHERE name = 'local' RETURNING id`).Scan(&hostID).Error; err != nil {
		t.Fatal(err)
	}
	var jobID int64
	if err := db.Raw(`INSERT INTO jobs (run_id, task_type, status) VALUES (?, 'log_triage', 'completed') RETURNING id`, old.ID).Scan(&jobID).Error; err != nil {
		t.Fatal(err)
	}
	if err := db.Exec(`INSERT INTO findings (run_id, job_id, worker_host_id, container_name, severity, kind, rank, statement)
		VALUES (?, ?, ?, 'web-1', 'critical', 'oom_killed', 1, 'web-1 was OOM-killed 3 times')`, old.ID, jobID, hostID).Error; err != nil {
		t.Fatal(err)
	}

	for _, scheme := range []string{"light", "dark"} {
		e.b.Do(t, 20*time.Second, testenv.ColorScheme(scheme),
			chromedp.Navigate(e.url+"/"), chromedp.WaitVisible(chromedp.CSS("#count-pending")),
			chromedp.WaitVisible(chromedp.CSS(`body[data-live="ready"]`)))
		e.noErrors("/ " + scheme)
	}
	for id, want := range map[string]string{"#count-pending": "2", "#count-running": "1", "#count-failed": "3"} {
		if got := runsText(t, e, id); got != want {
			t.Errorf("%s shows %q, want %s", id, got, want)
		}
	}
	if n := runsEval[int](t, e, `[...document.querySelectorAll("#runs-chart rect.minute")].reduce((s, r) => s + +r.dataset.count, 0)`); n != 7 {
		t.Errorf("the chart holds %d runs of the last hour, want 7", n)
	}
	if n := runsEval[int](t, e, `document.querySelectorAll("#recent-runs tbody tr").length`); n != 8 {
		t.Errorf("recent runs: %d rows, want 8", n)
	}
	if !runsEval[bool](t, e, fmt.Sprintf(`!!document.querySelector('#unhealthy-hosts a[href="/hosts/%d"]') &&
		document.querySelector("#unhealthy-hosts").textContent.includes("engine unreachable")`, hostID)) {
		t.Error("the unhealthy host is not listed with its error")
	}
	if !runsEval[bool](t, e, fmt.Sprintf(`!!document.querySelector('#overview-findings a[href="/runs/%d"]') &&
		document.querySelector("#overview-findings").textContent.includes("web-1 was OOM-killed 3 times")`, old.ID)) {
		t.Error("the finding is not listed with a link to its run")
	}

	// A new run: the counts and the recent runs follow without a reload.
	runsEval[int](t, e, `window.__marker = 1`)
	d, err := e.st.Launch(t.Context(), store.LaunchRequest{Tasks: []string{"noop"}})
	if err != nil {
		t.Fatal(err)
	}
	e.b.Do(t, 20*time.Second, chromedp.WaitVisible(runsBadge(d.ID, domain.StatusPending)))
	if got := runsText(t, e, "#count-pending"); got != "3" || !runsEval[bool](t, e, `window.__marker === 1`) {
		t.Errorf("after a launch the page shows %q pending (reloaded: %v)", got, !runsEval[bool](t, e, `window.__marker === 1`))
	}
	e.noErrors("/ live")

	e.b.Do(t, 20*time.Second, chromedp.Navigate(e.url+"/runs"), chromedp.WaitVisible(chromedp.CSS("#runs-table table")),
		chromedp.WaitVisible(chromedp.CSS(`body[data-live="ready"]`)))
	if n := runsEval[int](t, e, `document.querySelectorAll("#runs-table tbody tr").length`); n != 9 {
		t.Errorf("/runs: %d rows, want 9", n)
	}
	e.b.Do(t, 20*time.Second, chromedp.Navigate(e.url+"/launch"), chromedp.WaitVisible(chromedp.CSS("#task-noop")))
	if n := runsEval[int](t, e, `document.querySelectorAll("#task-gpu_report").length`); n != 0 {
		t.Error("/launch offers the disabled gpu_report task")
	}
	e.noErrors("/runs and /launch")
}
