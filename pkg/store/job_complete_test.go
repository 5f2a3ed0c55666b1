package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/cyberbrain/cyberbrain/pkg/domain"
	"github.com/cyberbrain/cyberbrain/pkg/store"
)

// Each accepted outcome moves the job, its attempt, its ScheduledRun and its
// run as the tables of docs/DESIGN.md §3 say.
func TestFinishOutcomes(t *testing.T) {
	t.Parallel()
	cases := []struct {
		outcome    store.FinishOutcome
		job        domain.JobStatus
		attempt    domain.AttemptOutcome
		sr         domain.ScheduledRunStatus
		run        domain.RunStatus
		terminal   bool
		retryAfter time.Duration
	}{
		{store.FinishCompleted, domain.StatusCompleted, domain.OutcomeCompleted, domain.SRFinished, domain.StatusCompleted, true, 0},
		{store.FinishFailed, domain.StatusFailed, domain.OutcomeFailed, domain.SRFailed, domain.StatusFailed, true, 0},
		{store.FinishCancelled, domain.StatusCancelled, domain.OutcomeCancelled, domain.SRCancelled, domain.StatusCancelled, true, 0},
		{store.FinishRetry, domain.StatusPending, domain.OutcomeFailed, domain.SRStarted, domain.StatusRunning, false, 30 * time.Second},
	}
	for _, tc := range cases {
		t.Run(string(tc.outcome), func(t *testing.T) {
			t.Parallel()
			st := noopStore(t)
			j := runningNoop(t, st, "a")
			errText := ""
			if tc.outcome != store.FinishCompleted {
				errText = "boom " + string(tc.outcome)
			}
			res := finish(t, st, "a", store.Finish{JobID: j.ID, Attempt: 1, Outcome: tc.outcome, Error: errText,
				Result: store.JSON(`{"summary": "s"}`), RetryInMS: tc.retryAfter.Milliseconds()})
			if len(res.Accepted) != 1 || res.Accepted[0].Status != tc.job {
				t.Fatalf("finish = %+v, want accepted as %s", res, tc.job)
			}
			// Only a completed noop raises no event: the deliverer is left alone.
			if res.MayNotify != (tc.outcome != store.FinishCompleted) {
				t.Errorf("MayNotify = %v after a %s finish", res.MayNotify, tc.outcome)
			}
			got := getJob(t, st, j.ID)
			now := dbNow(t, st)
			if got.Status != tc.job || got.ClaimedBy != "" || got.ClaimedUntil != nil || got.ErrorMessage != errText ||
				!strings.Contains(string(got.Result), `"s"`) {
				t.Errorf("job: %+v", got)
			}
			if tc.terminal != (got.CompletedAt != nil) {
				t.Errorf("completed_at = %v, terminal %v", got.CompletedAt, tc.terminal)
			}
			if tc.retryAfter > 0 {
				if d := got.AvailableAt.Sub(now); d < tc.retryAfter-5*time.Second || d > tc.retryAfter {
					t.Errorf("retry available in %v, want about %v", d, tc.retryAfter)
				}
				if s := startJobs(t, st, "b", 10); len(s) != 0 {
					t.Errorf("retried job started before its delay")
				}
			}
			att := getAttempts(t, st, j.ID)
			if len(att) != 1 || att[0].Outcome != tc.attempt || att[0].EndedAt == nil || att[0].Error != errText || att[0].Claimant != "a" {
				t.Errorf("attempt: %+v", att)
			}
			sr := getScheduledRun(t, st, j.ID)
			if sr.Status != tc.sr || tc.terminal != (sr.FinishedAt != nil) {
				t.Errorf("ScheduledRun: %+v, want %s", sr, tc.sr)
			}
			if tc.terminal && sr.ErrorSummary != errText {
				t.Errorf("ScheduledRun error_summary %q, want %q", sr.ErrorSummary, errText)
			}
			r := getRun(t, st, j.RunID)
			if r.Status != tc.run || tc.terminal != (r.CompletedAt != nil) || tc.terminal != (r.ReportJSON != nil) {
				t.Errorf("run: %s completed %v report %v, want %s", r.Status, r.CompletedAt, r.ReportJSON != nil, tc.run)
			}
		})
	}
}

