package cmdutil

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"time"
)

// UsageError is a wrong command line or environment value. Execute prints
// it and exits 2, the conventional status for "you called me wrongly", so
// scripts and supervisors can tell it from a runtime failure (1).
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

// Checks collects every invalid flag of a command line, so one run reports
// them all. Values are never replaced by defaults: a value out of range is
// an error, since a silently different setting is worse than none.
type Checks struct{ problems []string }

func (c *Checks) add(format string, args ...any) {
	c.problems = append(c.problems, fmt.Sprintf(format, args...))
}

// Duration requires min <= v <= max (max 0: no upper bound); why says what
// the minimum protects.
func (c *Checks) Duration(flag string, v, min, max time.Duration, why string) {
	switch {
	case v < min:
		c.add("--%s %v: must be at least %v (%s)", flag, v, min, why)
	case max > 0 && v > max:
		c.add("--%s %v: must be at most %v (%s)", flag, v, max, why)
	}
}

// Int requires min <= v <= max.
func (c *Checks) Int(flag string, v, min, max int) {
	if v < min || v > max {
		c.add("--%s %d: must be between %d and %d", flag, v, min, max)
	}
}

// Addr requires host:port (an empty value only when optional).
func (c *Checks) Addr(flag, v string, optional bool) {
	if v == "" && optional {
		return
	}
	if _, port, err := net.SplitHostPort(v); err != nil || port == "" {
		c.add("--%s %q: want host:port, e.g. 127.0.0.1:9595", flag, v)
	}
}

// OneOf requires v to be one of allowed.
func (c *Checks) OneOf(flag, v string, allowed ...string) {
	for _, a := range allowed {
		if v == a {
			return
		}
	}
	c.add("--%s %q: want one of %s", flag, v, strings.Join(allowed, ", "))
}

// Custom records a problem found by the caller.
func (c *Checks) Custom(format string, args ...any) { c.add(format, args...) }

// Err returns every problem as one UsageError, or nil.
func (c *Checks) Err() error {
	if len(c.problems) == 0 {
		return nil
	}
	return &UsageError{Err: errors.New("invalid settings:\n  " + strings.Join(c.problems, "\n  "))}
}
