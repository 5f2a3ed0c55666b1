package scheduler

import (
	"context"

	"go.uber.org/zap"
)

// heartbeat renews the leases of every job this replica executes, every
// ClaimTTL/3, in one statement; it stops jobs whose run was cancelled and
// jobs whose lease is gone (without writing anything for them). It runs
// until the execution context ends, after the last job's end is written.
func (s *Scheduler) heartbeat() {
	every := s.cfg.ClaimTTL / 3
	next := s.cfg.Clock.Now().Add(every)
	for {
		t := s.cfg.Clock.NewTimer(next.Sub(s.cfg.Clock.Now()))
		select {
		case <-s.execCtx.Done():
			t.Stop()
			return
		case <-t.C():
		}
		// A fixed cadence, as a ticker's: a slow beat does not push the
		// next one back, and missed beats are skipped, not bunched.
		next = next.Add(every)
		if now := s.cfg.Clock.Now(); next.Before(now) {
			next = now.Add(every)
		}
		if s.paused.Load() {
			continue
		}
		s.beat()
	}
}

func (s *Scheduler) beat() {
	s.mu.Lock()
	jobs := make(map[int64]int, len(s.running))
	for id, ex := range s.running {
		jobs[id] = ex.job.Attempt
	}
	s.mu.Unlock()
	if len(jobs) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(s.execCtx, s.cfg.ClaimTTL/3)
	defer cancel()
	res, err := s.st.Heartbeat(ctx, s.cfg.Claimant, s.cfg.ClaimTTL, jobs)
	if err != nil {
		if s.execCtx.Err() == nil {
			s.log.Error("heartbeat failed", zap.Error(err), zap.Int("jobs", len(jobs)))
		}
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	// Only the attempts this beat was about: a newer attempt of the same job
	// may have started meanwhile.
	for _, id := range res.Cancel {
		if ex := s.running[id]; ex != nil && ex.job.Attempt == jobs[id] {
			ex.cancel(errCancelled)
		}
	}
	for _, id := range res.Lost {
		if ex := s.running[id]; ex != nil && ex.job.Attempt == jobs[id] {
			ex.cancel(errLeaseLost)
		}
	}
}
