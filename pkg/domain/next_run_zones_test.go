package domain

import (
	"strings"
	"testing"
	"time"
)

// cronWalk checks that walking a cron schedule from start yields want (RFC 3339
// instants), slot after slot, each strictly after the one before.
func cronWalk(t *testing.T, expr, tz, start string, want ...string) {
	t.Helper()
	tm := Timing{Type: ScheduleCron, CronExpr: expr, Timezone: tz}
	got := walk(t, tm, mustUTC(t, start), len(want))
	for i := range want {
		if !got[i].Equal(mustUTC(t, want[i])) {
			t.Fatalf("%q in %s from %s: slot %d = %s, want %s\n got: %v\nwant: %v",
				expr, tz, start, i, got[i].Format(time.RFC3339), want[i], got, want)
		}
	}
}

// TestCronAcrossDSTTransitions covers zones whose clocks jump at different
// hours, by different amounts, and in both hemispheres: a slot inside a gap
// fires once at the first instant after it, a repeated wall time fires once at
// its first occurrence, and the days around the transition are untouched.
func TestCronAcrossDSTTransitions(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, expr, tz, start string
		want                  []string
	}{
		{
			// 2026-03-08 02:00 EST → 03:00 EDT.
			"new york spring forward", "30 2 * * *", "America/New_York", "2026-03-06T12:00:00Z",
			[]string{"2026-03-07T07:30:00Z", "2026-03-08T07:00:00Z", "2026-03-09T06:30:00Z"},
		},
		{
			// 2026-11-01 02:00 EDT → 01:00 EST: 01:30 happens twice.
			"new york fall back", "30 1 * * *", "America/New_York", "2026-10-30T12:00:00Z",
			[]string{"2026-10-31T05:30:00Z", "2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z"},
		},
		{
			// Hourly across the gap: one fire per real hour, none lost, none doubled.
			"new york hourly through the gap", "0 * * * *", "America/New_York", "2026-03-08T05:30:00Z",
			[]string{"2026-03-08T06:00:00Z", "2026-03-08T07:00:00Z", "2026-03-08T08:00:00Z"},
		},
		{
			// Every 15 minutes: the four slots inside Berlin's gap collapse
			// into one fire at 03:00 CEST, then the grid resumes at 03:15.
			"berlin quarter hours through the gap", "*/15 * * * *", "Europe/Berlin", "2026-03-29T00:40:00Z",
			[]string{"2026-03-29T00:45:00Z", "2026-03-29T01:00:00Z", "2026-03-29T01:15:00Z"},
		},
		{
			// Every 30 minutes through the repeated hour: 02:00 and 02:30 CEST
			// fire, their CET repeats do not, 03:00 CET follows.
			"berlin half hours through the repeat", "*/30 * * * *", "Europe/Berlin", "2026-10-24T23:45:00Z",
			[]string{"2026-10-25T00:00:00Z", "2026-10-25T00:30:00Z", "2026-10-25T02:00:00Z", "2026-10-25T02:30:00Z"},
		},
		{
			// Chile jumps at midnight: 2026-09-06 00:00 -04 → 01:00 -03.
			"santiago midnight gap", "0 0 * * *", "America/Santiago", "2026-09-04T12:00:00Z",
			[]string{"2026-09-05T04:00:00Z", "2026-09-06T04:00:00Z", "2026-09-07T03:00:00Z"},
		},
		{
			// 2026-04-04 24:00 -03 → 23:00 -04: 23:30 on the 4th happens twice.
			"santiago late evening repeat", "30 23 * * *", "America/Santiago", "2026-04-03T12:00:00Z",
			[]string{"2026-04-04T02:30:00Z", "2026-04-05T02:30:00Z", "2026-04-06T03:30:00Z"},
		},
		{
			// Lord Howe shifts by 30 minutes: 2026-10-04 02:00 → 02:30 (+10:30 → +11).
			"lord howe half-hour gap", "15 2 * * *", "Australia/Lord_Howe", "2026-10-02T00:00:00Z",
			[]string{"2026-10-02T15:45:00Z", "2026-10-03T15:30:00Z", "2026-10-04T15:15:00Z"},
		},
		{
			// 2026-04-05 02:00 +11 → 01:30 +10:30: 01:45 happens twice.
			"lord howe half-hour repeat", "45 1 * * *", "Australia/Lord_Howe", "2026-04-03T00:00:00Z",
			[]string{"2026-04-03T14:45:00Z", "2026-04-04T14:45:00Z", "2026-04-05T15:15:00Z"},
		},
		{
			// Troll jumps two hours: 2026-03-29 01:00 +00 → 03:00 +02.
			"troll two-hour gap", "30 2 * * *", "Antarctica/Troll", "2026-03-27T12:00:00Z",
			[]string{"2026-03-28T02:30:00Z", "2026-03-29T01:00:00Z", "2026-03-30T00:30:00Z"},
		},
		{
			// 2026-10-25 03:00 +02 → 01:00 +00: two repeated hours.
			"troll two-hour repeat", "30 1 * * *", "Antarctica/Troll", "2026-10-23T12:00:00Z",
			[]string{"2026-10-23T23:30:00Z", "2026-10-24T23:30:00Z", "2026-10-26T01:30:00Z"},
		},
		{
			// Sydney, southern hemisphere: 2026-10-04 02:00 AEST → 03:00 AEDT.
			"sydney spring forward in october", "30 2 * * *", "Australia/Sydney", "2026-10-02T00:00:00Z",
			[]string{"2026-10-02T16:30:00Z", "2026-10-03T16:00:00Z", "2026-10-04T15:30:00Z"},
		},
		{
			// No DST, a half-hour offset: always 03:30 UTC.
			"kolkata fixed offset", "0 9 * * *", "Asia/Kolkata", "2026-03-28T00:00:00Z",
			[]string{"2026-03-28T03:30:00Z", "2026-03-29T03:30:00Z", "2026-03-30T03:30:00Z"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			cronWalk(t, c.expr, c.tz, c.start, c.want...)
		})
	}
}

