package store

import (
	"context"
	"time"

	"github.com/cyberbrain/cyberbrain/pkg/domain"
)

// Wake tells the schedulers (NOTIFY cyberbrain_wake) that there is work:
// a launch, a run-now, finished jobs. It is called after the caller's commit.
// Notifications are sent by one goroutine per store and coalesce: many
// launches in flight cost one NOTIFY, and no transaction holds Postgres'
// global notify lock at commit (which would serialise every launch). Close
// stops the notifier goroutine and waits for it.
func (s *Store) Wake() {
	s.wakeOnce.Do(s.startNotifier)
	select {
	case s.wakeCh <- struct{}{}:
	default: // a notification is already pending: it covers this one
	}
}

func (s *Store) startNotifier() {
	s.wakeCh = make(chan struct{}, 1)
	s.wakeDone = make(chan struct{})
	s.wakeWG.Add(1)
	go func() {
		defer s.wakeWG.Done()
		for {
			select {
			case <-s.wakeDone:
				return
			case <-s.wakeCh:
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			_, _ = s.sql.ExecContext(ctx, "SELECT pg_notify($1, 'wake')", domain.WakeChannel)
			cancel()
		}
	}()
}
