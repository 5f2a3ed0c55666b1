package scheduler

import (
	"context"
	"time"

	"go.uber.org/zap"
)

// maintain does the periodic work replicas share: rescue of expired job
// leases (SKIP LOCKED splits it), and — one replica at a time, under an
// advisory lock — retention pruning (retention.go) and worker host health
// checks. Rescue runs inline in the pass; pruning and health checks run in
// the background (they may be slow) and are awaited when the replica stops.
func (s *Scheduler) maintain(ctx context.Context) {
	if s.killed.Load() {
		return // a killed replica does nothing more (it runs after a pass's claim)
	}
	// Killed while it runs (Kill plays SIGKILL, right after the pass's claim
	// started a job, say), the rescue must not reach the database either:
	// Kill cancels execCtx, and with it the rescue's context.
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	defer context.AfterFunc(s.execCtx, stop)()
	now := s.cfg.Clock.Now()
	if now.Sub(s.lastRescue) >= s.rescueEvery() {
		s.lastRescue = now
		rescued, err := s.st.RescueExpired(ctx, 500, s.cfg.RetryBackoff)
		if err != nil && !s.killed.Load() {
			s.log.Error("rescue of expired leases failed", zap.Error(err))
		}
		s.reportRescued(rescued)
		s.goClearContainers()
	}
	if s.retentionDue(now) {
		s.lastRetention = now
		s.goRetention()
	}
	if s.cfg.HealthCheck != nil && now.Sub(s.lastHealth) >= s.cfg.HealthInterval {
		s.lastHealth = now
		s.goMaintenance(func(ctx context.Context) { s.exclusive(ctx, "host-health", s.cfg.HealthCheck) })
	}
	s.maintainStatistics(now)
}

// rescueEvery is how often a busy replica looks for expired leases.
func (s *Scheduler) rescueEvery() time.Duration { return min(time.Second, s.cfg.ClaimTTL/4) }

// exclusive runs fn unless another replica is running the same maintenance.
func (s *Scheduler) exclusive(ctx context.Context, name string, fn func(context.Context) error) {
	ran, err := s.st.TryMaintenanceLock(ctx, name, fn)
	s.maintained(ctx, name, ran, err)
}

// maintained logs a maintenance failure and signals the attempt.
func (s *Scheduler) maintained(ctx context.Context, name string, ran bool, err error) {
	if err != nil && ctx.Err() == nil {
		s.log.Error("maintenance failed", zap.String("work", name), zap.Error(err))
	}
	s.TestSignals.Maintained.Signal(MaintenanceSignal{Work: name, Ran: ran})
}
