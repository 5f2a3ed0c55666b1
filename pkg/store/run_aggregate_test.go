package store_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/cyberbrain/cyberbrain/pkg/domain"
	"github.com/cyberbrain/cyberbrain/pkg/store"
)

// startedByID starts every ready job as claimant and indexes them by task.
func startedByTask(t *testing.T, st *store.Store, claimant string, max int) map[string]store.StartedJob {
	t.Helper()
	out := map[string]store.StartedJob{}
	for _, j := range startJobs(t, st, claimant, max) {
		out[j.TaskType] = j
	}
	return out
}

// A run's status follows its jobs through the table of docs/DESIGN.md §3:
// pending until a job starts, running while any job runs or waits after a
// start, failed when a job failed (listing the failures), with started_at at
// the first start and completed_at and the report at the terminal transition.
func TestRunStatusFollowsItsJobs(t *testing.T) {
	t.Parallel()
	st := noopStore(t)
	d := launchRun(t, st, "noop", "service_map", "log_triage")
	if len(d.Jobs) != 3 {
		t.Fatalf("%d jobs", len(d.Jobs))
	}
	if r := getRun(t, st, d.ID); r.Status != domain.StatusPending || r.StartedAt != nil || r.CompletedAt != nil {
		t.Fatalf("launched run: %s started %v", r.Status, r.StartedAt)
	}
	if h := claimAndHandOff(t, st, "a", 10); len(h) != 3 {
		t.Fatalf("handed off %d jobs, want 3", len(h))
	}
	if r := getRun(t, st, d.ID); r.Status != domain.StatusPending {
		t.Fatalf("handed-off run %s, want pending until a job starts", r.Status)
	}

	first := startJobs(t, st, "a", 1)
	if len(first) != 1 || first[0].ID != d.Jobs[0].ID || !first[0].RunStarted {
		t.Fatalf("first start = %+v, want job %d starting the run", first, d.Jobs[0].ID)
	}
	r := getRun(t, st, d.ID)
	if r.Status != domain.StatusRunning || r.StartedAt == nil {
		t.Fatalf("run after the first start: %s started %v", r.Status, r.StartedAt)
	}
	startedAt := *r.StartedAt

	finish(t, st, "a", completed(first[0]))
	if r := getRun(t, st, d.ID); r.Status != domain.StatusRunning || r.CompletedAt != nil || r.ReportJSON != nil {
		t.Fatalf("run with one job done and two pending: %s completed %v", r.Status, r.CompletedAt)
	}

	rest := startedByTask(t, st, "a", 10)
	if len(rest) != 2 || rest["service_map"].RunStarted || rest["log_triage"].RunStarted {
		t.Fatalf("later starts = %+v, want two starts that do not start the run again", rest)
	}
	if r := getRun(t, st, d.ID); !r.StartedAt.Equal(startedAt) {
		t.Errorf("started_at moved from %v to %v", startedAt, r.StartedAt)
	}
	res := finish(t, st, "a", store.Finish{JobID: rest["service_map"].ID, Attempt: 1, Outcome: store.FinishFailed, Error: "engine refused"})
	if len(res.Accepted) != 1 {
		t.Fatalf("finish = %+v", res)
	}
	if r := getRun(t, st, d.ID); r.Status != domain.StatusRunning || r.CompletedAt != nil {
		t.Fatalf("run with a failed and a running job: %s, want running", r.Status)
	}
	finish(t, st, "a", completed(rest["log_triage"]))
	r = getRun(t, st, d.ID)
	if r.Status != domain.StatusFailed || r.CompletedAt == nil || r.ErrorMessage != "service_map: engine refused" {
		t.Fatalf("finished run: %s %q completed %v", r.Status, r.ErrorMessage, r.CompletedAt)
	}
	if r.CompletedAt.Before(startedAt) {
		t.Errorf("completed_at %v before started_at %v", r.CompletedAt, startedAt)
	}
	var rep struct {
		RunID   int64  `json:"run_id"`
		Status  string `json:"status"`
		Summary string `json:"summary"`
		Jobs    []struct {
			ID       int64  `json:"id"`
			Task     string `json:"task_type"`
			Status   string `json:"status"`
			Attempts int    `json:"attempts"`
			Error    string `json:"error"`
		} `json:"jobs"`
	}
	if err := json.Unmarshal(r.ReportJSON, &rep); err != nil {
		t.Fatalf("report_json %s: %v", r.ReportJSON, err)
	}
	if rep.RunID != d.ID || rep.Status != "failed" || rep.Summary != "2 completed, 1 failed" || len(rep.Jobs) != 3 {
		t.Fatalf("report_json = %+v", rep)
	}
	for i, task := range []string{"noop", "service_map", "log_triage"} { // request order
		if rep.Jobs[i].Task != task || rep.Jobs[i].Attempts != 1 {
			t.Errorf("report job %d = %+v, want %s with 1 attempt", i, rep.Jobs[i], task)
		}
	}
	if rep.Jobs[1].Status != "failed" || rep.Jobs[1].Error != "engine refused" {
		t.Errorf("failed job in report: %+v", rep.Jobs[1])
	}
	for _, want := range []string{fmt.Sprintf("# Run %d — failed", d.ID), "| service_map | failed | 1 | error: engine refused |",
		"| noop | completed | 1 | all good |", "2 completed, 1 failed"} {
		if !strings.Contains(r.ReportMarkdown, want) {
			t.Errorf("report_markdown lacks %q:\n%s", want, r.ReportMarkdown)
		}
	}
}

