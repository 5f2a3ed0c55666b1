package scheduler

import (
	"context"
	"time"

	"go.uber.org/zap"

	"github.com/cyberbrain/cyberbrain/pkg/store"
)

// Retention's cadence and bounds (docs/DESIGN.md §10). A replica attempts a
// retention pass every RetentionEvery — when nothing is old enough, that is
// one indexed query — and again at its next loop pass while a pass ran out
// of budget with runs left, so a backlog drains at the pruning rate.
const (
	RetentionEvery = time.Minute
	// RetentionBatch is how many runs one batch, one short transaction,
	// deletes.
	RetentionBatch = 2000
	// RetentionBudget bounds one pass: no batch starts after it is used up.
	RetentionBudget = 10 * time.Second
)

// RetentionPass prunes runs that finished more than age ago, in batches of
// batch runs (each its own transaction), until a batch comes back short, the
// budget (on clock) is used up or ctx ends. It returns how many runs it
// pruned and whether the budget ran out with runs left to prune (more).
func RetentionPass(ctx context.Context, st *store.Store, age time.Duration, clock Clock, batch int, budget time.Duration) (pruned int64, more bool, err error) {
	begin := clock.Now()
	for ctx.Err() == nil {
		n, err := st.PruneFinishedRuns(ctx, age, batch)
		pruned += n
		if err != nil || n < int64(batch) {
			return pruned, false, err
		}
		if clock.Now().Sub(begin) >= budget {
			return pruned, true, nil
		}
	}
	return pruned, false, ctx.Err()
}

// retentionDue reports whether this loop pass should start a retention pass
// at now: the first pass, every RetentionEvery, and at once after a pass that
// left a backlog.
func (s *Scheduler) retentionDue(now time.Time) bool {
	more := s.pruneMore.Swap(false)
	return s.cfg.Retention > 0 && (more || now.Sub(s.lastRetention) >= RetentionEvery)
}

// goRetention runs one retention pass in the background under the
// retention lock. When its budget ran out with runs left, it wakes the loop
// once the lock is released, so the next loop pass continues at once.
func (s *Scheduler) goRetention() {
	s.goMaintenance(func(ctx context.Context) {
		more := false
		s.exclusive(ctx, "retention", func(ctx context.Context) error {
			var err error
			more, err = s.prune(ctx)
			return err
		})
		if more && ctx.Err() == nil {
			s.pruneMore.Store(true)
			s.wakeLoop()
		}
	})
}

// prune is one retention pass; it logs one line per pass that pruned
// anything.
func (s *Scheduler) prune(ctx context.Context) (more bool, err error) {
	begin := s.cfg.Clock.Now()
	n, more, err := RetentionPass(ctx, s.st, s.cfg.Retention, s.cfg.Clock, s.retentionBatch, s.retentionBudget)
	if n > 0 {
		s.log.Info("Pruned finished runs", zap.Int64("runs", n), zap.Duration("older_than", s.cfg.Retention),
			zap.Duration("took", s.since(begin)), zap.Bool("more", more))
	}
	s.TestSignals.Pruned.Signal(PrunedSignal{Runs: n, More: more, At: begin})
	return more, err
}