// TestCronSkippedCalendarDay: Samoa skipped 2011-12-30 entirely (a 24-hour
// gap). The noon slot of the missing day fires at the first instant after the
// gap, like any other slot in a gap, and never before the previous slot.
func TestCronSkippedCalendarDay(t *testing.T) {
	t.Parallel()
	cronWalk(t, "0 12 * * *", "Pacific/Apia", "2011-12-29T00:00:00Z",
		"2011-12-29T22:00:00Z", // Dec 29 12:00 -10
		"2011-12-30T10:00:00Z", // Dec 30 never happened: Dec 31 00:00 +14
		"2011-12-30T22:00:00Z", // Dec 31 12:00 +14
	)
	// Hourly: the 24 slots of the missing day collapse into one fire at the
	// jump, which is also Dec 31 00:00; the grid resumes at 01:00 +14.
	cronWalk(t, "0 * * * *", "Pacific/Apia", "2011-12-30T08:30:00Z",
		"2011-12-30T09:00:00Z", // Dec 29 23:00 -10
		"2011-12-30T10:00:00Z", // Dec 30 00:00 … Dec 31 00:00 +14
		"2011-12-30T11:00:00Z", // Dec 31 01:00 +14
	)
}

// TestCronRestartInsideRepeatedHour: a scheduler that comes back during the
// second pass of a repeated hour must not fire the wall times it already
// fired during the first pass.
func TestCronRestartInsideRepeatedHour(t *testing.T) {
	t.Parallel()
	tm := Timing{Type: ScheduleCron, CronExpr: "30 2 * * *", Timezone: "Europe/Berlin"}
	// 01:10Z is 02:10 CET, the second 02:10 of 2026-10-25; 02:30 CEST already
	// fired at 00:30Z.
	got, err := tm.NextAfter(time.Time{}, mustUTC(t, "2026-10-25T01:10:00Z"))
	if err != nil {
		t.Fatal(err)
	}
	if want := mustUTC(t, "2026-10-26T01:30:00Z"); !got.Equal(want) {
		t.Fatalf("next = %s, want %s (the repeated 02:30 CET must not fire)", got, want)
	}
}

