package logbench

import (
	"syscall"
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

// Speed is a throughput measurement: lines per second of wall time and per
// second of the process's CPU time. On a shared, loaded machine the wall
// figure measures the neighbours; the CPU figure is lines per core-second.
type Speed struct {
	Wall float64
	CPU  float64
}

// Throughput runs f over all raw lines of every dataset until at least min
// of CPU time has been spent, on the calling goroutine, and returns the
// lines/s by wall and by CPU time (garbage collection included).
func Throughput(ds []Dataset, min time.Duration, f func(lines []string)) Speed {
	lines := 0
	start, cpu0 := time.Now(), cpuTime()
	// At least one pass: the process's CPU time also counts other
	// goroutines, which may use up min before the first pass.
	for {
		for _, d := range ds {
			f(d.Raw)
			lines += len(d.Raw)
		}
		if cpuTime()-cpu0 >= min {
			break
		}
	}
	return Speed{Wall: float64(lines) / time.Since(start).Seconds(), CPU: float64(lines) / (cpuTime() - cpu0).Seconds()}
}

// cpuTime is the user and system time the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func distinct(keys []string) int {
	m := map[string]struct{}{}
	for _, k := range keys {
		m[k] = struct{}{}
	}
	return len(m)
}
