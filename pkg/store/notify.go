package store

import (
	"context"
	"database/sql"
	"sync"
	"time"

	"github.com/cyberbrain/cyberbrain/pkg/domain"
)

// Wake tells the schedulers (NOTIFY cyberbrain_wake) that there is work:
// a launch, a run-now, finished jobs. It is called after the caller's commit
// and never blocks.
func (s *Store) Wake() { s.notifier.wake() }

// notifier sends the store's wake-ups from one goroutine, started by Open
// and stopped (and waited for) by Close. Wake-ups coalesce: many launches in
// flight cost one NOTIFY, and no transaction holds Postgres' global notify
// lock at commit (which would serialise every launch).
type notifier struct {
	db   *sql.DB
	ch   chan struct{}
	done chan struct{}
	wg   sync.WaitGroup
}

func startNotifier(db *sql.DB) *notifier {
	n := &notifier{db: db, ch: make(chan struct{}, 1), done: make(chan struct{})}
	n.wg.Add(1)
	go n.run()
	return n
}

func (n *notifier) wake() {
	select {
	case n.ch <- struct{}{}:
	default: // a notification is already pending: it covers this one
	}
}

func (n *notifier) run() {
	defer n.wg.Done()
	for {
		select {
		case <-n.done:
			return
		case <-n.ch:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, _ = n.db.ExecContext(ctx, "SELECT pg_notify($1, 'wake')", domain.WakeChannel)
		cancel()
	}
}

// stop ends the goroutine and waits for it.
func (n *notifier) stop() {
	close(n.done)
	n.wg.Wait()
}
