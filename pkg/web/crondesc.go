package web

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// describeCron says in English when a five-field cron expression (or a
// descriptor robfig/cron accepts: @daily, @every 90m…) fires in time zone
// tz: "at 02:00 every day, Europe/Berlin", "every 15 minutes", "at 09:30 on
// Monday to Friday, UTC". The zone is left out when it cannot change the
// firing times. A shape it cannot say well (or an expression that does not
// parse) comes back as the expression itself.
func describeCron(expr, tz string) string {
	expr = strings.TrimSpace(expr)
	if tz == "" {
		tz = "UTC"
	}
	if strings.HasPrefix(expr, "@every ") {
		d, err := time.ParseDuration(strings.TrimSpace(strings.TrimPrefix(expr, "@every ")))
		if err != nil || d <= 0 {
			return expr
		}
		return "every " + cronDuration(d)
	}
	five := expr
	if d, ok := cronDescriptors[strings.ToLower(expr)]; ok {
		five = d
	}
	f := strings.Fields(five)
	if len(f) != 5 {
		return expr
	}
	var cf [5]cronField
	for i, spec := range f {
		v, ok := parseCronField(spec, cronBounds[i])
		if !ok {
			return expr
		}
		cf[i] = v
	}
	s := cronDescribeFields(cf)
	if !cronZoneFree(cf) {
		s += ", " + tz
	}
	return s
}

// cronDescriptors are robfig/cron's predefined schedules as five fields.
var cronDescriptors = map[string]string{
	"@yearly":   "0 0 1 1 *",
	"@annually": "0 0 1 1 *",
	"@monthly":  "0 0 1 * *",
	"@weekly":   "0 0 * * 0",
	"@daily":    "0 0 * * *",
	"@midnight": "0 0 * * *",
	"@hourly":   "0 * * * *",
}

// describeDuration says a positive duration in the largest whole unit.
func cronDuration(d time.Duration) string {
	switch {
	case d%(24*time.Hour) == 0:
		return cronPlural(int(d/(24*time.Hour)), "day")
	case d%time.Hour == 0:
		return cronPlural(int(d/time.Hour), "hour")
	case d%time.Minute == 0:
		return cronPlural(int(d/time.Minute), "minute")
	case d%time.Second == 0:
		return cronPlural(int(d/time.Second), "second")
	}
	return d.String()
}

func cronPlural(n int, unit string) string {
	if n == 1 {
		return unit
	}
	return strconv.Itoa(n) + " " + unit + "s"
}

// cronItem is one comma-separated part of a field: start-end/step (a single
// value has start == end).
type cronItem struct{ start, end, step int }

// cronField is a parsed field: any (*, ?) or a list of items.
type cronField struct {
	any   bool
	items []cronItem
	b     cronBound
}

type cronBound struct {
	min, max int
	names    map[string]int
}

var (
	cronMonthNames = []string{"", "January", "February", "March", "April", "May", "June", "July",
		"August", "September", "October", "November", "December"}
	cronDayNames = []string{"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"}
	cronBounds   = [5]cronBound{
		{0, 59, nil}, {0, 23, nil}, {1, 31, nil},
		{1, 12, cronAbbrevs(cronMonthNames)}, {0, 6, cronAbbrevs(cronDayNames)},
	}
)

func cronAbbrevs(names []string) map[string]int {
	m := map[string]int{}
	for i, n := range names {
		if n != "" {
			m[strings.ToLower(n[:3])] = i
		}
	}
	return m
}

// parseCronField parses one field with robfig/cron's syntax; ok is false
// for anything it does not accept (the caller then shows the expression).
func parseCronField(spec string, b cronBound) (cronField, bool) {
	f := cronField{b: b}
	if spec == "*" || spec == "?" || spec == "*/1" {
		f.any = true
		return f, true
	}
	for _, part := range strings.Split(spec, ",") {
		it, ok := parseCronItem(part, b)
		if !ok {
			return f, false
		}
		f.items = append(f.items, it)
	}
	return f, true
}