func TestCronNextAfterCalendarRules(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, expr, tz, now, want string
	}{
		{"weekdays skip the weekend", "0 9 * * 1-5", "America/New_York", "2026-11-27T15:00:00Z", "2026-11-30T14:00:00Z"},
		{"leap day waits for a leap year", "0 0 29 2 *", "UTC", "2026-03-01T00:00:00Z", "2028-02-29T00:00:00Z"},
		{"first of the month", "0 6 1 * *", "Europe/Berlin", "2026-01-31T12:00:00Z", "2026-02-01T05:00:00Z"},
		{"daily descriptor in tokyo", "@daily", "Asia/Tokyo", "2026-06-01T16:00:00Z", "2026-06-02T15:00:00Z"},
		{"hourly descriptor", "@hourly", "UTC", "2026-06-01T16:00:00Z", "2026-06-01T17:00:00Z"},
		{"every descriptor", "@every 5m", "UTC", "2026-06-01T16:00:00Z", "2026-06-01T16:05:00Z"},
		{"exactly on a slot is not after it", "*/10 * * * *", "UTC", "2026-06-01T16:20:00Z", "2026-06-01T16:30:00Z"},
		{"sub-second before a slot", "0 * * * *", "UTC", "2026-06-01T16:59:59.5Z", "2026-06-01T17:00:00Z"},
		{"surrounding spaces are ignored", "  0 3 * * *  ", "UTC", "2026-06-01T16:00:00Z", "2026-06-02T03:00:00Z"},
		{"empty timezone is UTC", "0 3 * * *", "", "2026-06-01T16:00:00Z", "2026-06-02T03:00:00Z"},
		{"month names", "0 0 1 jan,jul *", "UTC", "2026-02-01T00:00:00Z", "2026-07-01T00:00:00Z"},
		{"year end rollover", "59 23 31 12 *", "UTC", "2026-12-31T23:59:00Z", "2027-12-31T23:59:00Z"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			tm := Timing{Type: ScheduleCron, CronExpr: c.expr, Timezone: c.tz}
			now, err := time.Parse(time.RFC3339Nano, c.now)
			if err != nil {
				t.Fatal(err)
			}
			got, err := tm.NextAfter(now.Add(-48*time.Hour), now)
			if err != nil {
				t.Fatal(err)
			}
			if !got.Equal(mustUTC(t, c.want)) {
				t.Fatalf("next after %s = %s, want %s", c.now, got, c.want)
			}
		})
	}
}

// TestCronResultIsUTCWhateverTheInputZone: callers store the result as
// timestamptz and compare it with other UTC times; the zone of now must not
// leak into it.
func TestCronResultIsUTCWhateverTheInputZone(t *testing.T) {
	t.Parallel()
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 6, 1, 9, 0, 0, 0, tokyo) // 00:00Z
	tm := Timing{Type: ScheduleCron, CronExpr: "0 12 * * *", Timezone: "Europe/Berlin"}
	got, err := tm.NextAfter(now, now)
	if err != nil {
		t.Fatal(err)
	}
	if got.Location() != time.UTC {
		t.Errorf("result location %v, want UTC", got.Location())
	}
	if want := mustUTC(t, "2026-06-01T10:00:00Z"); !got.Equal(want) {
		t.Errorf("next = %s, want %s (12:00 CEST)", got, want)
	}
}

