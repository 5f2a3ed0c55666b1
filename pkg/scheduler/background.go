package scheduler

import (
	"context"
	"time"
)

// startBackground starts the replica's background components: the
// completer, the heartbeat and (when listen) the NOTIFY listener. They and
// maintenance workers run in s.bg, so stopBackground can wait for every
// goroutine the replica started: none outlives Run or RunOnce.
func (s *Scheduler) startBackground(ctx context.Context, listen bool) {
	s.bgCtx, s.bgCancel = context.WithCancel(ctx)
	// The completer's context is the execution context: a kill stops its
	// writes; a graceful stop drains it first (see stopBackground).
	s.completer.Start(s.execCtx)
	if s.deliverer != nil { // like the completer: a kill stops its sends and writes
		s.deliverer.Start(s.execCtx)
	}
	// Heartbeats outlive ctx: jobs still finishing after SIGTERM keep
	// their leases until execCtx ends.
	s.bg.Go(s.heartbeat)
	if listen {
		s.bg.Go(func() { s.listen(s.bgCtx) })
	}
}

// stopBackground waits for the executions, writes their ends, then ends and
// awaits every background goroutine. Order matters: the completer must see
// every end before it stops, and heartbeats must run until it has.
func (s *Scheduler) stopBackground() {
	s.execWG.Wait()
	s.completer.Stop()
	if s.deliverer != nil {
		s.deliverer.Stop()
	}
	s.execCancel(errShutdown)
	s.bgCancel()
	s.bg.Wait()
	s.claims.Release()
	s.completions.Release()
}

// goMaintenance runs fn in the background under the replica's background
// context, awaited at stop.
func (s *Scheduler) goMaintenance(fn func(ctx context.Context)) {
	ctx := s.bgCtx
	s.bg.Go(func() { fn(ctx) })
}

// idleLog limits "No due schedules found" to one line per poll interval, as
// the poll would print it.
type idleLog struct {
	every time.Duration
	last  time.Time
}

// due reports whether a line may be printed at now, and if so records it.
func (l *idleLog) due(now time.Time) bool {
	if now.Sub(l.last) < l.every {
		return false
	}
	l.last = now
	return true
}
