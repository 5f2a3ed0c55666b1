package domain

import (
	"testing"
	"time"
)

func mustUTC(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v.UTC()
}

func TestIntervalStaysOnItsGridWithoutDrift(t *testing.T) {
	t.Parallel()
	tm := Timing{Type: ScheduleInterval, IntervalMinutes: 15}
	anchor := mustUTC(t, "2026-11-26T10:00:00Z")
	// The tick that fired the slot ran 7 s late: the next slot is still :15.
	got, _ := tm.NextAfter(anchor, anchor.Add(7*time.Second))
	if want := mustUTC(t, "2026-11-26T10:15:00Z"); !got.Equal(want) {
		t.Fatalf("next = %s, want %s", got, want)
	}
	// Four slots were missed (the scheduler was down): they collapse; the
	// next slot is the first grid point in the future.
	got, _ = tm.NextAfter(anchor, mustUTC(t, "2026-11-26T11:07:00Z"))
	if want := mustUTC(t, "2026-11-26T11:15:00Z"); !got.Equal(want) {
		t.Fatalf("after missed slots next = %s, want %s", got, want)
	}
	// Exactly on a grid point: that point is not in the future.
	got, _ = tm.NextAfter(anchor, mustUTC(t, "2026-11-26T10:30:00Z"))
	if want := mustUTC(t, "2026-11-26T10:45:00Z"); !got.Equal(want) {
		t.Fatalf("on a grid point next = %s, want %s", got, want)
	}
}

// fireDaily walks a cron schedule slot by slot from start for n slots.
func walk(t *testing.T, tm Timing, start time.Time, n int) []time.Time {
	t.Helper()
	var out []time.Time
	at := start
	for i := 0; i < n; i++ {
		next, err := tm.NextAfter(at, at)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, next)
		at = next
	}
	return out
}

func TestCronInBerlinAcrossSpringForward(t *testing.T) {
	t.Parallel()
	tm := Timing{Type: ScheduleCron, CronExpr: "30 2 * * *", Timezone: "Europe/Berlin"}
	// 2026-03-29 02:00 CET the clocks jump to 03:00 CEST: 02:30 does not exist.
	got := walk(t, tm, mustUTC(t, "2026-03-27T12:00:00Z"), 3)
	want := []time.Time{
		mustUTC(t, "2026-03-28T01:30:00Z"), // 02:30 CET
		mustUTC(t, "2026-03-29T01:00:00Z"), // the gap: fires at 03:00 CEST, not skipped
		mustUTC(t, "2026-03-30T00:30:00Z"), // 02:30 CEST
	}
	for i := range want {
		if !got[i].Equal(want[i]) {
			t.Fatalf("slot %d = %s, want %s (all: %v)", i, got[i], want[i], got)
		}
	}
}

func TestCronInBerlinAcrossFallBack(t *testing.T) {
	t.Parallel()
	tm := Timing{Type: ScheduleCron, CronExpr: "30 2 * * *", Timezone: "Europe/Berlin"}
	// 2026-10-25 03:00 CEST the clocks go back to 02:00 CET: 02:30 happens twice.
	got := walk(t, tm, mustUTC(t, "2026-10-23T12:00:00Z"), 3)
	want := []time.Time{
		mustUTC(t, "2026-10-24T00:30:00Z"), // 02:30 CEST
		mustUTC(t, "2026-10-25T00:30:00Z"), // first 02:30 (CEST) only
		mustUTC(t, "2026-10-26T01:30:00Z"), // 02:30 CET — no second run on the 25th
	}
	for i := range want {
		if !got[i].Equal(want[i]) {
			t.Fatalf("slot %d = %s, want %s (all: %v)", i, got[i], want[i], got)
		}
	}
}

func TestCronHourlyAcrossFallBackDoesNotDouble(t *testing.T) {
	t.Parallel()
	tm := Timing{Type: ScheduleCron, CronExpr: "0 * * * *", Timezone: "Europe/Berlin"}
	got := walk(t, tm, mustUTC(t, "2026-10-24T23:30:00Z"), 4)
	// 02:00 CEST (00:00Z), 02:00 CET would repeat the wall time: skipped; 03:00 CET (02:00Z).
	want := []string{"2026-10-25T00:00:00Z", "2026-10-25T02:00:00Z", "2026-10-25T03:00:00Z", "2026-10-25T04:00:00Z"}
	for i := range want {
		if !got[i].Equal(mustUTC(t, want[i])) {
			t.Fatalf("slots = %v, want %v", got, want)
		}
	}
}

func TestCronMissedSlotsCollapse(t *testing.T) {
	t.Parallel()
	tm := Timing{Type: ScheduleCron, CronExpr: "*/10 * * * *", Timezone: "UTC"}
	got, _ := tm.NextAfter(mustUTC(t, "2026-11-26T08:00:00Z"), mustUTC(t, "2026-11-26T09:03:00Z"))
	if want := mustUTC(t, "2026-11-26T09:10:00Z"); !got.Equal(want) {
		t.Fatalf("next = %s, want %s", got, want)
	}
}

func TestTimingValidation(t *testing.T) {
	t.Parallel()
	cases := []struct {
		tm    Timing
		field string
	}{
		{Timing{Type: ScheduleCron, CronExpr: "61 * * * *", Timezone: "UTC"}, "cron_expr"},
		{Timing{Type: ScheduleCron, CronExpr: "* * *", Timezone: "UTC"}, "cron_expr"},
		{Timing{Type: ScheduleCron, CronExpr: "", Timezone: "UTC"}, "cron_expr"},
		{Timing{Type: ScheduleCron, CronExpr: "@daily", Timezone: "Mars/Olympus"}, "timezone"},
		{Timing{Type: ScheduleInterval, IntervalMinutes: 0}, "interval_minutes"},
		{Timing{Type: "weekly"}, "schedule_type"},
	}
	for _, c := range cases {
		errs := c.tm.Validate()
		if _, ok := errs[c.field]; !ok {
			t.Errorf("%+v: errors %v lack %s", c.tm, errs, c.field)
		}
	}
	for _, ok := range []Timing{
		{Type: ScheduleCron, CronExpr: "@daily", Timezone: "Europe/Berlin"},
		{Type: ScheduleCron, CronExpr: "15 3 * * 1-5", Timezone: "America/New_York"},
		{Type: ScheduleInterval, IntervalMinutes: 5},
		{Type: ScheduleOneShot},
	} {
		if errs := ok.Validate(); len(errs) != 0 {
			t.Errorf("%+v rejected: %v", ok, errs)
		}
	}
}
