package scheduler

import "github.com/cyberbrain/cyberbrain/pkg/notify"

// newDeliverer builds the replica's notification deliverer from
// Config.Notify, or returns nil. It shares the replica's claimant (so its
// leases name the replica), its logger and its Pause and Kill.
func (s *Scheduler) newDeliverer() *notify.Deliverer {
	if s.cfg.Notify == nil {
		return nil
	}
	nc := *s.cfg.Notify
	nc.Store, nc.Claimant, nc.Logger = s.st, s.cfg.Claimant, s.log
	nc.Paused = func() bool { return s.paused.Load() || s.killed.Load() }
	return notify.New(nc)
}

// Deliverer returns the replica's notification deliverer (nil when
// notifications are off), for tests to arm its signals before Run.
func (s *Scheduler) Deliverer() *notify.Deliverer { return s.deliverer }