func parseCronItem(part string, b cronBound) (cronItem, bool) {
	rng, stepS, hasStep := strings.Cut(part, "/")
	it := cronItem{step: 1}
	if hasStep {
		n, err := strconv.Atoi(stepS)
		if err != nil || n <= 0 {
			return it, false
		}
		it.step = n
	}
	if rng == "*" || rng == "?" {
		it.start, it.end = b.min, b.max
		return it, true
	}
	lo, hi, isRange := strings.Cut(rng, "-")
	var ok bool
	if it.start, ok = cronValue(lo, b); !ok {
		return it, false
	}
	it.end = it.start
	switch {
	case isRange:
		if it.end, ok = cronValue(hi, b); !ok || it.end < it.start {
			return it, false
		}
	case hasStep: // "5/15" means 5-max/15
		it.end = b.max
	}
	return it, true
}

func cronValue(s string, b cronBound) (int, bool) {
	if v, ok := b.names[strings.ToLower(s)]; ok {
		return v, true
	}
	v, err := strconv.Atoi(s)
	if err != nil || v < b.min || v > b.max {
		return 0, false
	}
	return v, true
}

// singles returns the field's values when every item is one value.
func (f cronField) singles() ([]int, bool) {
	if f.any {
		return nil, false
	}
	var vs []int
	for _, it := range f.items {
		if it.start != it.end {
			return nil, false
		}
		vs = append(vs, it.start)
	}
	slices.Sort(vs)
	return slices.Compact(vs), true
}

// everyN returns n when the field is */n (or min/n, min-max/n).
func (f cronField) everyN() (int, bool) {
	if f.any {
		return 1, true
	}
	if len(f.items) == 1 {
		it := f.items[0]
		if it.start == f.b.min && it.end == f.b.max && it.step > 1 {
			return it.step, true
		}
	}
	return 0, false
}

// zoneFree says whether the firing instants are the same in every time zone
// in use: only the minute field restricts, and it is unchanged by shifting
// whole quarter hours (every zone's offset is one).
func cronZoneFree(cf [5]cronField) bool {
	for _, f := range cf[1:] {
		if !f.any {
			return false
		}
	}
	n, ok := cf[0].everyN()
	return ok && 15%n == 0
}

// describeFields composes the time part and the day part.
func cronDescribeFields(cf [5]cronField) string {
	timePart, daily := cronDescribeTime(cf[0], cf[1])
	dayPart := cronDescribeDays(cf[2], cf[3], cf[4])
	if dayPart == "every day" && !daily {
		return timePart
	}
	return timePart + " " + dayPart
}

// describeTime says when in a day the schedule fires; daily is true when it
// names clock times ("at 02:00"), which read well before "every day".
func cronDescribeTime(minute, hour cronField) (string, bool) {
	ms, mSingle := minute.singles()
	hs, hSingle := hour.singles()
	if mSingle && hSingle && len(ms)*len(hs) <= 6 {
		var times []string
		for _, h := range hs {
			for _, m := range ms {
				times = append(times, fmt.Sprintf("%02d:%02d", h, m))
			}
		}
		return "at " + cronJoinAnd(times), true
	}
	minEvery, minIsEvery := minute.everyN()
	if hour.any {
		switch {
		case minIsEvery && minEvery == 1:
			return "every minute", false
		case minIsEvery:
			return fmt.Sprintf("every %d minutes", minEvery), false
		case mSingle && len(ms) == 1 && ms[0] == 0:
			return "every hour, on the hour", false
		}
	}
	if minIsEvery && !hour.any && len(hour.items) == 1 && hour.items[0].step == 1 {
		// "*/15 9-17": a window of the day.
		it := hour.items[0]
		every := "every minute"
		if minEvery > 1 {
			every = fmt.Sprintf("every %d minutes", minEvery)
		}
		return fmt.Sprintf("%s between %02d:00 and %02d:59", every, it.start, it.end), false
	}
	if mSingle && len(ms) == 1 && ms[0] == 0 {
		if n, ok := hour.everyN(); ok && n > 1 {
			return fmt.Sprintf("every %d hours, on the hour", n), false
		}
	}
	return cronMinutePhrase(minute) + " past " + cronHourPhrase(hour), false
}

