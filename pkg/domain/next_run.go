package domain

import (
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// cronParser accepts the standard five fields plus descriptors (@daily, @every 5m…).
var cronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// Timing is the part of a schedule that decides when it fires.
type Timing struct {
	Type            ScheduleType
	IntervalMinutes int
	CronExpr        string
	Timezone        string
}

// MinSchedulePeriod is the shortest period of every schedule type: an
// interval is whole minutes, five cron fields cannot fire more often, and
// @every descriptors are held to the same floor (@every 1s would create a
// run a second).
const MinSchedulePeriod = time.Minute

// Validate checks the timing fields and returns a message per bad field.
func (t Timing) Validate() map[string]string {
	errs := map[string]string{}
	switch t.Type {
	case ScheduleOneShot:
	case ScheduleInterval:
		if t.IntervalMinutes <= 0 {
			errs["interval_minutes"] = "must be a positive number of minutes for an interval schedule"
		} else if t.IntervalMinutes > 525600*10 {
			errs["interval_minutes"] = "must be at most ten years"
		}
	case ScheduleCron:
		if _, err := cronSchedule(t.CronExpr); err != nil {
			errs["cron_expr"] = err.Error()
		}
	default:
		errs["schedule_type"] = "must be one of one_shot, interval, cron"
	}
	if _, err := LoadLocation(t.Timezone); err != nil {
		errs["timezone"] = err.Error()
	}
	return errs
}

// ParseCron parses a five-field cron expression or a descriptor such as @daily.
func ParseCron(expr string) (cron.Schedule, error) {
	expr = strings.TrimSpace(expr)
	if expr == "" {
		return nil, fmt.Errorf("cron expression is required for a cron schedule")
	}
	if strings.HasPrefix(expr, "TZ=") || strings.HasPrefix(expr, "CRON_TZ=") {
		return nil, fmt.Errorf("put the time zone in the timezone field, not in the cron expression")
	}
	s, err := cronParser.Parse(expr)
	if err != nil {
		return nil, fmt.Errorf("invalid cron expression %q: %v", expr, err)
	}
	return s, nil
}

// cronSchedule is ParseCron plus the minimum period, so a schedule that
// would not validate has no next slot either.
func cronSchedule(expr string) (cron.Schedule, error) {
	spec, err := ParseCron(expr)
	if err != nil {
		return nil, err
	}
	if every, ok := spec.(cron.ConstantDelaySchedule); ok && every.Delay < MinSchedulePeriod {
		return nil, fmt.Errorf("fires every %s: the shortest period of any schedule is %s (@every 1m)", every.Delay, MinSchedulePeriod)
	}
	return spec, nil
}

// LoadLocation loads an IANA time zone; empty means UTC.
func LoadLocation(name string) (*time.Location, error) {
	if name == "" {
		return time.UTC, nil
	}
	if name == "Local" {
		return nil, fmt.Errorf("timezone must be an IANA name such as Europe/Berlin, not Local")
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("unknown IANA time zone %q", name)
	}
	return loc, nil
}

// NextAfter returns the first slot of the schedule strictly after now.
//
// Interval schedules stay on the grid anchored at anchor (the slot that just
// fired, or the creation time), so they never drift with the tick time, and
// missed slots collapse: the result is the first grid point in the future.
// Cron schedules are evaluated on the wall clock of the schedule's time zone:
// a slot inside a DST gap (02:30 on the spring-forward day) fires at the first
// instant after the gap, and a wall time that occurs twice (fall-back) fires
// once. One-shot schedules have no next slot (zero time).
func (t Timing) NextAfter(anchor, now time.Time) (time.Time, error) {
	switch t.Type {
	case ScheduleInterval:
		if t.IntervalMinutes <= 0 {
			return time.Time{}, fmt.Errorf("interval_minutes must be positive")
		}
		step := time.Duration(t.IntervalMinutes) * time.Minute
		next := anchor.Add(step)
		if !next.After(now) {
			k := now.Sub(anchor)/step + 1
			next = anchor.Add(k * step)
		}
		return next, nil
	case ScheduleCron:
		return t.nextCron(now)
	default:
		return time.Time{}, nil
	}
}

func (t Timing) nextCron(after time.Time) (time.Time, error) {
	spec, err := cronSchedule(t.CronExpr)
	if err != nil {
		return time.Time{}, err
	}
	loc, err := LoadLocation(t.Timezone)
	if err != nil {
		return time.Time{}, err
	}
	// Walk wall-clock slots (represented as UTC times) until one maps to an
	// instant after `after`.
	wall := wallClock(after.In(loc))
	for i := 0; i < 1000; i++ {
		wall = spec.Next(wall)
		if wall.IsZero() {
			return time.Time{}, fmt.Errorf("cron expression %q never fires", t.CronExpr)
		}
		for _, inst := range instantsOf(wall, loc) {
			if inst.After(after) {
				return inst.UTC(), nil
			}
		}
	}
	return time.Time{}, fmt.Errorf("cron expression %q: no slot found", t.CronExpr)
}

// wallClock returns the wall-clock reading of t as a UTC time.
func wallClock(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)
}

// zoneSpan bounds how far an instant may lie from its wall-clock reading
// read as UTC: real offsets stay within about ±16 h (including historical
// local mean times), so every instant naming a wall time, and every gap
// hiding one, lies within this span of it.
const zoneSpan = 26 * time.Hour

// instantsOf maps a wall-clock reading to the instants it names in loc, in
// order: none inside a DST gap (then the first instant after the gap is
// returned), two for a time repeated by a fall-back.
//
// It walks the zone's actual periods (ZoneBounds) around the reading rather
// than probing fixed offsets nearby, so gaps and repeats of any length are
// handled: Samoa skipped the whole of 2011-12-30, a 24-hour gap.
func instantsOf(wall time.Time, loc *time.Location) []time.Time {
	var out []time.Time
	limit := wall.Add(zoneSpan)
	t := wall.Add(-zoneSpan).In(loc)
	prevOff, prevEnd := 0, time.Time{}
	for first := true; ; first = false {
		_, off := t.Zone()
		start, end := t.ZoneBounds()
		// A wall time belongs to this period's offset when converting back
		// with it lands inside the period.
		inst := time.Unix(wall.Unix()-int64(off), int64(wall.Nanosecond())).In(loc)
		if wallClock(inst).Equal(wall) && (len(out) == 0 || !out[len(out)-1].Equal(inst)) {
			out = append(out, inst)
		}
		// A jump forward at start skipped the wall readings
		// [start+prevOff, start+off): a wall time there is in the gap.
		if !first && len(out) == 0 && start.Equal(prevEnd) && off > prevOff {
			gapFrom := start.Add(time.Duration(prevOff) * time.Second)
			gapTo := start.Add(time.Duration(off) * time.Second)
			w := time.Unix(wall.Unix(), int64(wall.Nanosecond()))
			if !w.Before(gapFrom) && w.Before(gapTo) {
				// Inside a gap: the clock jumped over this reading; fire at the jump.
				return []time.Time{start}
			}
		}
		if end.IsZero() || end.After(limit) {
			break
		}
		prevOff, prevEnd, t = off, end, end
	}
	if len(out) == 0 {
		// Not reached for real zone data; fall back to the reading read
		// with the offset in force near it rather than returning nothing.
		return []time.Time{time.Date(wall.Year(), wall.Month(), wall.Day(), wall.Hour(), wall.Minute(), wall.Second(), wall.Nanosecond(), loc)}
	}
	// Periods are walked in time order, so out is sorted; a repeated wall
	// time fires once: at its first occurrence.
	return out[:1]
}
