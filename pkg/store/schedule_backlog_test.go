package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/cyberbrain/cyberbrain/pkg/store"
)

// TestRecurringSlotSkippedWhileARunWaits: a recurring schedule whose
// previous run has not started (its job waits on max_global, or every
// replica is busy) keeps one waiting run: the next slots advance the
// schedule without creating runs, so the backlog cannot grow without bound.
// Once that run starts, the next slot fires again.
func TestRecurringSlotSkippedWhileARunWaits(t *testing.T) {
	t.Parallel()
	st := noopStore(t)
	ctx := context.Background()
	one := 1
	sc := limitedSchedule(t, st, "busy", &one, nil)
	fire := func(claimant string) *store.Fired {
		t.Helper()
		mustExec(t, st, `UPDATE schedules SET next_run_at = date_trunc('second', now()) - interval '1 second',
			due_at = now() - interval '1 second', claimed_by = '', claimed_until = NULL WHERE id = ?`, sc.ID)
		c := claim(t, st, claimant, 10)
		if len(c) != 1 {
			t.Fatalf("claimed %+v", c)
		}
		next := c[0].NextRunAt.Add(time.Minute)
		f, err := st.FireSlot(ctx, claimant, c[0].Schedule, *c[0].NextRunAt, &next)
		if err != nil {
			t.Fatal(err)
		}
		if g := getSchedule(t, st, sc.ID); !g.NextRunAt.Equal(next) || g.ClaimedBy != "" {
			t.Errorf("not advanced and released: next %v claimed %q", g.NextRunAt, g.ClaimedBy)
		}
		return f
	}
	first := fire("a")
	if first.RunID == 0 || first.WaitingRunID != 0 {
		t.Fatalf("first slot: %+v", first)
	}
	for i := range 3 {
		mustExec(t, st, `UPDATE scheduled_runs SET scheduled_for = scheduled_for - interval '1 hour' WHERE schedule_id = ?`, sc.ID)
		f := fire("a")
		if f.RunID != 0 || f.WaitingRunID != first.RunID {
			t.Fatalf("slot %d while run %d waits: %+v", i+2, first.RunID, f)
		}
	}
	if n := countRows(t, st, "runs"); n != 1 {
		t.Fatalf("%d runs waiting, want 1", n)
	}
	// The waiting run starts: the next slot creates a run again.
	if started := startJobs(t, st, "a", 10); len(started) != 1 || started[0].RunID != first.RunID {
		t.Fatalf("started %+v", started)
	}
	mustExec(t, st, `UPDATE scheduled_runs SET scheduled_for = scheduled_for - interval '1 hour' WHERE schedule_id = ?`, sc.ID)
	if f := fire("a"); f.RunID == 0 || f.WaitingRunID != 0 {
		t.Fatalf("slot after the start: %+v", f)
	}
}
