package store_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/cyberbrain/cyberbrain/pkg/domain"
	"github.com/cyberbrain/cyberbrain/pkg/store"
	"github.com/cyberbrain/cyberbrain/pkg/testenv"
)

// A heartbeat extends only the lease of the claimant's current attempt, and
// never revives a lease that already expired (docs/DESIGN.md §6).
func TestHeartbeatExtendsOnlyTheClaimantsLiveLease(t *testing.T) {
	t.Parallel()
	st := noopStore(t)
	ctx := context.Background()
	j := runningNoop(t, st, "a")
	if j.Attempt != 1 || j.ClaimedBy != "a" {
		t.Fatalf("started job: attempt %d claimed by %q", j.Attempt, j.ClaimedBy)
	}
	mustExec(t, st, `UPDATE jobs SET claimed_until = now() + interval '5 seconds' WHERE id = ?`, j.ID)
	short := *getJob(t, st, j.ID).ClaimedUntil

	for name, hb := range map[string]struct {
		claimant string
		attempt  int
	}{"wrong claimant": {"b", 1}, "stale attempt": {"a", 0}, "future attempt": {"a", 2}} {
		res, err := st.Heartbeat(ctx, hb.claimant, time.Hour, map[int64]int{j.ID: hb.attempt})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Lost) != 1 || res.Lost[0] != j.ID || len(res.Cancel) != 0 {
			t.Errorf("%s: heartbeat = %+v, want the job lost", name, res)
		}
		if got := *getJob(t, st, j.ID).ClaimedUntil; !got.Equal(short) {
			t.Errorf("%s: lease moved from %v to %v", name, short, got)
		}
	}

	res, err := st.Heartbeat(ctx, "a", time.Hour, map[int64]int{j.ID: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Lost) != 0 || len(res.Cancel) != 0 {
		t.Fatalf("owner's heartbeat = %+v, want the job alive", res)
	}
	if got := *getJob(t, st, j.ID).ClaimedUntil; got.Sub(dbNow(t, st)) < 50*time.Minute {
		t.Fatalf("owner's heartbeat left the lease at %v, want about an hour from now", got)
	}

	expireLease(t, st, j.ID)
	res, err = st.Heartbeat(ctx, "a", time.Hour, map[int64]int{j.ID: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Lost) != 1 || res.Lost[0] != j.ID {
		t.Fatalf("heartbeat after expiry = %+v, want the job lost", res)
	}
	got := getJob(t, st, j.ID)
	if !got.ClaimedUntil.Before(dbNow(t, st)) || got.Status != domain.StatusRunning || got.ClaimedBy != "a" {
		t.Fatalf("expired lease revived or job changed: %+v", got)
	}
}

// A heartbeat reports the jobs whose run was cancelled, and keeps their
// lease so the replica can write the cancellation.
func TestHeartbeatReportsCancelRequests(t *testing.T) {
	t.Parallel()
	st := noopStore(t)
	ctx := context.Background()
	j := runningNoop(t, st, "a")
	other := runningNoop(t, st, "a")
	if _, err := st.CancelRun(ctx, j.RunID); err != nil {
		t.Fatal(err)
	}
	res, err := st.Heartbeat(ctx, "a", leaseTTL, map[int64]int{j.ID: 1, other.ID: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Cancel) != 1 || res.Cancel[0] != j.ID || len(res.Lost) != 0 {
		t.Fatalf("heartbeat = %+v, want job %d to cancel and none lost", res, j.ID)
	}
	fr := finish(t, st, "a", store.Finish{JobID: j.ID, Attempt: 1, Outcome: store.FinishCancelled, Error: "cancelled by user"})
	if len(fr.Accepted) != 1 {
		t.Fatalf("cancellation of a cancel-requested job rejected: %+v", fr)
	}
	if sr := getScheduledRun(t, st, j.ID); sr.Status != domain.SRCancelled {
		t.Errorf("ScheduledRun %s, want cancelled", sr.Status)
	}
}

// A finish from the wrong claimant, for another attempt, or after the lease
// expired (even with nobody having rescued the job yet) writes nothing: not
// the job, not its attempt, ScheduledRun or run, and not its Save outputs.
func TestFinishIsFencedOnClaimantAttemptAndLease(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		claimant string
		attempt  int
		expire   bool
	}{
		{"wrong claimant", "b", 1, false},
		{"stale attempt", "a", 0, false},
		{"next attempt", "a", 2, false},
		{"expired lease, not rescued", "a", 1, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			st := noopStore(t)
			ctx := context.Background()
			j := runningNoop(t, st, "a")
			if tc.expire {
				expireLease(t, st, j.ID)
			}
			saved := false
			for _, outcome := range []store.FinishOutcome{store.FinishCompleted, store.FinishFailed, store.FinishRetry, store.FinishCancelled} {
				res, err := st.FinishJobs(ctx, tc.claimant, []store.Finish{{
					JobID: j.ID, Attempt: tc.attempt, Outcome: outcome, Error: "late", Result: store.JSON(`{"summary": "late"}`),
					Save: func(ctx context.Context, tx *store.Tx, fj store.FinishedJob) error {
						saved = true
						return tx.SaveArtifacts(ctx, fj.RunID, fj.ID, []store.NewArtifact{{Name: "report.md", Content: []byte("late")}})
					},
				}})
				if err != nil {
					t.Fatal(err)
				}
				if len(res.Accepted) != 0 || len(res.Rejected) != 1 || res.Rejected[0] != j.ID || len(res.Runs) != 0 {
					t.Fatalf("%s finish = %+v, want rejected", outcome, res)
				}
			}
			if saved {
				t.Error("Save ran for a rejected finish")
			}
			got := getJob(t, st, j.ID)
			if got.Status != domain.StatusRunning || got.ClaimedBy != "a" || got.Attempt != 1 || got.Result != nil ||
				got.CompletedAt != nil || got.ErrorMessage != "" {
				t.Errorf("rejected finish changed the job: %+v", got)
			}
			if att := getAttempts(t, st, j.ID); len(att) != 1 || att[0].Outcome != domain.OutcomeRunning || att[0].EndedAt != nil {
				t.Errorf("rejected finish changed the attempt: %+v", att)
			}
			if sr := getScheduledRun(t, st, j.ID); sr.Status != domain.SRStarted || sr.FinishedAt != nil {
				t.Errorf("rejected finish changed the ScheduledRun: %+v", sr)
			}
			if r := getRun(t, st, j.RunID); r.Status != domain.StatusRunning || r.CompletedAt != nil || r.ReportJSON != nil {
				t.Errorf("rejected finish changed the run: %s, completed %v", r.Status, r.CompletedAt)
			}
			if n := countRows(t, st, "artifacts"); n != 0 {
				t.Errorf("%d artifacts written by a rejected finish", n)
			}
			if tc.expire {
				return
			}
			// The owner's finish is still accepted.
			res := finish(t, st, "a", completed(j))
			if len(res.Accepted) != 1 || res.Accepted[0].Status != domain.StatusCompleted {
				t.Fatalf("owner's finish after rejected ones = %+v", res)
			}
		})
	}
}

