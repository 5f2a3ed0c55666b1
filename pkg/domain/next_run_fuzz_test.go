package domain

import (
	"testing"
	"time"
)

var fuzzZones = []string{"", "UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe",
	"America/Santiago", "Antarctica/Troll", "Asia/Kolkata", "Pacific/Chatham", "Bogus/Zone"}

// fuzzTime maps an arbitrary integer onto 1971–2100, where schedules live.
func fuzzTime(v int64) time.Time {
	const span = int64(130 * 365 * 24 * 3600)
	s := v % span
	if s < 0 {
		s += span
	}
	return time.Unix(365*24*3600+s, 0).UTC()
}

// FuzzCronNextAfter: any cron text in any zone either fails validation and
// NextAfter, or yields a slot strictly after now; it never panics or returns a
// slot in the past (which would make the scheduler fire in a loop).
func FuzzCronNextAfter(f *testing.F) {
	for _, seed := range []struct {
		expr string
		zone uint8
		now  int64
	}{
		{"30 2 * * *", 2, 1774742400}, {"0 * * * *", 3, 1773036000}, {"*/15 * * * *", 4, 1775300000},
		{"@every 90m", 5, 1757130000}, {"0 0 30 2 *", 1, 0}, {"TZ=UTC 0 0 * * *", 0, 0},
		{"59 23 31 12 *", 6, 1790000000}, {"@yearly", 8, -1}, {"5-10/2 1,2 * jan-mar mon", 7, 99},
	} {
		f.Add(seed.expr, seed.zone, seed.now)
	}
	f.Fuzz(func(t *testing.T, expr string, zone uint8, nowSec int64) {
		tm := Timing{Type: ScheduleCron, CronExpr: expr, Timezone: fuzzZones[int(zone)%len(fuzzZones)]}
		now := fuzzTime(nowSec)
		valid := len(tm.Validate()) == 0
		next, err := tm.NextAfter(now, now)
		if err != nil {
			if !next.IsZero() {
				t.Fatalf("error %v with a time %v", err, next)
			}
			return
		}
		if !valid {
			t.Fatalf("%+v fails validation but NextAfter gave %v", tm, next)
		}
		if !next.After(now) {
			t.Fatalf("%+v: next %v is not after now %v", tm, next, now)
		}
		if next.Location() != time.UTC {
			t.Fatalf("%+v: next in %v, want UTC", tm, next.Location())
		}
	})
}

// FuzzIntervalNextAfter: the next slot of an interval schedule is in the
// future, on the anchor's grid, and skips no grid point.
func FuzzIntervalNextAfter(f *testing.F) {
	f.Add(15, int64(1774742400), int64(1774742407))
	f.Add(1, int64(0), int64(1<<40))
	f.Add(5256000, int64(1774742400), int64(1774742400))
	f.Add(7, int64(1774742400), int64(1774700000))
	f.Fuzz(func(t *testing.T, minutes int, anchorSec, nowSec int64) {
		if minutes <= 0 || minutes > 525600*10 {
			if minutes <= 0 {
				if _, err := (Timing{Type: ScheduleInterval, IntervalMinutes: minutes}).NextAfter(time.Time{}, time.Time{}); err == nil {
					t.Fatalf("interval of %d minutes accepted", minutes)
				}
			}
			return
		}
		anchor, now := fuzzTime(anchorSec), fuzzTime(nowSec)
		step := time.Duration(minutes) * time.Minute
		next, err := Timing{Type: ScheduleInterval, IntervalMinutes: minutes}.NextAfter(anchor, now)
		if err != nil {
			t.Fatal(err)
		}
		if !next.After(now) {
			t.Fatalf("next %v not after now %v (anchor %v, step %v)", next, now, anchor, step)
		}
		if next.Sub(anchor)%step != 0 {
			t.Fatalf("next %v off the grid of %v every %v", next, anchor, step)
		}
		if now.After(anchor) && next.Sub(now) > step {
			t.Fatalf("next %v skips a grid point after now %v (step %v)", next, now, step)
		}
	})
}
