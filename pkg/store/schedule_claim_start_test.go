package store_test

import (
	"context"
	"sync"
	"testing"

	"github.com/cyberbrain/cyberbrain/pkg/store"
)

// claimConcurrently has replicas "a" (on st) and "b" (on st2) claim at
// once, max schedules and free jobs a time, until nothing is left; it
// returns each one's claims.
func claimConcurrently(t *testing.T, st, st2 *store.Store, max, free int) [2][]*store.Claim {
	t.Helper()
	var got [2][]*store.Claim
	var wg sync.WaitGroup
	for i, s := range []*store.Store{st, st2} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				c, err := s.ClaimDue(context.Background(), []string{"a", "b"}[i], leaseTTL, max, free, store.Limits{})
				if err != nil {
					t.Error(err)
					return
				}
				if len(c.Names) == 0 {
					return
				}
				got[i] = append(got[i], c)
			}
		}()
	}
	wg.Wait()
	return got
}

func claimStart(t *testing.T, st *store.Store, claimant string, max, free int) *store.Claim {
	t.Helper()
	ctx := context.Background()
	l, err := st.LoadLimits(ctx)
	if err != nil {
		t.Fatal(err)
	}
	d, err := st.ClaimDue(ctx, claimant, leaseTTL, max, free, l)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// Two replicas taking launches at once never start the same job, and
// between them start every one, once, with its attempt recorded.
func TestConcurrentClaimDueNeverSharesAJob(t *testing.T) {
	t.Parallel()
	st := noopStore(t)
	st2 := secondHandle(t, st)
	const n = 40
	for i := 0; i < n; i++ {
		launchRun(t, st, "noop")
	}
	got := [2][]store.StartedJob{}
	for i, claims := range claimConcurrently(t, st, st2, 3, 100) {
		for _, c := range claims {
			got[i] = append(got[i], c.Started...)
		}
	}
	owner := map[int64]string{}
	for i, js := range got {
		me := []string{"a", "b"}[i]
		for _, j := range js {
			if prev, ok := owner[j.ID]; ok {
				t.Errorf("job %d started by %s and %s", j.ID, prev, me)
			}
			owner[j.ID] = me
			if j.ClaimedBy != me || j.Attempt != 1 || j.Status != "running" || !j.RunStarted {
				t.Errorf("started job %+v", j)
			}
		}
	}
	if len(owner) != n {
		t.Fatalf("%d jobs started, want %d", len(owner), n)
	}
	for sql, want := range map[string]int{
		`SELECT count(*) FROM job_attempts WHERE attempt = 1 AND ended_at IS NULL`:                             n,
		`SELECT count(*) FROM runs WHERE status = 'running' AND started_at IS NOT NULL`:                        n,
		`SELECT count(*) FROM scheduled_runs WHERE status = 'started' AND started_at IS NOT NULL`:              n,
		`SELECT count(*) FROM schedules WHERE enabled OR due_at IS NOT NULL OR claimed_by <> ''`:               0,
		`SELECT count(*) FROM jobs WHERE claimed_until IS NULL OR claimed_until < now() + interval '1 minute'`: 0,
	} {
		if got := countInt(t, st, sql); got != want {
			t.Errorf("%s = %d, want %d", sql, got, want)
		}
	}
}

// ClaimDue takes at most max schedules, oldest first; it starts at most free
// jobs and hands the others off for whoever has room; the launch schedules
// end, released; another launch is left alone.
func TestClaimDueHandsOffWhatItCannotStart(t *testing.T) {
	t.Parallel()
	st := noopStore(t)
	mine := launchRun(t, st, "noop", "service_map")
	theirs := launchRun(t, st, "noop")
	d := claimStart(t, st, "a", 2, 1)
	if len(d.Names) != 2 || d.Names[0] != "launch-run-"+fmtInt(mine.ID)+"-noop" ||
		d.Names[1] != "launch-run-"+fmtInt(mine.ID)+"-service_map" || len(d.Slots) != 0 {
		t.Fatalf("took %+v, want the first launch's two schedules", d.Names)
	}
	if len(d.Handoffs) != 2 || d.Handoffs[0].JobID != mine.Jobs[0].ID || d.Handoffs[0].RunID != mine.ID ||
		d.Handoffs[0].TaskType != "noop" || d.Handoffs[1].JobID != mine.Jobs[1].ID {
		t.Fatalf("hand-offs %+v", d.Handoffs)
	}
	if len(d.Started) != 1 || d.Started[0].ID != mine.Jobs[0].ID || !d.Started[0].RunStarted || d.Started[0].ClaimedBy != "a" {
		t.Fatalf("started %+v, want the first job under a's lease", d.Started)
	}
	for _, id := range []int64{d.Handoffs[0].ScheduleID, d.Handoffs[1].ScheduleID} {
		if g := getSchedule(t, st, id); g.Enabled || g.NextRunAt != nil || g.DueAt != nil || g.ClaimedBy != "" || g.ClaimedUntil != nil {
			t.Errorf("launch schedule after ClaimDue: %+v", g)
		}
	}
	if g := getJob(t, st, mine.Jobs[1].ID); g.AvailableAt == nil || g.Status != "pending" || g.ClaimedBy != "" {
		t.Errorf("handed-off job: %+v", g)
	}
	if sr := getScheduledRun(t, st, mine.Jobs[0].ID); sr.Status != "started" || sr.StartedAt == nil {
		t.Errorf("ScheduledRun of the started job: %+v", sr)
	}
	if sr := getScheduledRun(t, st, mine.Jobs[1].ID); sr.Status != "pending" {
		t.Errorf("ScheduledRun of the handed-off job: %+v", sr)
	}
	if g := getJob(t, st, theirs.Jobs[0].ID); g.AvailableAt != nil {
		t.Errorf("the second launch's job handed off beyond max")
	}
	// The handed-off job starts through the ready-jobs path; the run had
	// started already.
	if s := startJobs(t, st, "b", 10); len(s) != 1 || s[0].ID != mine.Jobs[1].ID || s[0].RunStarted {
		t.Fatalf("ready job start = %+v", s)
	}
	if d := claimStart(t, st, "b", 10, 10); len(d.Started) != 1 || d.Started[0].RunID != theirs.ID {
		t.Fatalf("second ClaimDue started %+v", d.Started)
	}
	if d := claimStart(t, st, "c", 10, 10); len(d.Names) != 0 {
		t.Fatalf("ended launch schedules taken again: %+v", d.Names)
	}
}

// A job a concurrency limit concerns is handed off but not started: the
// limit path (advisory locks) decides.
func TestClaimDueLeavesLimitedJobsToTheLimitPath(t *testing.T) {
	t.Parallel()
	st := noopStore(t)
	one := 1
	sc := limitedSchedule(t, st, "limited", &one, nil)
	for i := 0; i < 2; i++ {
		if _, err := st.RunScheduleNow(context.Background(), sc.ID); err != nil {
			t.Fatal(err)
		}
	}
	d := claimStart(t, st, "a", 10, 10)
	if len(d.Handoffs) != 2 || len(d.Started) != 0 {
		t.Fatalf("ClaimDue of a limited schedule: %d handed off, %d started; want 2, 0", len(d.Handoffs), len(d.Started))
	}
	if s := startJobs(t, st, "a", 10); len(s) != 1 {
		t.Fatalf("limit path started %d jobs, want 1 (max_per_job 1)", len(s))
	}
}

// A run-now of a recurring schedule is handed off and started without moving
// the schedule's own slot; the schedule stays enabled and due at its next slot.
func TestClaimDueOfARunNowKeepsARecurringScheduleGoing(t *testing.T) {
	t.Parallel()
	st := noopStore(t)
	sc := limitedSchedule(t, st, "hourly", nil, nil)
	before := getSchedule(t, st, sc.ID)
	runID, err := st.RunScheduleNow(context.Background(), sc.ID)
	if err != nil {
		t.Fatal(err)
	}
	d := claimStart(t, st, "a", 10, 10)
	if len(d.Names) != 1 || len(d.Slots) != 0 || len(d.Started) != 1 || d.Started[0].RunID != runID {
		t.Fatalf("ClaimDue = %+v", d)
	}
	g := getSchedule(t, st, sc.ID)
	if !g.Enabled || g.NextRunAt == nil || !g.NextRunAt.Equal(*before.NextRunAt) || g.DueAt == nil ||
		!g.DueAt.Equal(*before.NextRunAt) || g.ClaimedBy != "" {
		t.Fatalf("schedule after run-now: enabled %v next %v due %v claimed %q (next was %v)",
			g.Enabled, g.NextRunAt, g.DueAt, g.ClaimedBy, before.NextRunAt)
	}
	if sr := getScheduledRun(t, st, d.Started[0].ID); sr.Status != "started" || sr.StartedAt == nil {
		t.Errorf("ScheduledRun after start: %+v", sr)
	}
}