func TestCronNextAfterErrors(t *testing.T) {
	t.Parallel()
	now := mustUTC(t, "2026-06-01T00:00:00Z")
	cases := []struct {
		name string
		tm   Timing
		want string
	}{
		{"never fires", Timing{Type: ScheduleCron, CronExpr: "0 0 30 2 *", Timezone: "UTC"}, "never fires"},
		{"bad expression", Timing{Type: ScheduleCron, CronExpr: "every day", Timezone: "UTC"}, "invalid cron expression"},
		{"empty expression", Timing{Type: ScheduleCron, Timezone: "UTC"}, "required"},
		{"unknown zone", Timing{Type: ScheduleCron, CronExpr: "@daily", Timezone: "Europe/Atlantis"}, "unknown IANA time zone"},
		{"local zone", Timing{Type: ScheduleCron, CronExpr: "@daily", Timezone: "Local"}, "not Local"},
		{"zero interval", Timing{Type: ScheduleInterval}, "positive"},
		{"negative interval", Timing{Type: ScheduleInterval, IntervalMinutes: -5}, "positive"},
	}
	for _, c := range cases {
		got, err := c.tm.NextAfter(now, now)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: next %v, error %v, want an error containing %q", c.name, got, err, c.want)
		}
		if !got.IsZero() {
			t.Errorf("%s: a failed computation returned a time %v", c.name, got)
		}
	}
}

func TestNonRecurringSchedulesHaveNoNextSlot(t *testing.T) {
	t.Parallel()
	now := mustUTC(t, "2026-06-01T00:00:00Z")
	for _, typ := range []ScheduleType{ScheduleOneShot, "", "weekly"} {
		// Stray interval or cron fields on a one-shot schedule are ignored.
		tm := Timing{Type: typ, IntervalMinutes: 5, CronExpr: "* * * * *"}
		got, err := tm.NextAfter(now, now)
		if err != nil || !got.IsZero() {
			t.Errorf("type %q: next = %v, %v; want zero time, no error", typ, got, err)
		}
	}
}

func TestIntervalNextAfter(t *testing.T) {
	t.Parallel()
	anchor := mustUTC(t, "2026-03-28T12:00:00Z")
	cases := []struct {
		name    string
		minutes int
		now     time.Time
		want    time.Time
	}{
		{"before the anchor the first slot is one step on", 60, anchor.Add(-10 * time.Minute), anchor.Add(time.Hour)},
		{"at the anchor", 60, anchor, anchor.Add(time.Hour)},
		{"one nanosecond before a slot", 60, anchor.Add(time.Hour - 1), anchor.Add(time.Hour)},
		{"exactly on a later slot", 60, anchor.Add(3 * time.Hour), anchor.Add(4 * time.Hour)},
		{"a year of missed minutes collapses", 1, anchor.Add(365*24*time.Hour + 30*time.Second), anchor.Add(365*24*time.Hour + time.Minute)},
		{"odd step keeps the grid", 7, anchor.Add(100 * time.Minute), anchor.Add(105 * time.Minute)},
		// Intervals are real elapsed time: a daily interval across Berlin's
		// spring-forward night is 24 h, so its wall time moves an hour.
		{"daily across DST is 24 real hours", 1440, anchor.Add(time.Hour), anchor.Add(24 * time.Hour)},
		{"ten years", 525600 * 10, anchor.Add(time.Minute), anchor.Add(525600 * 10 * time.Minute)},
	}
	for _, c := range cases {
		tm := Timing{Type: ScheduleInterval, IntervalMinutes: c.minutes, Timezone: "Europe/Berlin"}
		got, err := tm.NextAfter(anchor, c.now)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if !got.Equal(c.want) {
			t.Errorf("%s: next = %s, want %s", c.name, got, c.want)
		}
	}
}

