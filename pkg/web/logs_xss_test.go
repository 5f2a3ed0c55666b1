package web_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/docker/docker/api/types/container"

	"github.com/cyberbrain/cyberbrain/pkg/dockerhost"
	"github.com/cyberbrain/cyberbrain/pkg/tasks"
	"github.com/cyberbrain/cyberbrain/pkg/testenv"
)

// Log lines holding markup reach the dashboard through a real log_triage
// run — the run's report and the overview's findings — as text: they never
// run script and never become elements. (log_triage masks the variable
// parts of a line as <*>; the tag itself stays in the template.)
func TestLogLinesWithMarkupStayText(t *testing.T) {
	e := newEnv(t)
	cli := testenv.Docker(t)
	testenv.CTask(t, cli)
	const line = `ERROR: config <img src=x onerror="window.__xss=1"> not found`
	name := uniqueName("cb-markup")
	ctx := context.Background()
	c, err := cli.ContainerCreate(ctx, &container.Config{Image: testenv.CTaskImage,
		Cmd: []string{"say:" + line, "say:" + line, "exit:1"}}, nil, nil, nil, name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cli.ContainerRemove(context.Background(), c.ID, container.RemoveOptions{Force: true}) })
	if err := cli.ContainerStart(ctx, c.ID, container.StartOptions{}); err != nil {
		t.Fatal(err)
	}
	waited, failed := cli.ContainerWait(ctx, c.ID, container.WaitConditionNotRunning)
	select {
	case <-waited:
	case err := <-failed:
		t.Fatal(err)
	}
	const local = int64(1)
	allow(t, e.st, local, name)
	pool := dockerhost.NewPool()
	t.Cleanup(pool.Close)
	e.startScheduler(tasks.Registry{"log_triage": tasks.LogTriage(pool, tasks.LLMConfig{})})
	run := launchOn(t, e.st, "log_triage", local)

	b := e.b
	b.Do(t, 60*time.Second, chromedp.Navigate(e.url+"/runs/"+itoa(run)),
		chromedp.WaitVisible(chromedp.CSS(`[data-run-status="`+itoa(run)+`"].s-completed`)),
		chromedp.WaitVisible(chromedp.CSS("#run-report")))
	report := testenv.Get(t, b, 10*time.Second, chromedp.Evaluate[string](`document.getElementById("run-report").textContent`))
	if !strings.Contains(report, "config <img src=") {
		t.Errorf("the report does not quote the log line as text:\n%s", report)
	}
	noXSS(t, e, "run page")
	imgs := testenv.Get(t, b, 10*time.Second, chromedp.Evaluate[int](`document.querySelectorAll("main img").length`))
	if imgs != 0 {
		t.Errorf("the run page holds %d img elements from the log line", imgs)
	}
	e.noErrors("run page")

	b.Do(t, 20*time.Second, chromedp.Navigate(e.url+"/"), chromedp.WaitVisible(chromedp.CSS("main h1")))
	overview := testenv.Get(t, b, 10*time.Second, chromedp.Evaluate[string](`document.querySelector("main").textContent`))
	if !strings.Contains(overview, "config <img src=") {
		t.Errorf("the overview's findings do not show the log line as text:\n%s", overview)
	}
	noXSS(t, e, "overview")
	e.noErrors("overview")
}
