package scheduler

// SetAfterClaim installs a hook that runs between a claim's commit and its
// hand-off.
func (s *Scheduler) SetAfterClaim(f func()) { s.afterClaim.Store(&f) }
