package scheduler

import "time"

// Clock is the scheduler's Go-side clock: cadences (heartbeats, idle
// logging, shutdown waits) and retry backoff read it, so tests can drive
// them with a fake. Leases and due times never use it: the database clock
// is the only one replicas share (see store.Now).
type Clock interface {
	Now() time.Time
	// NewTimer returns a timer that fires once, d from now.
	NewTimer(d time.Duration) Timer
}

// Timer is the part of *time.Timer the scheduler uses.
type Timer interface {
	C() <-chan time.Time
	Stop() bool
}

// RealClock is the wall clock, the default.
type RealClock struct{}

func (RealClock) Now() time.Time                 { return time.Now() }
func (RealClock) NewTimer(d time.Duration) Timer { return realTimer{time.NewTimer(d)} }

type realTimer struct{ t *time.Timer }

func (r realTimer) C() <-chan time.Time { return r.t.C }
func (r realTimer) Stop() bool          { return r.t.Stop() }

// after is time.After on the scheduler's clock, for one-off waits in a
// select; loops use NewTimer and Stop it.
func (s *Scheduler) after(d time.Duration) <-chan time.Time {
	return s.cfg.Clock.NewTimer(d).C()
}

// since is time.Since on the scheduler's clock.
func (s *Scheduler) since(t time.Time) time.Duration { return s.cfg.Clock.Now().Sub(t) }