// TestIntervalGridProperties checks, over many anchor/now pairs, the three
// promises of interval schedules: the next slot is in the future, it is on the
// anchor's grid, and no grid point in the future is skipped.
func TestIntervalGridProperties(t *testing.T) {
	t.Parallel()
	anchor := mustUTC(t, "2026-01-01T00:00:00Z").Add(1234 * time.Millisecond)
	for _, minutes := range []int{1, 5, 7, 60, 1440} {
		step := time.Duration(minutes) * time.Minute
		for _, off := range []time.Duration{0, time.Nanosecond, step - time.Nanosecond, step, 3*step + 17*time.Second, 1000*step + 1} {
			now := anchor.Add(off)
			next, err := Timing{Type: ScheduleInterval, IntervalMinutes: minutes}.NextAfter(anchor, now)
			if err != nil {
				t.Fatal(err)
			}
			if !next.After(now) {
				t.Errorf("step %v, now anchor+%v: next %s not after now", step, off, next)
			}
			if next.Sub(now) > step {
				t.Errorf("step %v, now anchor+%v: next %s skips a grid point", step, off, next)
			}
			if d := next.Sub(anchor); d%step != 0 {
				t.Errorf("step %v, now anchor+%v: next %s off the grid by %v", step, off, next, d%step)
			}
		}
	}
}

func TestTimingValidationMessages(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		tm    Timing
		field string
		msg   string
	}{
		{"interval over ten years", Timing{Type: ScheduleInterval, IntervalMinutes: 525600*10 + 1}, "interval_minutes", "ten years"},
		{"negative interval", Timing{Type: ScheduleInterval, IntervalMinutes: -1}, "interval_minutes", "positive"},
		{"zone inside the cron expression", Timing{Type: ScheduleCron, CronExpr: "TZ=Europe/Berlin 0 3 * * *"}, "cron_expr", "timezone field"},
		{"CRON_TZ inside the cron expression", Timing{Type: ScheduleCron, CronExpr: "CRON_TZ=UTC 0 3 * * *"}, "cron_expr", "timezone field"},
		{"seconds field", Timing{Type: ScheduleCron, CronExpr: "0 0 3 * * *"}, "cron_expr", "invalid cron expression"},
		{"Local is not a zone", Timing{Type: ScheduleOneShot, Timezone: "Local"}, "timezone", "IANA"},
		{"zone checked for every type", Timing{Type: ScheduleInterval, IntervalMinutes: 5, Timezone: "Nowhere/Land"}, "timezone", "unknown IANA time zone"},
		{"empty type", Timing{}, "schedule_type", "one_shot, interval, cron"},
	}
	for _, c := range cases {
		errs := c.tm.Validate()
		if !strings.Contains(errs[c.field], c.msg) {
			t.Errorf("%s: errors %v, want %s containing %q", c.name, errs, c.field, c.msg)
		}
	}
	// Several bad fields are all reported at once.
	errs := Timing{Type: ScheduleCron, CronExpr: "nope", Timezone: "Nowhere/Land"}.Validate()
	if len(errs) != 2 || errs["cron_expr"] == "" || errs["timezone"] == "" {
		t.Errorf("cron and zone both bad: %v", errs)
	}
	// Exactly ten years is still allowed.
	if errs := (Timing{Type: ScheduleInterval, IntervalMinutes: 525600 * 10}).Validate(); len(errs) != 0 {
		t.Errorf("ten-year interval rejected: %v", errs)
	}
}

func TestLoadLocation(t *testing.T) {
	t.Parallel()
	if loc, err := LoadLocation(""); err != nil || loc != time.UTC {
		t.Errorf(`LoadLocation("") = %v, %v; want UTC`, loc, err)
	}
	loc, err := LoadLocation("America/New_York")
	if err != nil || loc.String() != "America/New_York" {
		t.Errorf("LoadLocation(America/New_York) = %v, %v", loc, err)
	}
	for _, bad := range []string{"Local", "../../etc/passwd", "Europe/Berlin ", "europe/berlin"} {
		if loc, err := LoadLocation(bad); err == nil {
			t.Errorf("LoadLocation(%q) = %v, want an error", bad, loc)
		}
	}
}