// A job retried keeps the run running and its ScheduledRun started; the
// run completes when the retry succeeds, with the attempts in the report.
func TestRetriedJobKeepsTheRunRunning(t *testing.T) {
	t.Parallel()
	st := noopStore(t)
	j := runningNoop(t, st, "a")
	finish(t, st, "a", store.Finish{JobID: j.ID, Attempt: 1, Outcome: store.FinishRetry, Error: "engine unreachable", RetryInMS: 0})
	if r := getRun(t, st, j.RunID); r.Status != domain.StatusRunning || r.CompletedAt != nil {
		t.Fatalf("run of a retried job: %s", r.Status)
	}
	if sr := getScheduledRun(t, st, j.ID); sr.Status != domain.SRStarted || sr.FinishedAt != nil {
		t.Fatalf("ScheduledRun of a retried job: %+v", sr)
	}
	again := startJobs(t, st, "a", 10)
	if len(again) != 1 || again[0].Attempt != 2 || again[0].RunStarted {
		t.Fatalf("retry start = %+v", again)
	}
	finish(t, st, "a", completed(again[0]))
	r := getRun(t, st, j.RunID)
	if r.Status != domain.StatusCompleted || r.ErrorMessage != "" {
		t.Fatalf("run after a successful retry: %s %q", r.Status, r.ErrorMessage)
	}
	if !strings.Contains(r.ReportMarkdown, "| noop | completed | 2 |") {
		t.Errorf("report does not show 2 attempts:\n%s", r.ReportMarkdown)
	}
	if sr := getScheduledRun(t, st, j.ID); sr.Status != domain.SRFinished || sr.FinishedAt == nil {
		t.Errorf("ScheduledRun after success: %+v", sr)
	}
}

// Jobs that all end cancelled (no failure) make the run cancelled; a
// cancelled and a completed job too.
func TestRunOfCancelledJobsIsCancelled(t *testing.T) {
	t.Parallel()
	st := noopStore(t)
	d := launchRun(t, st, "noop", "service_map")
	claimAndHandOff(t, st, "a", 10)
	jobs := startedByTask(t, st, "a", 10)
	finish(t, st, "a", completed(jobs["noop"]),
		store.Finish{JobID: jobs["service_map"].ID, Attempt: 1, Outcome: store.FinishCancelled, Error: "cancelled by user"})
	r := getRun(t, st, d.ID)
	if r.Status != domain.StatusCancelled || r.CompletedAt == nil || r.ReportJSON == nil {
		t.Fatalf("run: %s completed %v report %v", r.Status, r.CompletedAt, r.ReportJSON != nil)
	}
	if sr := getScheduledRun(t, st, jobs["service_map"].ID); sr.Status != domain.SRCancelled {
		t.Errorf("ScheduledRun of the cancelled job: %s", sr.Status)
	}
}

// A run cancelled through the API stays cancelled whatever its running
// jobs write afterwards; the report is written when the last one ends, and
// completed_at stays the cancel's.
func TestCancelledRunStaysCancelled(t *testing.T) {
	t.Parallel()
	st := noopStore(t)
	ctx := context.Background()
	d := launchRun(t, st, "noop", "service_map")
	claimAndHandOff(t, st, "a", 10)
	jobs := startedByTask(t, st, "a", 1) // noop runs, service_map waits
	if len(jobs) != 1 {
		t.Fatalf("started %d", len(jobs))
	}
	if _, err := st.CancelRun(ctx, d.ID); err != nil {
		t.Fatal(err)
	}
	cancelled := getRun(t, st, d.ID)
	if cancelled.Status != domain.StatusCancelled || cancelled.CompletedAt == nil || cancelled.ReportJSON != nil {
		t.Fatalf("cancelled run: %s completed %v", cancelled.Status, cancelled.CompletedAt)
	}
	if s := startJobs(t, st, "a", 10); len(s) != 0 {
		t.Fatalf("a cancelled run's pending job started: %v", ids(s))
	}
	// The running job's task finished before it saw the cancel request.
	res := finish(t, st, "a", completed(jobs["noop"]))
	if len(res.Accepted) != 1 {
		t.Fatalf("finish of the running job rejected: %+v", res)
	}
	r := getRun(t, st, d.ID)
	if r.Status != domain.StatusCancelled || !r.CompletedAt.Equal(*cancelled.CompletedAt) {
		t.Fatalf("run after its job completed: %s completed %v (was %v)", r.Status, r.CompletedAt, cancelled.CompletedAt)
	}
	if r.ReportJSON == nil || !strings.Contains(r.ReportMarkdown, "— cancelled") {
		t.Errorf("no cancelled report once every job ended:\n%s", r.ReportMarkdown)
	}
}

