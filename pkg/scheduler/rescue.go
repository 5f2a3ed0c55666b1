package scheduler

import (
	"context"

	"go.uber.org/zap"

	"github.com/cyberbrain/cyberbrain/pkg/metrics"
	"github.com/cyberbrain/cyberbrain/pkg/store"
)

// reportRescued logs, signals and counts rescued jobs.
func (s *Scheduler) reportRescued(rescued []store.Rescued) {
	retried := 0
	for _, r := range rescued {
		if r.Status == "pending" {
			retried++
		}
		s.TestSignals.Rescued.Signal(r.ID)
		s.log.Warn("Rescued job with an expired lease", zap.Int64("job_id", r.ID), zap.Int64("run_id", r.RunID),
			zap.String("lost_claimant", r.LostBy), zap.Int("attempt", r.Attempt), zap.String("now", string(r.Status)))
	}
	if len(rescued) > 0 {
		metrics.LeasesRescued(retried, len(rescued)-retried)
	}
}

// goClearContainers rescues expired container jobs in the background: the
// attempt's container may still run on its host (the replica died with it),
// so it is stopped and removed first, and only the jobs whose host confirmed
// that are rescued. A job whose host cannot be reached stays running with an
// expired lease, and is retried here every rescue pass: retrying it before
// would risk two containers of one job. Stopping takes up to the stop grace,
// hence not inline in the pass; one clearing at a time per replica, and
// replicas that clear the same job at once only remove it twice.
func (s *Scheduler) goClearContainers() {
	if s.cfg.Containers == nil || !s.clearing.CompareAndSwap(false, true) {
		return
	}
	s.goMaintenance(func(ctx context.Context) {
		defer s.clearing.Store(false)
		expired, err := s.st.ExpiredContainerJobs(ctx, 100)
		if err != nil {
			s.log.Error("list expired container jobs", zap.Error(err))
			return
		}
		var cleared []store.ExpiredJob
		for _, j := range expired {
			if err := s.clearJob(ctx, j); err != nil {
				s.log.Warn("Could not clear the container of a lost attempt; its job waits", zap.Int64("job_id", j.ID),
					zap.Int("attempt", j.Attempt), zap.String("lost_claimant", j.LostBy), zap.Error(err))
				continue
			}
			cleared = append(cleared, j)
		}
		rescued, err := s.st.RescueCleared(ctx, cleared, s.cfg.RetryBackoff)
		if err != nil {
			s.log.Error("rescue of cleared container jobs failed", zap.Error(err))
		}
		s.reportRescued(rescued)
	})
}

func (s *Scheduler) clearJob(ctx context.Context, j store.ExpiredJob) error {
	if j.WorkerHostID == nil {
		return nil // never routed to a host: no container can exist
	}
	host, err := s.st.GetWorkerHost(ctx, *j.WorkerHostID)
	if err != nil {
		return err
	}
	return s.cfg.Containers.Clear(ctx, host, j.ID)
}