// The owner's finish is accepted once; a repeat (a retried request, a second
// completer) is rejected and changes nothing.
func TestFinishIsAcceptedExactlyOnce(t *testing.T) {
	t.Parallel()
	st := noopStore(t)
	j := runningNoop(t, st, "a")
	saves := 0
	save := func(ctx context.Context, tx *store.Tx, fj store.FinishedJob) error {
		saves++
		return tx.SaveArtifacts(ctx, fj.RunID, fj.ID, []store.NewArtifact{{Name: "report.md", Content: []byte("first")}})
	}
	first := finish(t, st, "a", store.Finish{JobID: j.ID, Attempt: 1, Outcome: store.FinishCompleted,
		Result: store.JSON(`{"summary": "first"}`), Save: save})
	if len(first.Accepted) != 1 || len(first.Rejected) != 0 || first.Accepted[0].RunID != j.RunID ||
		first.Accepted[0].Attempt != 1 || first.Accepted[0].TaskType != "noop" {
		t.Fatalf("first finish = %+v", first)
	}
	before := getRun(t, st, j.RunID)
	for _, outcome := range []store.FinishOutcome{store.FinishCompleted, store.FinishFailed, store.FinishRetry} {
		again := finish(t, st, "a", store.Finish{JobID: j.ID, Attempt: 1, Outcome: outcome, Error: "second",
			Result: store.JSON(`{"summary": "second"}`), Save: save})
		if len(again.Accepted) != 0 || len(again.Rejected) != 1 || len(again.Runs) != 0 {
			t.Fatalf("repeated %s finish = %+v, want rejected", outcome, again)
		}
	}
	if saves != 1 {
		t.Errorf("Save ran %d times, want once", saves)
	}
	got := getJob(t, st, j.ID)
	if got.Status != domain.StatusCompleted || !strings.Contains(string(got.Result), "first") || got.ErrorMessage != "" {
		t.Errorf("job after repeats: %s %s %q", got.Status, got.Result, got.ErrorMessage)
	}
	after := getRun(t, st, j.RunID)
	if after.Status != domain.StatusCompleted || !after.CompletedAt.Equal(*before.CompletedAt) || after.ReportMarkdown != before.ReportMarkdown {
		t.Errorf("repeated finishes changed the run: %+v", after)
	}
	if n := countRows(t, st, "artifacts"); n != 1 {
		t.Errorf("%d artifacts, want 1", n)
	}
	if att := getAttempts(t, st, j.ID); len(att) != 1 || att[0].Outcome != domain.OutcomeCompleted {
		t.Errorf("attempts %+v, want one completed", att)
	}
}

