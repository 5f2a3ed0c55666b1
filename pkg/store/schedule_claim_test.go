package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/cyberbrain/cyberbrain/pkg/store"
	"github.com/cyberbrain/cyberbrain/pkg/testenv"
)

// claim runs a claim that starts nothing and returns the schedules leased
// for their due slot.
func claim(t *testing.T, st *store.Store, claimant string, max int) []store.ClaimedSchedule {
	t.Helper()
	return claimAll(t, st, claimant, max).Slots
}

func claimAll(t *testing.T, st *store.Store, claimant string, max int) *store.Claim {
	t.Helper()
	c, err := st.ClaimDue(context.Background(), claimant, leaseTTL, max, 0, store.Limits{})
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

// dueSchedules creates n recurring schedules whose slot is due.
func dueSchedules(t *testing.T, st *store.Store, prefix string, n int) []*store.Schedule {
	t.Helper()
	out := make([]*store.Schedule, n)
	for i := range out {
		out[i] = limitedSchedule(t, st, prefix+fmtInt(int64(i)), nil, nil)
		mustExec(t, st, `UPDATE schedules SET next_run_at = now() - make_interval(mins => 60 - ?), due_at = now() - make_interval(mins => 60 - ?)
			WHERE id = ?`, i, i, out[i].ID)
	}
	return out
}

// Two replicas claiming at once never get the same due schedule, and
// between them claim every one.
func TestConcurrentClaimsNeverShareASchedule(t *testing.T) {
	t.Parallel()
	st := noopStore(t)
	st2 := secondHandle(t, st)
	const n = 40
	dueSchedules(t, st, "s", n)
	got := [2][]store.ClaimedSchedule{}
	for i, claims := range claimConcurrently(t, st, st2, 3, 0) {
		for _, c := range claims {
			got[i] = append(got[i], c.Slots...)
		}
	}
	owner := map[int64]string{}
	for i, cs := range got {
		for _, c := range cs {
			me := []string{"a", "b"}[i]
			if prev, ok := owner[c.ID]; ok {
				t.Errorf("schedule %d claimed by %s and %s", c.ID, prev, me)
			}
			owner[c.ID] = me
			if c.ClaimedBy != me {
				t.Errorf("claim of %d: claimed_by %q", c.ID, c.ClaimedBy)
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
// whose lease has not expired, and takes them again once it has. A launch's
// schedule is taken but not leased: its job is handed off and the schedule
// released in the same statement.
func TestClaimRespectsMaxAndLeases(t *testing.T) {
	t.Parallel()
	st := noopStore(t)
	launchRun(t, st, "noop")
	sc := dueSchedules(t, st, "s", 3)
	a := claim(t, st, "a", 2)
	if len(a) != 2 || a[0].ID != sc[0].ID || a[1].ID != sc[1].ID {
		t.Fatalf("a claimed %+v, want the two oldest due schedules", a)
	}
	now := dbNow(t, st)
	for _, c := range a {
		if c.ClaimedBy != "a" || c.ClaimedUntil == nil || c.ClaimedUntil.Sub(now) < leaseTTL-10*time.Second ||
			c.DBNow.IsZero() {
			t.Errorf("claimed schedule %+v", c)
		}
	}
	all := claimAll(t, st, "b", 10)
	b := all.Slots
	if len(b) != 1 || b[0].ID != sc[2].ID || len(all.Names) != 2 || len(all.Handoffs) != 1 {
		t.Fatalf("b claimed %+v, want the third leased and the launch handed off", all)
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
	for _, sc := range c {
		if g := getSchedule(t, st, sc.ID); g.ClaimedBy != "c" || !g.Enabled {
			t.Errorf("schedule %d: claimed by %q enabled %v", sc.ID, g.ClaimedBy, g.Enabled)
		}
	}
}

// Only schedules whose own slot is due are leased: not a schedule whose slot
// is in the future, not a disabled one holding a run-now (its job is handed
// off and the schedule released), but a recurring one whose slot is due while
// it holds a run-now (handed off too; FireSlot then sees it waiting).
func TestClaimLeasesOnlySchedulesWhoseSlotIsDue(t *testing.T) {
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
	disabledRun, err := st.RunScheduleNow(ctx, disabled.ID)
	if err != nil {
		t.Fatal(err)
	}
	dueRun, err := st.RunScheduleNow(ctx, due.ID)
	if err != nil {
		t.Fatal(err)
	}
	c := claimAll(t, st, "a", 10)
	if len(c.Slots) != 1 || c.Slots[0].ID != due.ID || c.Slots[0].ClaimedBy != "a" || len(c.Names) != 2 {
		t.Fatalf("claimed %+v, want the due schedule leased and the disabled one taken", c)
	}
	if len(c.Handoffs) != 2 || len(c.Started) != 0 {
		t.Fatalf("hand-offs %+v, started %d; want both run-nows handed off, none started", c.Handoffs, len(c.Started))
	}
	for _, h := range c.Handoffs {
		if (h.ScheduleID == due.ID) != (h.RunID == dueRun) || (h.ScheduleID == disabled.ID) != (h.RunID == disabledRun) || h.TaskType != "noop" {
			t.Errorf("hand-off %+v", h)
		}
	}
	if g := getSchedule(t, st, future.ID); g.ClaimedBy != "" {
		t.Errorf("future schedule claimed by %q", g.ClaimedBy)
	}
	if g := getSchedule(t, st, disabled.ID); g.ClaimedBy != "" || g.DueAt != nil || g.Enabled {
		t.Errorf("disabled schedule after its run-now: claimed by %q, due %v, enabled %v", g.ClaimedBy, g.DueAt, g.Enabled)
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
	if len(c) != 1 {
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
