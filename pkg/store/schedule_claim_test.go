package store_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/cyberbrain/cyberbrain/pkg/store"
	"github.com/cyberbrain/cyberbrain/pkg/testenv"
)

func claim(t *testing.T, st *store.Store, claimant string, max int) []store.ClaimedSchedule {
	t.Helper()
	c, err := st.ClaimSchedules(context.Background(), claimant, leaseTTL, max)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func getSchedule(t *testing.T, st *store.Store, id int64) store.Schedule {
	t.Helper()
	var sc store.Schedule
	if err := testenv.SQL(t, st).Raw(`SELECT * FROM schedules WHERE id = ?`, id).Scan(&sc).Error; err != nil {
		t.Fatal(err)
	}
	return sc
}

// Two replicas claiming at once never get the same due schedule, and
// between them claim every one.
func TestConcurrentClaimsNeverShareASchedule(t *testing.T) {
	t.Parallel()
	st := noopStore(t)
	st2 := secondHandle(t, st)
	const n = 40
	for i := 0; i < n; i++ {
		launchRun(t, st, "noop")
	}
	var wg sync.WaitGroup
	got := make([][]store.ClaimedSchedule, 2)
	for i, s := range []*store.Store{st, st2} {
		wg.Add(1)
		go func(i int, s *store.Store) {
			defer wg.Done()
			for {
				c, err := s.ClaimSchedules(context.Background(), []string{"a", "b"}[i], leaseTTL, 3)
				if err != nil {
					t.Error(err)
					return
				}
				if len(c) == 0 {
					return
				}
				got[i] = append(got[i], c...)
			}
		}(i, s)
	}
	wg.Wait()
	owner := map[int64]string{}
	for i, cs := range got {
		for _, c := range cs {
			me := []string{"a", "b"}[i]
			if prev, ok := owner[c.ID]; ok {
				t.Errorf("schedule %d claimed by %s and %s", c.ID, prev, me)
			}
			owner[c.ID] = me
			if c.ClaimedBy != me || c.PendingRuns != 1 {
				t.Errorf("claim of %d: claimed_by %q pending_runs %d", c.ID, c.ClaimedBy, c.PendingRuns)
			}
		}
	}
	if len(owner) != n {
		t.Fatalf("%d schedules claimed, want %d", len(owner), n)
	}
	if n := countInt(t, st, `SELECT count(*) FROM schedules s WHERE claimed_by = '' OR claimed_until <= now()`); n != 0 {
		t.Errorf("%d schedules left without a lease", n)
	}
}

// A claim takes at most max schedules, oldest due first, skips schedules
// whose lease has not expired, and takes them again once it has.
func TestClaimRespectsMaxAndLeases(t *testing.T) {
	t.Parallel()
	st := noopStore(t)
	var runs []*store.RunDetail
	for i := 0; i < 3; i++ {
		runs = append(runs, launchRun(t, st, "noop"))
	}
	a := claim(t, st, "a", 2)
	if len(a) != 2 || a[0].Name != "launch-run-"+fmtInt(runs[0].ID)+"-noop" || a[1].Name != "launch-run-"+fmtInt(runs[1].ID)+"-noop" {
		t.Fatalf("a claimed %+v, want the two oldest launch schedules", a)
	}
	now := dbNow(t, st)
	for _, c := range a {
		if c.ClaimedBy != "a" || c.ClaimedUntil == nil || c.ClaimedUntil.Sub(now) < leaseTTL-10*time.Second ||
			c.DBNow.IsZero() || c.PendingRuns != 1 || c.SlotDue() {
			t.Errorf("claimed schedule %+v", c)
		}
	}
	b := claim(t, st, "b", 10)
	if len(b) != 1 || b[0].Name != "launch-run-"+fmtInt(runs[2].ID)+"-noop" {
		t.Fatalf("b claimed %+v, want only the third", b)
	}
	if c := claim(t, st, "c", 10); len(c) != 0 {
		t.Fatalf("c claimed %d leased schedules", len(c))
	}
	// a died: its leases expire; c takes them, b's stay b's.
	mustExec(t, st, `UPDATE schedules SET claimed_until = now() - interval '1 second' WHERE claimed_by = 'a'`)
	c := claim(t, st, "c", 10)
	if len(c) != 2 || c[0].ID != a[0].ID || c[1].ID != a[1].ID {
		t.Fatalf("c claimed %+v after a's leases expired, want %d and %d", c, a[0].ID, a[1].ID)
	}
	// a comes back: it can hand off nothing it lost.
	if h, err := st.HandOffPending(context.Background(), "a", []int64{a[0].ID, a[1].ID}, []int64{a[0].ID, a[1].ID}); err != nil || len(h) != 0 {
		t.Fatalf("a handed off %+v (err %v) after losing its leases", h, err)
	}
	for _, sc := range c {
		if g := getSchedule(t, st, sc.ID); g.ClaimedBy != "c" || !g.Enabled {
			t.Errorf("schedule %d after a's stale hand-off: claimed by %q enabled %v", sc.ID, g.ClaimedBy, g.Enabled)
		}
	}
}

// Only due schedules are claimed: not a schedule whose slot is in the
// future, not a disabled one, but a disabled one holding a run-now.
func TestClaimTakesOnlyDueSchedules(t *testing.T) {
	t.Parallel()
	st := noopStore(t)
	ctx := context.Background()
	future := limitedSchedule(t, st, "future", nil, nil)
	disabled := limitedSchedule(t, st, "disabled", nil, nil)
	due := limitedSchedule(t, st, "due", nil, nil)
	mustExec(t, st, `UPDATE schedules SET next_run_at = now() - interval '1 minute', due_at = now() - interval '1 minute' WHERE id = ?`, due.ID)
	if _, err := st.SetScheduleEnabled(ctx, disabled.ID, false); err != nil {
		t.Fatal(err)
	}
	c := claim(t, st, "a", 10)
	if len(c) != 1 || c[0].ID != due.ID || !c[0].SlotDue() || c[0].PendingRuns != 0 {
		t.Fatalf("claimed %+v, want only the due schedule with its slot due", c)
	}
	runID, err := st.RunScheduleNow(ctx, disabled.ID)
	if err != nil {
		t.Fatal(err)
	}
	c = claim(t, st, "a", 10)
	if len(c) != 1 || c[0].ID != disabled.ID || c[0].SlotDue() || c[0].PendingRuns != 1 {
		t.Fatalf("claimed %+v, want the disabled schedule for its run-now", c)
	}
	h := claimAndHandOffClaimed(t, st, "a", c)
	if len(h) != 1 || h[0].RunID != runID || h[0].ScheduleID != disabled.ID || h[0].TaskType != "noop" {
		t.Fatalf("hand-off = %+v", h)
	}
	if g := getSchedule(t, st, disabled.ID); g.Enabled || g.DueAt != nil || g.ClaimedBy != "" {
		t.Errorf("disabled schedule after its run-now: enabled %v due %v claimed %q", g.Enabled, g.DueAt, g.ClaimedBy)
	}
	if g := getSchedule(t, st, future.ID); g.ClaimedBy != "" {
		t.Errorf("future schedule claimed by %q", g.ClaimedBy)
	}
}

// claimAndHandOffClaimed hands off already claimed schedules, releasing
// those whose own slot is not due (as the scheduler does).
func claimAndHandOffClaimed(t *testing.T, st *store.Store, claimant string, claimed []store.ClaimedSchedule) []store.Handoff {
	t.Helper()
	var all, release []int64
	for _, c := range claimed {
		all = append(all, c.ID)
		if !c.SlotDue() {
			release = append(release, c.ID)
		}
	}
	h, err := st.HandOffPending(context.Background(), claimant, all, release)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// A hand-off touches only the caller's schedules; it makes their jobs ready
// and ends their one-shot launch schedules, releasing the lease.
func TestHandOffOnlyTheClaimantsSchedules(t *testing.T) {
	t.Parallel()
	st := noopStore(t)
	ctx := context.Background()
	mine := launchRun(t, st, "noop", "service_map")
	theirs := launchRun(t, st, "noop")
	a := claim(t, st, "a", 2)
	b := claim(t, st, "b", 10)
	if len(a) != 2 || len(b) != 1 {
		t.Fatalf("claims %d / %d", len(a), len(b))
	}
	all := []int64{a[0].ID, a[1].ID, b[0].ID}
	h, err := st.HandOffPending(ctx, "a", all, all)
	if err != nil {
		t.Fatal(err)
	}
	if len(h) != 2 || h[0].RunID != mine.ID || h[0].JobID != mine.Jobs[0].ID || h[0].TaskType != "noop" ||
		h[0].ScheduleName != "launch-run-"+fmtInt(mine.ID)+"-noop" || h[1].JobID != mine.Jobs[1].ID {
		t.Fatalf("hand-off = %+v", h)
	}
	for _, id := range []int64{a[0].ID, a[1].ID} {
		g := getSchedule(t, st, id)
		if g.Enabled || g.NextRunAt != nil || g.DueAt != nil || g.ClaimedBy != "" || g.ClaimedUntil != nil {
			t.Errorf("launch schedule after hand-off: %+v", g)
		}
	}
	for _, j := range mine.Jobs {
		if g := getJob(t, st, j.ID); g.AvailableAt == nil || g.Status != "pending" {
			t.Errorf("handed-off job %d: %+v", j.ID, g)
		}
	}
	if g := getJob(t, st, theirs.Jobs[0].ID); g.AvailableAt != nil {
		t.Errorf("b's job handed off by a")
	}
	if g := getSchedule(t, st, b[0].ID); g.ClaimedBy != "b" || !g.Enabled || g.DueAt == nil {
		t.Errorf("b's schedule released by a: %+v", g)
	}
	if again, err := st.HandOffPending(ctx, "b", []int64{b[0].ID}, []int64{b[0].ID}); err != nil || len(again) != 1 {
		t.Fatalf("b's own hand-off = %+v, %v", again, err)
	}
	// The schedules are ended: nothing is claimed again.
	if c := claim(t, st, "c", 10); len(c) != 0 {
		t.Fatalf("ended launch schedules claimed again: %+v", c)
	}
}

// A run-now of a recurring schedule is handed off without moving the
// schedule's own slot; the schedule stays enabled and due at its next slot.
func TestHandOffOfARunNowKeepsARecurringScheduleGoing(t *testing.T) {
	t.Parallel()
	st := noopStore(t)
	sc := limitedSchedule(t, st, "hourly", nil, nil)
	before := getSchedule(t, st, sc.ID)
	runID, err := st.RunScheduleNow(context.Background(), sc.ID)
	if err != nil {
		t.Fatal(err)
	}
	c := claim(t, st, "a", 10)
	if len(c) != 1 || c[0].SlotDue() || c[0].PendingRuns != 1 {
		t.Fatalf("claimed %+v", c)
	}
	h := claimAndHandOffClaimed(t, st, "a", c)
	if len(h) != 1 || h[0].RunID != runID {
		t.Fatalf("hand-off %+v", h)
	}
	g := getSchedule(t, st, sc.ID)
	if !g.Enabled || g.NextRunAt == nil || !g.NextRunAt.Equal(*before.NextRunAt) || g.DueAt == nil ||
		!g.DueAt.Equal(*before.NextRunAt) || g.ClaimedBy != "" {
		t.Fatalf("schedule after run-now hand-off: enabled %v next %v due %v claimed %q (next was %v)",
			g.Enabled, g.NextRunAt, g.DueAt, g.ClaimedBy, before.NextRunAt)
	}
	if s := startJobs(t, st, "a", 10); len(s) != 1 || s[0].RunID != runID {
		t.Fatalf("run-now job not startable: %+v", s)
	}
	if sr := getScheduledRun(t, st, h[0].JobID); sr.Status != "started" || sr.StartedAt == nil {
		t.Errorf("ScheduledRun after start: %+v", sr)
	}
}

// A claimed schedule whose slot fires through FireSlot advances and is
// released; a stale claimant cannot fire it.
func TestFireSlotIsFencedOnTheScheduleLease(t *testing.T) {
	t.Parallel()
	st := noopStore(t)
	ctx := context.Background()
	sc := limitedSchedule(t, st, "hourly", nil, nil)
	mustExec(t, st, `UPDATE schedules SET next_run_at = date_trunc('minute', now()) - interval '1 minute',
		due_at = date_trunc('minute', now()) - interval '1 minute' WHERE id = ?`, sc.ID)
	c := claim(t, st, "a", 10)
	if len(c) != 1 || !c[0].SlotDue() {
		t.Fatalf("claimed %+v", c)
	}
	mustExec(t, st, `UPDATE schedules SET claimed_until = now() - interval '1 second' WHERE id = ?`, sc.ID)
	if b := claim(t, st, "b", 10); len(b) != 1 {
		t.Fatalf("b could not claim the expired lease")
	}
	slot := *c[0].NextRunAt
	next := slot.Add(time.Hour)
	if _, err := st.FireSlot(ctx, "a", c[0].Schedule, slot, &next); err == nil {
		t.Fatal("a stale claimant fired the slot")
	}
	if n := countRows(t, st, "runs"); n != 0 {
		t.Fatalf("stale fire left %d runs", n)
	}
	f, err := st.FireSlot(ctx, "b", c[0].Schedule, slot, &next)
	if err != nil || f.Duplicate || f.RunID == 0 {
		t.Fatalf("owner's fire = %+v, %v", f, err)
	}
	g := getSchedule(t, st, sc.ID)
	if !g.NextRunAt.Equal(next) || !g.LastRunAt.Equal(slot) || g.ClaimedBy != "" || !g.DueAt.Equal(next) {
		t.Errorf("schedule after fire: next %v last %v due %v claimed %q", g.NextRunAt, g.LastRunAt, g.DueAt, g.ClaimedBy)
	}
}
