package scheduler

import (
	"time"

	"github.com/cyberbrain/cyberbrain/pkg/scheduler/testsignal"
)

// SetAfterClaim installs a hook that runs between a claim's commit and its
// hand-off.
func (s *Scheduler) SetAfterClaim(f func()) { s.afterClaim.Store(&f) }

// SetRetentionBatches sets the runs per retention batch and a pass's budget;
// call it before Run.
func (s *Scheduler) SetRetentionBatches(batch int, budget time.Duration) {
	s.retentionBatch, s.retentionBudget = batch, budget
}

// FakeClock is a Clock that moves only when a test advances it.
type FakeClock = fakeClock

// NewFakeClock returns a fake clock at 2030-01-01 UTC.
func NewFakeClock(tb testsignal.TB) *FakeClock { return newFakeClock(tb) }
