package scheduler

import (
	"context"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/cyberbrain/cyberbrain/pkg/domain"
	"github.com/cyberbrain/cyberbrain/pkg/metrics"
	"github.com/cyberbrain/cyberbrain/pkg/store"
	"github.com/cyberbrain/cyberbrain/pkg/tasks"
)

const maxFinishBatch = 200

type finishItem struct {
	ex     *execution
	finish store.Finish
}

// finish queues an attempt's end; the completer writes it. The job stays in
// the running map (and keeps heartbeating) until it is written.
func (s *Scheduler) finish(ex *execution, f store.Finish, _ *tasks.Result) {
	f.JobID, f.Attempt = ex.job.ID, ex.job.Attempt
	s.finishes <- finishItem{ex: ex, finish: f}
}

// complete writes queued finishes in batches: it blocks for the first, takes
// whatever else is already queued (up to maxFinishBatch) and writes them in
// one transaction — low latency when idle, batching under load.
func (s *Scheduler) complete() {
	defer s.completer.Done()
	for first := range s.finishes {
		batch := []finishItem{first}
	drain:
		for len(batch) < maxFinishBatch {
			select {
			case it, ok := <-s.finishes:
				if !ok {
					break drain
				}
				batch = append(batch, it)
			default:
				break drain
			}
		}
		s.writeBatch(batch)
	}
}

func (s *Scheduler) writeBatch(batch []finishItem) {
	fs := make([]store.Finish, len(batch))
	for i, it := range batch {
		fs[i] = it.finish
	}
	var res *store.FinishResult
	for attempt := 0; ; attempt++ {
		for s.paused.Load() && !s.killed.Load() {
			time.Sleep(10 * time.Millisecond)
		}
		if s.killed.Load() {
			return
		}
		var err error
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		res, err = s.st.FinishJobs(ctx, s.cfg.Claimant, fs)
		cancel()
		if err == nil {
			break
		}
		// The database is unreachable: keep the results and try again; the
		// leases (heartbeats continue) protect the jobs meanwhile.
		s.log.Error("writing job results failed; retrying", zap.Error(err), zap.Int("jobs", len(fs)))
		time.Sleep(min(time.Duration(attempt+1)*200*time.Millisecond, 5*time.Second))
	}
	s.report(batch, res)
}

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
			metrics.JobFinished(a.TaskType, metrics.OutcomeFailed, time.Since(it.ex.started))
		} else {
			metrics.JobFinished(a.TaskType, string(a.Status), time.Since(it.ex.started))
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
	}
	for k, it := range byKey {
		if !accepted[k] { // lease lost: the result was not written
			s.drop(it.ex, errLeaseLost)
		}
	}
	for _, r := range res.Runs {
		if r.Status.Terminal() {
			s.log.Info(fmt.Sprintf("Run %d finished with status: %s", r.ID, r.Status), zap.Int64("run_id", r.ID))
		}
	}
}
