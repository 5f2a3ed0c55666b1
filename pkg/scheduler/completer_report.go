package scheduler

import (
	"context"
	"fmt"

	"go.uber.org/zap"

	"github.com/cyberbrain/cyberbrain/pkg/domain"
	"github.com/cyberbrain/cyberbrain/pkg/metrics"
	"github.com/cyberbrain/cyberbrain/pkg/store"
)

// report logs and counts what a written batch did.
func (s *Scheduler) report(batch []finishItem, res *store.FinishResult) {
	// Keyed by job and attempt: a batch may hold a stale attempt's end
	// beside a newer attempt's of the same job.
	type key struct {
		id      int64
		attempt int
	}
	byKey := make(map[key]finishItem, len(batch))
	for _, it := range batch {
		byKey[key{it.ex.job.ID, it.ex.job.Attempt}] = it
	}
	accepted := make(map[key]bool, len(res.Accepted))
	for _, a := range res.Accepted {
		k := key{a.ID, a.Attempt}
		accepted[k] = true
		it := byKey[k]
		log := it.ex.log
		if a.Status == domain.StatusPending {
			metrics.JobRetried(a.TaskType)
			metrics.JobFinished(a.TaskType, metrics.OutcomeFailed, s.since(it.ex.started))
		} else {
			metrics.JobFinished(a.TaskType, string(a.Status), s.since(it.ex.started))
		}
		if a.Status == domain.StatusPending {
			log.Warn(fmt.Sprintf("Job %d attempt %d failed, retrying: %s", a.ID, a.Attempt, it.finish.Error),
				zap.Int64("retry_in_ms", it.finish.RetryInMS))
		} else {
			fields := []zap.Field{zap.Int("attempt", a.Attempt)}
			if it.finish.Error != "" {
				fields = append(fields, zap.String("error", it.finish.Error))
			}
			log.Info(fmt.Sprintf("Job %d finished with status: %s", a.ID, a.Status), fields...)
		}
		s.forget(it.ex)
		s.TestSignals.Finished.Signal(FinishedSignal{JobID: a.ID, Attempt: a.Attempt, Status: a.Status})
	}
	for k, it := range byKey {
		if !accepted[k] { // lease lost: the result was not written
			s.drop(it.ex, errLeaseLost)
		}
	}
	if res.MayNotify && s.deliverer != nil {
		s.deliverer.Nudge() // send what the batch enqueued now, not at the next poll
	}
	for _, r := range res.Runs {
		if r.Status.Terminal() {
			s.log.Info(fmt.Sprintf("Run %d finished with status: %s", r.ID, r.Status), zap.Int64("run_id", r.ID))
		}
	}
}

// abandon forgets a batch the completer gave up on: its heartbeats stop, so
// its leases expire and rescue retries the jobs (recorded lost).
func (s *Scheduler) abandon(batch []finishItem, err error) {
	for _, it := range batch {
		metrics.JobFinished(it.ex.job.TaskType, metrics.OutcomeLost, s.since(it.ex.started))
		it.ex.log.Warn(fmt.Sprintf("Job %d result not written; left to lease expiry and rescue", it.ex.job.ID),
			zap.Int("attempt", it.ex.job.Attempt), zap.Error(err))
		s.forget(it.ex)
	}
}

// newCompleter wires the replica's completer to its store and state.
func (s *Scheduler) newCompleter() *completer {
	return &completer{
		in:    make(chan finishItem, 4096),
		clock: s.cfg.Clock,
		log:   s.log,
		retry: completeRetry{MaxTries: s.cfg.CompleteTries, GiveUpAfter: s.cfg.CompleteGiveUp},
		write: func(ctx context.Context, fs []store.Finish) (*store.FinishResult, error) {
			return s.completions.FinishJobs(ctx, s.cfg.Claimant, fs)
		},
		written: s.report,
		abandon: s.abandon,
		paused:  s.paused.Load,
		flushed: &s.TestSignals.Flushed,
	}
}
