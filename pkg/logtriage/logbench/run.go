package logbench

import (
	"time"
)

// Grouper assigns each line a group key; it sees the lines of one container
// (one dataset) in order, as log_triage does.
type Grouper func(lines []string) []string

// Score is one dataset's result.
type Score struct {
	Name       string
	Lines      int
	RawAcc     float64 // on the raw lines, header and all
	MessageAcc float64 // on the message (Content) column
	Groups     int     // groups found on the raw lines
	Truth      int     // true templates
}

// Evaluate scores a grouper on each dataset, raw lines and message column.
func Evaluate(ds []Dataset, g Grouper) []Score {
	var out []Score
	for _, d := range ds {
		raw := g(d.Raw)
		msg := g(d.Content)
		out = append(out, Score{Name: d.Name, Lines: len(d.Raw), RawAcc: GroupingAccuracy(raw, d.Truth),
			MessageAcc: GroupingAccuracy(msg, d.Truth), Groups: distinct(raw), Truth: distinct(d.Truth)})
	}
	return out
}

// Average is the mean raw and message accuracy over datasets.
func Average(s []Score) (raw, msg float64) {
	if len(s) == 0 {
		return 0, 0
	}
	for _, x := range s {
		raw += x.RawAcc
		msg += x.MessageAcc
	}
	return raw / float64(len(s)), msg / float64(len(s))
}

// Throughput runs f over all raw lines of every dataset until at least min
// has passed, on the calling goroutine (one core), and returns lines/s.
func Throughput(ds []Dataset, min time.Duration, f func(lines []string)) float64 {
	lines := 0
	start := time.Now()
	for time.Since(start) < min {
		for _, d := range ds {
			f(d.Raw)
			lines += len(d.Raw)
		}
	}
	return float64(lines) / time.Since(start).Seconds()
}

func distinct(keys []string) int {
	m := map[string]struct{}{}
	for _, k := range keys {
		m[k] = struct{}{}
	}
	return len(m)
}
