package scheduler_test

import (
	"context"
	"testing"
	"time"

	"github.com/cyberbrain/cyberbrain/pkg/domain"
	"github.com/cyberbrain/cyberbrain/pkg/scheduler"
	"github.com/cyberbrain/cyberbrain/pkg/store"
	"github.com/cyberbrain/cyberbrain/pkg/tasks"
	"github.com/cyberbrain/cyberbrain/pkg/testenv"
)

func dbNow(t *testing.T, st *store.Store) time.Time {
	t.Helper()
	now, err := st.Now(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return now
}

// createSchedule creates a schedule through the store's API path (which
// computes due_at and sends NOTIFY).
func createSchedule(t *testing.T, st *store.Store, sc store.Schedule, next *time.Time) *store.Schedule {
	t.Helper()
	if sc.Task == "" {
		sc.Task = "noop"
	}
	out, err := st.CreateSchedule(context.Background(), &store.ScheduleWrite{Schedule: sc, ExplicitNextRunAt: next})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func getSchedule(t *testing.T, st *store.Store, id int64) store.Schedule {
	t.Helper()
	var sc store.Schedule
	if err := testenv.SQL(t, st).Take(&sc, id).Error; err != nil {
		t.Fatal(err)
	}
	return sc
}

func scheduledRuns(t *testing.T, st *store.Store, scheduleID int64) []store.ScheduledRun {
	t.Helper()
	var srs []store.ScheduledRun
	testenv.SQL(t, st).Where("schedule_id = ?", scheduleID).Order("scheduled_for").Find(&srs)
	return srs
}

func ptr[T any](v T) *T { return &v }

// An interval slot due in a moment fires on time on a replica whose poll
// interval is an hour: the replica sleeps until the schedule's due time.
// next_run_at then moves one interval on from the slot.
func TestIntervalSlotFiresOnTimeWithoutPolling(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	r := startReplica(t, st, "r", tasks.Registry{"noop": tasks.Noop()}, func(c *scheduler.Config) { c.Interval = time.Hour })
	slot := dbNow(t, st).Add(1500 * time.Millisecond).Truncate(time.Millisecond)
	sc := createSchedule(t, st, store.Schedule{Name: "soon", Enabled: true, ScheduleType: domain.ScheduleInterval, IntervalMinutes: ptr(5)}, &slot)
	if f := r.TestSignals.Finished.WaitOrTimeout(); f.Status != "completed" {
		t.Fatalf("slot's job finished %+v", f)
	}
	srs := scheduledRuns(t, st, sc.ID)
	if len(srs) != 1 || !srs[0].ScheduledFor.Equal(slot) {
		t.Fatalf("scheduled runs = %+v, want one for %s", srs, slot)
	}
	var run store.Run
	testenv.SQL(t, st).Take(&run, srs[0].RunID)
	if late := run.CreatedAt.Sub(slot); late < 0 || late > time.Second {
		t.Fatalf("run created %s after its slot, want within 1s (and not before)", late)
	}
	got := getSchedule(t, st, sc.ID)
	if got.NextRunAt == nil || !got.NextRunAt.Equal(slot.Add(5*time.Minute)) || got.LastRunAt == nil || !got.LastRunAt.Equal(slot) {
		t.Fatalf("after the slot: next_run_at %v, last_run_at %v", got.NextRunAt, got.LastRunAt)
	}
}

// A cron schedule claimed hours late fires one run for its overdue slot and
// moves next_run_at to the first cron slot after now, evaluated in the
// schedule's timezone: "30 * * * *" in Asia/Kolkata (UTC+5:30) is every
// hour on the UTC hour (§8).
func TestCronScheduleCatchesUpOnceInItsTimezone(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	now := dbNow(t, st)
	missed := now.Truncate(time.Hour).Add(-3 * time.Hour)
	sc := createSchedule(t, st, store.Schedule{Name: "kolkata", Enabled: true, ScheduleType: domain.ScheduleCron,
		CronExpr: "30 * * * *", Timezone: "Asia/Kolkata"}, &missed)
	r := startReplica(t, st, "r", tasks.Registry{"noop": tasks.Noop()}, nil)
	if f := r.TestSignals.Finished.WaitOrTimeout(); f.Status != "completed" {
		t.Fatalf("overdue slot's job finished %+v", f)
	}
	srs := scheduledRuns(t, st, sc.ID)
	if len(srs) != 1 || !srs[0].ScheduledFor.Equal(missed) {
		t.Fatalf("scheduled runs = %+v, want exactly one, for the overdue slot %s", srs, missed)
	}
	got := getSchedule(t, st, sc.ID)
	want := now.Truncate(time.Hour).Add(time.Hour) // the next UTC hour after now
	if after := dbNow(t, st); after.Truncate(time.Hour) != now.Truncate(time.Hour) {
		want = after.Truncate(time.Hour).Add(time.Hour) // the test straddled an hour
	}
	if got.NextRunAt == nil || !got.NextRunAt.Equal(want) {
		t.Fatalf("next_run_at = %v, want %s (the next :30 in Asia/Kolkata)", got.NextRunAt, want)
	}
	if got.LastRunAt == nil || !got.LastRunAt.Equal(missed) || got.ClaimedBy != "" {
		t.Fatalf("schedule after the catch-up: %+v", got)
	}
	if n := countWhere(t, st, "runs"); n != 1 {
		t.Fatalf("%d runs, want 1: missed slots collapse", n)
	}
}

// A disabled schedule fires nothing, however overdue; enabled again it
// keeps its next_run_at, so it fires one run for that slot and moves on to
// the grid point after now.
func TestDisabledScheduleFiresOnlyOnceReEnabled(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	missed := dbNow(t, st).Add(-25 * time.Minute).Truncate(time.Second)
	off := createSchedule(t, st, store.Schedule{Name: "off", Enabled: false, ScheduleType: domain.ScheduleInterval, IntervalMinutes: ptr(10)}, &missed)
	on := createSchedule(t, st, store.Schedule{Name: "on", Enabled: true, ScheduleType: domain.ScheduleInterval, IntervalMinutes: ptr(10)}, &missed)
	r := startReplica(t, st, "r", tasks.Registry{"noop": tasks.Noop()}, nil)
	if f := r.TestSignals.Finished.WaitOrTimeout(); f.Status != "completed" {
		t.Fatalf("enabled schedule's job finished %+v", f)
	}
	if srs := scheduledRuns(t, st, on.ID); len(srs) != 1 {
		t.Fatalf("enabled schedule fired %d runs", len(srs))
	}
	if srs := scheduledRuns(t, st, off.ID); len(srs) != 0 {
		t.Fatalf("disabled schedule fired %d runs", len(srs))
	}
	if got := getSchedule(t, st, off.ID); got.NextRunAt == nil || !got.NextRunAt.Equal(missed) || got.LastRunAt != nil {
		t.Fatalf("disabled schedule moved: %+v", got)
	}
	if _, err := st.SetScheduleEnabled(context.Background(), off.ID, true); err != nil {
		t.Fatal(err)
	}
	if f := r.TestSignals.Finished.WaitOrTimeout(); f.Status != "completed" {
		t.Fatalf("re-enabled schedule's job finished %+v", f)
	}
	srs := scheduledRuns(t, st, off.ID)
	if len(srs) != 1 || !srs[0].ScheduledFor.Equal(missed) {
		t.Fatalf("re-enabled schedule's runs = %+v, want one for its old slot %s", srs, missed)
	}
	if got := getSchedule(t, st, off.ID); got.NextRunAt == nil || !got.NextRunAt.Equal(missed.Add(30*time.Minute)) {
		t.Fatalf("next_run_at = %v, want %s (the grid point after now)", got.NextRunAt, missed.Add(30*time.Minute))
	}
}

// Run-now of a one-shot schedule created through the API hands off its run
// and ends the schedule: its own (future) slot never fires (§8).
func TestRunNowEndsAOneShotSchedule(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	later := dbNow(t, st).Add(time.Hour)
	sc := createSchedule(t, st, store.Schedule{Name: "once-later", Enabled: true, ScheduleType: domain.ScheduleOneShot}, &later)
	r := startReplica(t, st, "r", tasks.Registry{"noop": tasks.Noop()}, nil)
	runID, err := st.RunScheduleNow(context.Background(), sc.ID)
	if err != nil {
		t.Fatal(err)
	}
	if f := r.TestSignals.Finished.WaitOrTimeout(); f.Status != "completed" {
		t.Fatalf("run-now job finished %+v", f)
	}
	if n := countWhere(t, st, "runs WHERE id = ? AND status = 'completed'", runID); n != 1 {
		t.Fatal("run-now run not completed")
	}
	got := getSchedule(t, st, sc.ID)
	if got.Enabled || got.NextRunAt != nil || got.DueAt != nil || got.ClaimedBy != "" {
		t.Fatalf("one-shot schedule after its run-now: %+v, want ended", got)
	}
	if srs := scheduledRuns(t, st, sc.ID); len(srs) != 1 {
		t.Fatalf("%d scheduled runs, want the run-now's only", len(srs))
	}
}

// A schedule's max_global caps its running runs across replicas: with
// max_global = 2 and six run-now runs, three replicas run exactly two at a
// time (§7).
func TestMaxGlobalHoldsAcrossReplicas(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	testenv.SQL(t, st).Exec(`UPDATE task_definitions SET default_config = '{"sleep_ms": 150}' WHERE key = 'noop'`)
	later := dbNow(t, st).Add(time.Hour)
	sc := createSchedule(t, st, store.Schedule{Name: "capped", Enabled: true, ScheduleType: domain.ScheduleInterval,
		IntervalMinutes: ptr(60), MaxGlobal: ptr(2)}, &later)
	for range 6 {
		if _, err := st.RunScheduleNow(context.Background(), sc.ID); err != nil {
			t.Fatal(err)
		}
	}
	reg := tasks.Registry{"noop": tasks.Noop()}
	var rs []*replica
	for _, name := range []string{"a", "b", "c"} {
		rs = append(rs, startReplica(t, st, name, reg, nil))
	}
	waitFor(t, 20*time.Second, "all six runs completed", func() bool {
		return countWhere(t, st, "jobs WHERE schedule_id = ? AND status = 'completed'", sc.ID) == 6
	}, flushed(rs...)...)
	if peak := maxOverlap(t, st, "j.schedule_id = ?", sc.ID); peak != 2 {
		t.Fatalf("peak concurrent runs of the schedule = %d, want exactly 2", peak)
	}
}
