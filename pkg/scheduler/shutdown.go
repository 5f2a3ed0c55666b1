package scheduler

import (
	"context"
	"time"

	"go.uber.org/zap"
)

// shutdown lets running jobs finish for up to ShutdownTimeout, then hands the
// rest back (pending again at once, for another replica) and stops.
func (s *Scheduler) shutdown() error {
	if s.killed.Load() {
		s.stopBackground()
		return nil
	}
	if n := s.Running(); n > 0 {
		s.log.Info("Scheduler stopping: waiting for running jobs", zap.Int("jobs", n), zap.Duration("timeout", s.cfg.ShutdownTimeout))
	}
	deadline := s.cfg.Clock.Now().Add(s.cfg.ShutdownTimeout)
	for s.Running() > 0 && s.cfg.Clock.Now().Before(deadline) {
		t := s.cfg.Clock.NewTimer(50 * time.Millisecond)
		select {
		case <-s.wake:
		case <-t.C():
		}
		t.Stop()
	}
	s.releaseRemaining()
	s.stopBackground()
	s.log.Info("Scheduler stopped")
	return nil
}

func (s *Scheduler) releaseRemaining() {
	s.mu.Lock()
	jobs := make(map[int64]int, len(s.running))
	for id, ex := range s.running {
		jobs[id] = ex.job.Attempt
		ex.cancel(errShutdown)
	}
	s.mu.Unlock()
	if len(jobs) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	n, err := s.st.ReleaseJobs(ctx, s.cfg.Claimant, jobs, "released: scheduler shutting down")
	if err != nil {
		s.log.Error("handing back running jobs failed; their leases will expire", zap.Error(err))
		return
	}
	s.log.Info("Handed running jobs back for another replica", zap.Int("jobs", n))
}
