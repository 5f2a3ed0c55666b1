package scheduler

import (
	"context"
	"time"

	"go.uber.org/zap"
)

// heartbeat renews the leases of every job this replica executes, every
// ClaimTTL/3, in one statement; it stops jobs whose run was cancelled and
// jobs whose lease is gone (without writing anything for them).
func (s *Scheduler) heartbeat(ctx context.Context) {
	t := time.NewTicker(s.cfg.ClaimTTL / 3)
	defer t.Stop()
	for {
		select {
		case <-s.execCtx.Done():
			return
		case <-t.C:
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
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.ClaimTTL/3)
	defer cancel()
	res, err := s.st.Heartbeat(ctx, s.cfg.Claimant, s.cfg.ClaimTTL, jobs)
	if err != nil {
		s.log.Error("heartbeat failed", zap.Error(err), zap.Int("jobs", len(jobs)))
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
