package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/cyberbrain/cyberbrain/pkg/domain"
	"github.com/cyberbrain/cyberbrain/pkg/testenv"
)

// A run launched from /launch lands on its page, which follows it to
// completed without a reload once a scheduler executes it.
func TestRunsLaunchFromFormCompletesLive(t *testing.T) {
	e := newEnv(t)
	runsEnableNoop(t, e)
	e.b.Do(t, 20*time.Second,
		chromedp.Navigate(e.url+"/launch"),
		chromedp.WaitVisible(chromedp.CSS("#task-noop")),
		chromedp.Click(chromedp.CSS("#task-noop")),
		chromedp.Click(chromedp.CSS(".launch-form button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("#run-live")))
	e.noErrors("/launch")
	id := runsRunID(t, e)
	// No scheduler yet: the page shows the run waiting.
	e.b.Do(t, 20*time.Second, chromedp.WaitVisible(runsBadge(id, domain.StatusPending)),
		chromedp.WaitVisible(chromedp.CSS(`body[data-live="ready"]`)))
	if got := runsText(t, e, "#run-live .job h3"); got != "noop" {
		t.Fatalf("the run's job is %q, want noop", got)
	}
	runsEval[int](t, e, `window.__marker = 1`)

	e.startScheduler(nil)
	e.b.Do(t, 30*time.Second,
		chromedp.WaitVisible(runsBadge(id, domain.StatusCompleted)),
		// The jobs section is swapped in too: the job and its attempt ended.
		chromedp.WaitVisible(chromedp.CSS(`#run-live .job .badge.s-completed`)),
		chromedp.WaitVisible(chromedp.CSS(`#run-live .attempts tr.o-completed`)))
	if !runsEval[bool](t, e, `window.__marker === 1`) {
		t.Fatal("the page was reloaded; it should have updated in place")
	}
	if n := runsEval[int](t, e, `document.querySelectorAll("#cancel-run").length`); n != 0 {
		t.Fatal("a completed run still offers Cancel")
	}
	if c := runsText(t, e, `#run-live .attempts tr.o-completed td code`); c != "web-test" {
		t.Fatalf("attempt claimant %q, want web-test", c)
	}
	e.noErrors("/runs/{id}")
}

// A launch the store refuses shows the form again with the reason (4xx),
// keeping what was chosen; nothing is created.
func TestRunsLaunchRefusedShowsForm(t *testing.T) {
	e := newEnv(t)
	rc := newFormClient(t, e)
	cases := []struct {
		form url.Values
		want string
	}{
		{url.Values{}, "Choose at least one task."},
		{url.Values{"task": {"noop"}}, "disabled task(s): noop"},
		{url.Values{"task": {"no_such_task"}}, "unknown task(s): no_such_task"},
		{url.Values{"task": {"service_map"}, "host": {"abc"}}, "Choose a worker host from the list."},
		{url.Values{"task": {"service_map"}, "host": {"987654"}}, "worker host 987654 not found"},
		{url.Values{"task": {"service_map"}, "directive": {"987654"}}, "Directive not found"},
	}
	for _, c := range cases {
		res, body := rc.post("/launch", c.form)
		if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, `id="launch-error"`) || !strings.Contains(body, c.want) {
			t.Errorf("POST /launch %v: %d, want 400 with %q; body:\n%s", c.form, res.StatusCode, c.want, body)
		}
	}
	res, body := rc.post("/launch", url.Values{"task": {"service_map"}, "host": {"987654"}})
	if !strings.Contains(body, `value="service_map" id="task-service_map" checked`) {
		t.Errorf("the refused form lost the chosen task (%d)", res.StatusCode)
	}
	var n int64
	if err := testenv.SQL(t, e.st).Raw(`SELECT count(*) FROM runs`).Scan(&n).Error; err != nil || n != 0 {
		t.Fatalf("refused launches created %d runs (%v)", n, err)
	}

	// A good launch answers 303 to the new run's page.
	res, _ = rc.post("/launch", url.Values{"task": {"service_map"}})
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/runs/") {
		t.Fatalf("launch: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
}