// A batch mixes accepted and rejected finishes: each is fenced on its own.
func TestFinishBatchFencesEachJob(t *testing.T) {
	t.Parallel()
	st := noopStore(t)
	mine := runningNoop(t, st, "a")
	theirs := runningNoop(t, st, "b")
	expired := runningNoop(t, st, "a")
	expireLease(t, st, expired.ID)
	res := finish(t, st, "a", completed(mine), completed(theirs), completed(expired))
	if len(res.Accepted) != 1 || res.Accepted[0].ID != mine.ID {
		t.Fatalf("accepted %+v, want only job %d", res.Accepted, mine.ID)
	}
	rejected := map[int64]bool{}
	for _, id := range res.Rejected {
		rejected[id] = true
	}
	if len(res.Rejected) != 2 || !rejected[theirs.ID] || !rejected[expired.ID] {
		t.Fatalf("rejected %v, want %d and %d", res.Rejected, theirs.ID, expired.ID)
	}
	if g := getJob(t, st, theirs.ID); g.Status != domain.StatusRunning {
		t.Errorf("another claimant's job finished: %s", g.Status)
	}
	if g := getRun(t, st, theirs.RunID); g.Status != domain.StatusRunning {
		t.Errorf("another claimant's run: %s", g.Status)
	}
}

// Save runs inside the finish transaction: when it fails, nothing of the
// batch is written and the job keeps its lease, so the replica may retry.
func TestFinishSaveErrorWritesNothing(t *testing.T) {
	t.Parallel()
	st := noopStore(t)
	j := runningNoop(t, st, "a")
	other := runningNoop(t, st, "a")
	boom := errors.New("disk full")
	_, err := st.FinishJobs(context.Background(), "a", []store.Finish{completed(other), {
		JobID: j.ID, Attempt: 1, Outcome: store.FinishCompleted,
		Save: func(ctx context.Context, tx *store.Tx, fj store.FinishedJob) error {
			if err := tx.SaveArtifacts(ctx, fj.RunID, fj.ID, []store.NewArtifact{{Name: "report.md", Content: []byte("x")}}); err != nil {
				return err
			}
			return boom
		}}})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want the Save error", err)
	}
	for _, id := range []int64{j.ID, other.ID} {
		if g := getJob(t, st, id); g.Status != domain.StatusRunning || g.ClaimedBy != "a" {
			t.Errorf("job %d after a failed batch: %s", id, g.Status)
		}
		if att := getAttempts(t, st, id); att[0].Outcome != domain.OutcomeRunning {
			t.Errorf("attempt of job %d after a failed batch: %s", id, att[0].Outcome)
		}
	}
	if n := countRows(t, st, "artifacts"); n != 0 {
		t.Errorf("%d artifacts kept from a failed batch", n)
	}
	if res := finish(t, st, "a", completed(j), completed(other)); len(res.Accepted) != 2 {
		t.Fatalf("retried batch = %+v", res)
	}
}

// A ScheduledRun's error_summary keeps the first 500 characters of the error;
// the job keeps it all.
func TestFinishErrorSummaryIsTruncated(t *testing.T) {
	t.Parallel()
	st := noopStore(t)
	j := runningNoop(t, st, "a")
	long := strings.Repeat("e", 800)
	finish(t, st, "a", store.Finish{JobID: j.ID, Attempt: 1, Outcome: store.FinishFailed, Error: long})
	if sr := getScheduledRun(t, st, j.ID); len(sr.ErrorSummary) != 500 {
		t.Errorf("error_summary has %d characters, want 500", len(sr.ErrorSummary))
	}
	if g := getJob(t, st, j.ID); g.ErrorMessage != long {
		t.Errorf("job error has %d characters, want 800", len(g.ErrorMessage))
	}
}

// A finish wakes the schedulers only when a job is ready to start: none
// while the only jobs are running, finished or waiting for a later retry;
// one once a job is handed off and waits (a limit full, no replica free).
func TestFinishWakesOnlyForReadyJobs(t *testing.T) {
	t.Parallel()
	st := noopStore(t)
	ctx := context.Background()
	ready := func() bool {
		t.Helper()
		ok, err := st.JobsReady(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	runningNoop(t, st, "a")
	if ready() {
		t.Fatal("ready jobs reported while the only job runs")
	}
	later := launchRun(t, st, "noop")
	mustExec(t, st, `UPDATE jobs SET available_at = now() + interval '1 hour' WHERE id = ?`, later.Jobs[0].ID)
	if ready() {
		t.Fatal("a job waiting for a later retry reported ready")
	}
	waiting := launchRun(t, st, "noop")
	claimAndHandOff(t, st, "a", 10)
	if !ready() {
		t.Fatalf("handed-off job %d not reported ready", waiting.Jobs[0].ID)
	}
}
