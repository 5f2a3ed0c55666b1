package scheduler_test

import (
	"testing"
	"time"

	"github.com/cyberbrain/cyberbrain/pkg/domain"
	"github.com/cyberbrain/cyberbrain/pkg/store"
	"github.com/cyberbrain/cyberbrain/pkg/tasks"
	"github.com/cyberbrain/cyberbrain/pkg/testenv"
)

// A recurring schedule whose slots were missed fires one run for the missed
// slot and moves next_run_at to the first grid point in the future.
func TestRecurringScheduleFiresOnceForMissedSlotsWithoutDrift(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	// Due 65 minutes ago on a 30-minute grid: slots at -65, -35, -5 missed.
	if err := testenv.SQL(t, st).Exec(`INSERT INTO schedules (id, name, task, schedule_type, interval_minutes, next_run_at, due_at)
		VALUES (7, 'every-30', 'noop', 'interval', 30, date_trunc('second', now()) - interval '65 minutes', now() - interval '65 minutes')`).Error; err != nil {
		t.Fatal(err)
	}
	var slot time.Time
	testenv.SQL(t, st).Raw(`SELECT next_run_at FROM schedules WHERE id = 7`).Scan(&slot)
	r := startReplica(t, st, "r", tasks.Registry{"noop": tasks.Noop()}, nil)
	waitFor(t, 10*time.Second, "the slot's run completed", func() bool {
		return countWhere(t, st, "runs WHERE status = 'completed'") == 1
	}, flushed(r)...)
	var sch store.Schedule
	testenv.SQL(t, st).Take(&sch, 7)
	if want := slot.Add(90 * time.Minute); sch.NextRunAt == nil || !sch.NextRunAt.Equal(want) {
		t.Fatalf("next_run_at = %v, want %v (the grid point after now)", sch.NextRunAt, want)
	}
	if sch.LastRunAt == nil || !sch.LastRunAt.Equal(slot) || sch.ClaimedBy != "" || sch.DueAt == nil || !sch.DueAt.Equal(*sch.NextRunAt) {
		t.Fatalf("schedule after firing: %+v", sch)
	}
	if n := countWhere(t, st, "scheduled_runs WHERE schedule_id = 7 AND scheduled_for = ? AND status = 'finished'", slot); n != 1 {
		t.Fatalf("scheduled runs for the slot = %d", n)
	}
	if n := countWhere(t, st, "runs"); n != 1 {
		t.Fatalf("%d runs for collapsed missed slots, want 1", n)
	}
}

// Firing a slot that already fired (a replica whose lease expired mid-way)
// creates nothing: the unique (schedule_id, scheduled_for) key holds.
func TestDoubleFireOfASlotIsHarmless(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	testenv.SQL(t, st).Exec(`INSERT INTO schedules (id, name, task, schedule_type, interval_minutes, next_run_at, due_at)
		VALUES (8, 'twice', 'noop', 'interval', 60, date_trunc('second', now()) - interval '1 minute', now() - interval '1 minute')`)
	var slot time.Time
	testenv.SQL(t, st).Raw(`SELECT next_run_at FROM schedules WHERE id = 8`).Scan(&slot)
	// Another replica already fired this slot.
	run := testenv.CreateRuns(t, st, domain.StatusCompleted)[0]
	testenv.SQL(t, st).Exec(`INSERT INTO scheduled_runs (schedule_id, run_id, scheduled_for, status) VALUES (8, ?, ?, 'finished')`, run, slot)
	r := startReplica(t, st, "r", tasks.Registry{"noop": tasks.Noop()}, nil)
	waitFor(t, 10*time.Second, "schedule advanced", func() bool {
		return countWhere(t, st, "schedules WHERE id = 8 AND next_run_at > now() AND claimed_by = ''") == 1
	}, sig(&r.TestSignals.Claimed))
	if n := countWhere(t, st, "runs"); n != 1 {
		t.Fatalf("runs = %d, want only the first fire's", n)
	}
}

// A one-shot schedule created through the API fires once at its time and
// ends disabled; it is not mistaken for a launch's schedule.
func TestOneShotScheduleFiresOnceAndEnds(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	testenv.SQL(t, st).Exec(`INSERT INTO schedules (id, name, task, schedule_type, next_run_at, due_at)
		VALUES (9, 'once', 'noop', 'one_shot', now() - interval '1 second', now() - interval '1 second')`)
	r := startReplica(t, st, "r", tasks.Registry{"noop": tasks.Noop()}, nil)
	waitFor(t, 10*time.Second, "the one-shot run completed", func() bool {
		return countWhere(t, st, "runs r JOIN scheduled_runs sr ON sr.run_id = r.id WHERE sr.schedule_id = 9 AND r.status = 'completed'") == 1
	}, flushed(r)...)
	waitFor(t, 5*time.Second, "schedule ended", func() bool {
		return countWhere(t, st, "schedules WHERE id = 9 AND NOT enabled AND next_run_at IS NULL AND due_at IS NULL AND last_run_at IS NOT NULL AND claimed_by = ''") == 1
	}, sig(&r.TestSignals.Claimed), sig(&r.TestSignals.Flushed))
	if n := countWhere(t, st, "runs"); n != 1 {
		t.Fatalf("%d runs, want 1", n)
	}
}