// A hand-back at shutdown is fenced like a finish; an accepted one makes the
// job ready at once without using up an attempt.
func TestReleaseJobsIsFencedAndKeepsTheAttemptBudget(t *testing.T) {
	t.Parallel()
	st := noopStore(t)
	ctx := context.Background()
	j := runningNoop(t, st, "a")
	lost := runningNoop(t, st, "a")
	expireLease(t, st, lost.ID)

	for name, call := range map[string]struct {
		claimant string
		jobs     map[int64]int
	}{
		"wrong claimant": {"b", map[int64]int{j.ID: 1}},
		"stale attempt":  {"a", map[int64]int{j.ID: 2}},
		"expired lease":  {"a", map[int64]int{lost.ID: 1}},
	} {
		n, err := st.ReleaseJobs(ctx, call.claimant, call.jobs, "released: scheduler shutting down")
		if err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Errorf("%s: released %d jobs, want 0", name, n)
		}
	}
	if got := getJob(t, st, j.ID); got.Status != domain.StatusRunning || got.MaxAttempts != 3 {
		t.Fatalf("rejected releases changed the job: %s, max_attempts %d", got.Status, got.MaxAttempts)
	}
	if got := getJob(t, st, lost.ID); got.Status != domain.StatusRunning || got.MaxAttempts != 3 {
		t.Fatalf("release of an expired lease changed the job: %s, max_attempts %d", got.Status, got.MaxAttempts)
	}

	n, err := st.ReleaseJobs(ctx, "a", map[int64]int{j.ID: 1, lost.ID: 1}, "released: scheduler shutting down")
	if err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Fatalf("released %d jobs, want only the live one", n)
	}
	got := getJob(t, st, j.ID)
	now := dbNow(t, st)
	if got.Status != domain.StatusPending || got.ClaimedBy != "" || got.ClaimedUntil != nil || got.AvailableAt == nil ||
		got.AvailableAt.After(now) || got.MaxAttempts != 4 || got.Attempt != 1 || got.CompletedAt != nil {
		t.Fatalf("released job: %+v", got)
	}
	att := getAttempts(t, st, j.ID)
	if len(att) != 1 || att[0].Outcome != domain.OutcomeFailed || att[0].Error != "released: scheduler shutting down" || att[0].EndedAt == nil {
		t.Fatalf("released attempt: %+v", att)
	}
	if sr := getScheduledRun(t, st, j.ID); sr.Status != domain.SRStarted {
		t.Errorf("ScheduledRun of a released job %s, want started", sr.Status)
	}
	if r := getRun(t, st, j.RunID); r.Status != domain.StatusRunning {
		t.Errorf("run of a released job %s, want running", r.Status)
	}
	// Another replica starts it at once, as attempt 2; the old one cannot
	// release or finish it any more.
	again := startJobs(t, st, "b", 10)
	if len(again) != 1 || again[0].ID != j.ID || again[0].Attempt != 2 || again[0].ClaimedBy != "b" {
		t.Fatalf("restart after release = %+v", again)
	}
	if n, _ := st.ReleaseJobs(ctx, "a", map[int64]int{j.ID: 1}, "again"); n != 0 {
		t.Errorf("old claimant released the restarted job")
	}
	if res := finish(t, st, "a", store.Finish{JobID: j.ID, Attempt: 1, Outcome: store.FinishCompleted}); len(res.Accepted) != 0 {
		t.Errorf("old claimant finished the restarted job")
	}
}

