package store

import (
	"context"
	"database/sql"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cyberbrain/cyberbrain/pkg/domain"
)

// Wake tells the schedulers (NOTIFY cyberbrain_wake) that there is work:
// a launch, a run-now, finished jobs. It is called after the caller's commit
// and never blocks.
func (s *Store) Wake() { s.notifier.wake() }

// RunsChanged says (NOTIFY cyberbrain_runs, after the caller's commit) that
// these runs or their jobs changed, for live views. It never blocks.
func (s *Store) RunsChanged(ids ...int64) { s.notifier.changed(ids) }

// announce says that the runs of items changed (RunsChanged with each
// item's run id).
func announce[T any](s *Store, items []T, runID func(T) int64) {
	ids := make([]int64, len(items))
	for i, it := range items {
		ids[i] = runID(it)
	}
	s.RunsChanged(ids...)
}

// maxListedRuns bounds a cyberbrain_runs payload (Postgres allows 8000
// bytes); beyond it the payload is "*", "many runs changed".
const maxListedRuns = 400

// notifier sends the store's notifications from one goroutine, started by
// Open and stopped (and waited for) by Close. They coalesce: many launches
// in flight cost one NOTIFY, and no transaction holds Postgres' global
// notify lock at commit (which would serialise every launch).
type notifier struct {
	db   *sql.DB
	ch   chan struct{}
	done chan struct{}
	wg   sync.WaitGroup

	mu      sync.Mutex
	woken   bool           // a wake-up is pending
	runs    map[int64]bool // changed runs not yet announced
	tooMany bool           // more than maxListedRuns changed
}

func startNotifier(db *sql.DB) *notifier {
	n := &notifier{db: db, ch: make(chan struct{}, 1), done: make(chan struct{}), runs: map[int64]bool{}}
	n.wg.Add(1)
	go n.run()
	return n
}

func (n *notifier) wake() {
	n.mu.Lock()
	n.woken = true
	n.mu.Unlock()
	n.signal()
}

func (n *notifier) changed(ids []int64) {
	if len(ids) == 0 {
		return
	}
	n.mu.Lock()
	for _, id := range ids {
		if len(n.runs) >= maxListedRuns {
			n.tooMany = true
			break
		}
		n.runs[id] = true
	}
	n.mu.Unlock()
	n.signal()
}

func (n *notifier) signal() {
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
		wake, runs := n.take()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		switch {
		case wake && runs != "":
			_, _ = n.db.ExecContext(ctx, "SELECT pg_notify($1, 'wake'), pg_notify($2, $3)", domain.WakeChannel, domain.RunsChannel, runs)
		case wake:
			_, _ = n.db.ExecContext(ctx, "SELECT pg_notify($1, 'wake')", domain.WakeChannel)
		case runs != "":
			_, _ = n.db.ExecContext(ctx, "SELECT pg_notify($1, $2)", domain.RunsChannel, runs)
		}
		cancel()
	}
}

// take returns and clears what is pending: the wake-up and the payload of
// changed runs ("" none, "*" too many to list).
func (n *notifier) take() (bool, string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	wake, payload := n.woken, ""
	switch {
	case n.tooMany:
		payload = "*"
	case len(n.runs) > 0:
		ids := make([]string, 0, len(n.runs))
		for id := range n.runs {
			ids = append(ids, strconv.FormatInt(id, 10))
		}
		payload = strings.Join(ids, ",")
	}
	n.woken, n.tooMany = false, false
	clear(n.runs)
	return wake, payload
}

// stop ends the goroutine and waits for it.
func (n *notifier) stop() {
	close(n.done)
	n.wg.Wait()
}