// A run cancelled before any job ran ends without a report.
func TestPendingRunCancelledHasNoReport(t *testing.T) {
	t.Parallel()
	st := noopStore(t)
	d := launchRun(t, st, "noop")
	if _, err := st.CancelRun(context.Background(), d.ID); err != nil {
		t.Fatal(err)
	}
	claimAndHandOff(t, st, "a", 10)
	if s := startJobs(t, st, "a", 10); len(s) != 0 {
		t.Fatalf("cancelled run's job started: %v", ids(s))
	}
	r := getRun(t, st, d.ID)
	if r.Status != domain.StatusCancelled || r.ReportJSON != nil || r.ReportMarkdown != "" || r.StartedAt != nil {
		t.Fatalf("run: %+v", r)
	}
	if sr := getScheduledRun(t, st, d.Jobs[0].ID); sr.Status != domain.SRCancelled {
		t.Errorf("ScheduledRun %s, want cancelled", sr.Status)
	}
}

// Two jobs of one run started in one batch report the run start once.
func TestRunStartIsReportedOncePerBatch(t *testing.T) {
	t.Parallel()
	st := noopStore(t)
	d := launchRun(t, st, "noop", "service_map", "log_triage")
	other := launchRun(t, st, "noop")
	claimAndHandOff(t, st, "a", 10)
	started := startJobs(t, st, "a", 10)
	if len(started) != 4 {
		t.Fatalf("started %d, want 4", len(started))
	}
	runStarts := map[int64]int{}
	for _, j := range started {
		if j.RunStarted {
			runStarts[j.RunID]++
		}
	}
	if runStarts[d.ID] != 1 || runStarts[other.ID] != 1 {
		t.Fatalf("run starts reported %v, want once each for runs %d and %d", runStarts, d.ID, other.ID)
	}
}

// The report includes each job's report.md section and links its artifacts;
// it is written in the transaction of the last finish, with that finish's
// artifacts.
func TestReportIncludesSectionsAndArtifacts(t *testing.T) {
	t.Parallel()
	st := noopStore(t)
	j := runningNoop(t, st, "a")
	finish(t, st, "a", store.Finish{JobID: j.ID, Attempt: 1, Outcome: store.FinishCompleted, Result: store.JSON(`{"summary": "3 issues"}`),
		Save: func(ctx context.Context, tx *store.Tx, fj store.FinishedJob) error {
			return tx.SaveArtifacts(ctx, fj.RunID, fj.ID, []store.NewArtifact{
				{Name: "report.md", ContentType: "text/markdown", Content: []byte("### Findings\n\nthe proxy restarts\n")},
				{Name: "noop.json", ContentType: "application/json", Content: []byte(`{"a": 1}`)},
			})
		}})
	r := getRun(t, st, j.RunID)
	for _, want := range []string{"## noop (job " + fmtInt(j.ID) + ")", "the proxy restarts", "| 3 issues |",
		"- artifact [noop.json](/api/artifacts/", "(8 bytes)"} {
		if !strings.Contains(r.ReportMarkdown, want) {
			t.Errorf("report lacks %q:\n%s", want, r.ReportMarkdown)
		}
	}
	var rep struct {
		Jobs []struct {
			Summary   string `json:"summary"`
			Artifacts []struct {
				Name        string `json:"name"`
				DownloadURL string `json:"download_url"`
			} `json:"artifacts"`
		} `json:"jobs"`
	}
	if err := json.Unmarshal(r.ReportJSON, &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Jobs) != 1 || rep.Jobs[0].Summary != "3 issues" || len(rep.Jobs[0].Artifacts) != 2 ||
		!strings.HasPrefix(rep.Jobs[0].Artifacts[1].DownloadURL, "/api/artifacts/") {
		t.Errorf("report_json = %s", r.ReportJSON)
	}
}

// FinishResult.Runs tells the replica which runs changed status in the batch
// (the completer logs "Run N finished with status: S" from it).
func TestFinishReportsTheRunsTerminalTransition(t *testing.T) {
	t.Parallel()
	st := noopStore(t)
	j := runningNoop(t, st, "a")
	res := finish(t, st, "a", completed(j))
	if len(res.Runs) != 1 || res.Runs[0].ID != j.RunID || res.Runs[0].Status != domain.StatusCompleted {
		t.Fatalf("run transitions = %+v, want run %d completed", res.Runs, j.RunID)
	}
}