// An expired lease with attempts left becomes a retry: the attempt is
// recorded lost (naming the claimant), the job waits for its backoff. The old
// claimant can neither heartbeat nor finish it, before or after the restart.
func TestRescueExpiredRetriesWithBackoffAndFencesTheOldClaimant(t *testing.T) {
	t.Parallel()
	st := noopStore(t)
	ctx := context.Background()
	j := runningNoop(t, st, "replica-a")
	live := runningNoop(t, st, "replica-a")
	expireLease(t, st, j.ID)

	var backoffFor []int
	rescued, err := st.RescueExpired(ctx, 10, func(attempt int) time.Duration {
		backoffFor = append(backoffFor, attempt)
		return 10 * time.Minute
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(rescued) != 1 {
		t.Fatalf("rescued %+v, want only the expired job", rescued)
	}
	r := rescued[0]
	if r.ID != j.ID || r.RunID != j.RunID || r.Attempt != 1 || r.MaxAttempts != 3 || r.LostBy != "replica-a" || r.Status != "pending" {
		t.Fatalf("rescued = %+v", r)
	}
	if len(backoffFor) != 1 || backoffFor[0] != 1 {
		t.Errorf("backoff asked for attempts %v, want [1]", backoffFor)
	}
	got := getJob(t, st, j.ID)
	now := dbNow(t, st)
	if got.Status != domain.StatusPending || got.ClaimedBy != "" || got.ClaimedUntil != nil || got.CompletedAt != nil {
		t.Fatalf("rescued job: %+v", got)
	}
	if d := got.AvailableAt.Sub(now); d < 9*time.Minute || d > 11*time.Minute {
		t.Errorf("rescued job available in %v, want the 10 min backoff", d)
	}
	if !strings.Contains(got.ErrorMessage, "replica-a") {
		t.Errorf("job error %q does not name the lost claimant", got.ErrorMessage)
	}
	att := getAttempts(t, st, j.ID)
	if len(att) != 1 || att[0].Outcome != domain.OutcomeLost || att[0].EndedAt == nil ||
		!strings.Contains(att[0].Error, "claimant replica-a") || !strings.Contains(att[0].Error, "attempt 1 of 3") {
		t.Fatalf("lost attempt: %+v", att)
	}
	if sr := getScheduledRun(t, st, j.ID); sr.Status != domain.SRStarted {
		t.Errorf("ScheduledRun of a retried job %s, want started", sr.Status)
	}
	if run := getRun(t, st, j.RunID); run.Status != domain.StatusRunning {
		t.Errorf("run of a retried job %s, want running", run.Status)
	}
	if g := getJob(t, st, live.ID); g.Status != domain.StatusRunning || g.ClaimedBy != "replica-a" {
		t.Errorf("a live lease was rescued: %+v", g)
	}

	// The old claimant is fenced out.
	hb, err := st.Heartbeat(ctx, "replica-a", leaseTTL, map[int64]int{j.ID: 1, live.ID: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(hb.Lost) != 1 || hb.Lost[0] != j.ID {
		t.Errorf("old claimant's heartbeat = %+v, want only the rescued job lost", hb)
	}
	if res := finish(t, st, "replica-a", completed(store.StartedJob{Job: store.Job{ID: j.ID, Attempt: 1}})); len(res.Accepted) != 0 {
		t.Fatalf("old claimant finished a rescued job: %+v", res)
	}
	// Not startable before its backoff.
	if s := startJobs(t, st, "replica-b", 10); len(s) != 0 {
		t.Fatalf("rescued job started before its backoff: %v", ids(s))
	}
	mustExec(t, st, `UPDATE jobs SET available_at = now() WHERE id = ?`, j.ID)
	again := startJobs(t, st, "replica-b", 10)
	if len(again) != 1 || again[0].ID != j.ID || again[0].Attempt != 2 {
		t.Fatalf("restart = %+v", again)
	}
	if res := finish(t, st, "replica-a", store.Finish{JobID: j.ID, Attempt: 1, Outcome: store.FinishCompleted}); len(res.Accepted) != 0 {
		t.Fatal("old claimant finished the restarted job with its old attempt")
	}
	if res := finish(t, st, "replica-a", store.Finish{JobID: j.ID, Attempt: 2, Outcome: store.FinishCompleted}); len(res.Accepted) != 0 {
		t.Fatal("old claimant finished the new claimant's attempt")
	}
	if res := finish(t, st, "replica-b", completed(again[0])); len(res.Accepted) != 1 {
		t.Fatalf("new claimant's finish rejected: %+v", res)
	}
	att = getAttempts(t, st, j.ID)
	if len(att) != 2 || att[0].Outcome != domain.OutcomeLost || att[1].Outcome != domain.OutcomeCompleted || att[1].Claimant != "replica-b" {
		t.Fatalf("attempts: %+v", att)
	}
}

// An expired lease on the last attempt fails the job, its ScheduledRun and
// its run; the old claimant cannot overwrite that.
func TestRescueExpiredFailsAJobWithoutAttemptsLeft(t *testing.T) {
	t.Parallel()
	st := noopStore(t)
	ctx := context.Background()
	mustExec(t, st, `UPDATE task_definitions SET max_attempts = 1 WHERE key = 'noop'`)
	j := runningNoop(t, st, "a")
	expireLease(t, st, j.ID)
	rescued, err := st.RescueExpired(ctx, 10, func(int) time.Duration { return time.Second })
	if err != nil {
		t.Fatal(err)
	}
	if len(rescued) != 1 || rescued[0].Status != "failed" || rescued[0].MaxAttempts != 1 {
		t.Fatalf("rescued = %+v, want the job failed", rescued)
	}
	got := getJob(t, st, j.ID)
	if got.Status != domain.StatusFailed || got.CompletedAt == nil || got.ClaimedBy != "" ||
		!strings.Contains(got.ErrorMessage, "no attempt is left") || !strings.Contains(got.ErrorMessage, "claimant a ") {
		t.Fatalf("job out of attempts: %+v", got)
	}
	sr := getScheduledRun(t, st, j.ID)
	if sr.Status != domain.SRFailed || sr.FinishedAt == nil || sr.ErrorSummary != got.ErrorMessage {
		t.Errorf("ScheduledRun: %+v", sr)
	}
	run := getRun(t, st, j.RunID)
	if run.Status != domain.StatusFailed || run.CompletedAt == nil || !strings.HasPrefix(run.ErrorMessage, "noop: job lost") || run.ReportJSON == nil {
		t.Fatalf("run: %s %q completed %v report %s", run.Status, run.ErrorMessage, run.CompletedAt, run.ReportJSON)
	}
	if att := getAttempts(t, st, j.ID); len(att) != 1 || att[0].Outcome != domain.OutcomeLost {
		t.Errorf("attempts: %+v", att)
	}
	if res := finish(t, st, "a", completed(j)); len(res.Accepted) != 0 {
		t.Fatal("old claimant completed a job the rescue failed")
	}
	if again, err := st.RescueExpired(ctx, 10, func(int) time.Duration { return 0 }); err != nil || len(again) != 0 {
		t.Fatalf("second rescue = %+v, %v; want nothing", again, err)
	}
	if s := startJobs(t, st, "b", 10); len(s) != 0 {
		t.Fatalf("failed job restarted: %v", ids(s))
	}
	if g := getRun(t, st, j.RunID); g.Status != domain.StatusFailed || g.ReportMarkdown != run.ReportMarkdown {
		t.Errorf("run changed after the old claimant's attempt: %s", g.Status)
	}
}

// Two replicas rescuing at once share the work: each expired job is
// rescued once, its attempt recorded lost once.
func TestConcurrentRescuesRescueEachJobOnce(t *testing.T) {
	t.Parallel()
	st := noopStore(t)
	st2 := secondHandle(t, st)
	ctx := context.Background()
	const n = 20
	for i := 0; i < n; i++ {
		launchRun(t, st, "noop")
	}
	claimAndHandOff(t, st, "a", n)
	started := startJobs(t, st, "a", n)
	if len(started) != n {
		t.Fatalf("started %d of %d", len(started), n)
	}
	mustExec(t, st, `UPDATE jobs SET claimed_until = now() - interval '1 second'`)
	results := make(chan []store.Rescued, 2)
	errs := make(chan error, 2)
	for _, s := range []*store.Store{st, st2} {
		go func(s *store.Store) {
			var all []store.Rescued
			for {
				r, err := s.RescueExpired(ctx, 3, func(int) time.Duration { return time.Hour })
				if err != nil {
					errs <- err
					return
				}
				if len(r) == 0 {
					break
				}
				all = append(all, r...)
			}
			errs <- nil
			results <- all
		}(s)
	}
	seen := map[int64]int{}
	for i := 0; i < 2; i++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 2; i++ {
		for _, r := range <-results {
			seen[r.ID]++
		}
	}
	if len(seen) != n {
		t.Errorf("rescued %d distinct jobs, want %d", len(seen), n)
	}
	for id, c := range seen {
		if c != 1 {
			t.Errorf("job %d rescued %d times", id, c)
		}
	}
	var lost int64
	testenv.SQL(t, st).Raw(`SELECT count(*) FROM job_attempts WHERE outcome = 'lost'`).Scan(&lost)
	if lost != n {
		t.Errorf("%d lost attempts, want %d", lost, n)
	}
}

// The same replica that started a job again cannot write an older attempt:
// fencing is on the attempt, not only the claimant.
func TestSameClaimantCannotWriteAnOlderAttempt(t *testing.T) {
	t.Parallel()
	st := noopStore(t)
	ctx := context.Background()
	j := runningNoop(t, st, "a")
	expireLease(t, st, j.ID)
	if _, err := st.RescueExpired(ctx, 10, func(int) time.Duration { return 0 }); err != nil {
		t.Fatal(err)
	}
	again := startJobs(t, st, "a", 10)
	if len(again) != 1 || again[0].Attempt != 2 {
		t.Fatalf("restart = %+v", again)
	}
	hb, err := st.Heartbeat(ctx, "a", leaseTTL, map[int64]int{j.ID: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(hb.Lost) != 1 {
		t.Errorf("heartbeat of attempt 1 = %+v, want lost", hb)
	}
	if res := finish(t, st, "a", store.Finish{JobID: j.ID, Attempt: 1, Outcome: store.FinishFailed, Error: "old"}); len(res.Accepted) != 0 {
		t.Fatal("attempt 1 written over attempt 2")
	}
	att := getAttempts(t, st, j.ID)
	if len(att) != 2 || att[1].Outcome != domain.OutcomeRunning || att[1].EndedAt != nil {
		t.Fatalf("attempt 2 changed: %+v", att)
	}
	if res := finish(t, st, "a", completed(again[0])); len(res.Accepted) != 1 {
		t.Fatalf("attempt 2's finish rejected: %+v", res)
	}
}