func cronMinutePhrase(f cronField) string {
	if f.any {
		return "every minute"
	}
	if vs, ok := f.singles(); ok {
		return "at " + cronPluralWord(len(vs), "minute") + " " + cronJoinAnd(cronInts(vs))
	}
	return cronListPhrase(f, "minute", strconv.Itoa)
}

func cronHourPhrase(f cronField) string {
	if f.any {
		return "every hour"
	}
	if vs, ok := f.singles(); ok {
		return cronPluralWord(len(vs), "hour") + " " + cronJoinAnd(cronInts(vs))
	}
	return cronListPhrase(f, "hour", strconv.Itoa)
}

// listPhrase says a field of ranges and steps: "every minute from 10
// through 20 and minute 45", "every 2nd hour from 9 through 17".
func cronListPhrase(f cronField, unit string, name func(int) string) string {
	var parts []string
	for _, it := range f.items {
		switch {
		case it.start == it.end:
			parts = append(parts, unit+" "+name(it.start))
		case it.step == 1:
			parts = append(parts, fmt.Sprintf("every %s from %s through %s", unit, name(it.start), name(it.end)))
		default:
			parts = append(parts, fmt.Sprintf("every %s %s from %s through %s", cronOrdinal(it.step), unit, name(it.start), name(it.end)))
		}
	}
	return cronJoinAnd(parts)
}

// describeDays says on which days: "every day", "on Monday to Friday", "on
// day 1 of the month", "on day 1 of the month or on Sunday, in January"
// (robfig/cron fires when either day field matches when both restrict).
func cronDescribeDays(dom, month, dow cronField) string {
	var s string
	switch {
	case dom.any && dow.any:
		s = "every day"
	case dow.any:
		s = "on " + cronDomPhrase(dom) + " of the month"
	case dom.any:
		s = "on " + cronNamePhrase(dow, "day of the week", func(v int) string { return cronDayNames[v] })
	default:
		s = "on " + cronDomPhrase(dom) + " of the month or on " + cronNamePhrase(dow, "day of the week", func(v int) string { return cronDayNames[v] })
	}
	if !month.any {
		sep := " "
		if s != "every day" {
			sep = ", "
		}
		s += sep + "in " + cronNamePhrase(month, "month", func(v int) string { return cronMonthNames[v] })
	}
	return s
}

func cronDomPhrase(f cronField) string {
	if vs, ok := f.singles(); ok {
		return cronPluralWord(len(vs), "day") + " " + cronJoinAnd(cronInts(vs))
	}
	if len(f.items) == 1 && f.items[0].step == 1 {
		return fmt.Sprintf("days %d to %d", f.items[0].start, f.items[0].end)
	}
	return cronListPhrase(f, "day", strconv.Itoa)
}

// namePhrase says a field of named values: "Monday to Friday", "January
// and July", "every 3rd month from January through December".
func cronNamePhrase(f cronField, unit string, name func(int) string) string {
	var parts []string
	for _, it := range f.items {
		switch {
		case it.start == it.end:
			parts = append(parts, name(it.start))
		case it.step == 1:
			parts = append(parts, name(it.start)+" to "+name(it.end))
		default:
			parts = append(parts, fmt.Sprintf("every %s %s from %s through %s", cronOrdinal(it.step), unit, name(it.start), name(it.end)))
		}
	}
	return cronJoinAnd(parts)
}

func cronPluralWord(n int, w string) string {
	if n == 1 {
		return w
	}
	return w + "s"
}

func cronInts(vs []int) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = strconv.Itoa(v)
	}
	return out
}

// joinAnd joins "a", "a and b", "a, b and c".
func cronJoinAnd(xs []string) string {
	switch len(xs) {
	case 0:
		return ""
	case 1:
		return xs[0]
	}
	return strings.Join(xs[:len(xs)-1], ", ") + " and " + xs[len(xs)-1]
}

func cronOrdinal(n int) string {
	suffix := "th"
	switch {
	case n%100 >= 11 && n%100 <= 13:
	case n%10 == 1:
		suffix = "st"
	case n%10 == 2:
		suffix = "nd"
	case n%10 == 3:
		suffix = "rd"
	}
	return strconv.Itoa(n) + suffix
}
