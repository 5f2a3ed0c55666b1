package scheduler_test

import (
	"testing"
	"time"

	"github.com/cyberbrain/cyberbrain/pkg/scheduler"
	"github.com/cyberbrain/cyberbrain/pkg/store"
	"github.com/cyberbrain/cyberbrain/pkg/tasks"
	"github.com/cyberbrain/cyberbrain/pkg/testenv"
)

// anHour is a poll interval no test waits out: work found within seconds
// was found through NOTIFY (or a due time), not the poll.
const anHour = time.Hour

// launchAndTimeStart launches one noop run and returns how long until the
// replica signalled its job started.
func launchAndTimeStart(t *testing.T, st *store.Store, r *replica) time.Duration {
	t.Helper()
	begin := time.Now()
	runID := launchNoop(t, st, 1)[0]
	jobID := r.TestSignals.Started.WaitOrTimeout()
	took := time.Since(begin)
	if j := jobOfRun(t, st, runID); j.ID != jobID {
		t.Fatalf("started job %d, want the launched run's job %d", jobID, j.ID)
	}
	return took
}

// listeners counts this database's connections that issued LISTEN.
func listeners(t *testing.T, st *store.Store) int {
	t.Helper()
	return countWhere(t, st, "pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN %'")
}

// An idle replica with an hour-long poll interval starts a launched job at
// once: the launch's NOTIFY wakes it.
func TestLaunchWakesIdleReplicaThroughNotify(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	r := startReplica(t, st, "idle", tasks.Registry{"noop": tasks.Noop()}, func(c *scheduler.Config) { c.Interval = anHour })
	r.TestSignals.Listening.WaitOrTimeout()
	for i := range 2 { // the second launch finds the replica idle after work
		if took := launchAndTimeStart(t, st, r); took > 2*time.Second {
			t.Fatalf("launch %d started %s after it was made; the poll interval is %s", i+1, took, anHour)
		}
		if f := r.TestSignals.Finished.WaitOrTimeout(); f.Status != "completed" {
			t.Fatalf("job finished %+v", f)
		}
	}
}

// When its LISTEN connection is cut, a replica reconnects and launches wake
// it again (a notification sent while it was away is not lost: it runs a
// pass on reconnecting).
func TestListenerReconnectsAfterConnectionLoss(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	r := startReplica(t, st, "cut", tasks.Registry{"noop": tasks.Noop()}, func(c *scheduler.Config) { c.Interval = anHour })
	r.TestSignals.Listening.WaitOrTimeout()
	var killed int
	if err := testenv.SQL(t, st).Raw(`SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE datname = current_database() AND query LIKE 'LISTEN %'`).Scan(&killed).Error; err != nil {
		t.Fatal(err)
	}
	if killed != 1 {
		t.Fatalf("terminated %d LISTEN connections, want the replica's one", killed)
	}
	r.TestSignals.Listening.WaitOrTimeout() // back
	if took := launchAndTimeStart(t, st, r); took > 2*time.Second {
		t.Fatalf("launch after the reconnect started after %s; the poll interval is %s", took, anHour)
	}
}

// A --poll-only replica opens no LISTEN connection and still finds new work
// at its poll interval.
func TestPollOnlyReplicaFindsWorkAtItsInterval(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	const interval = 300 * time.Millisecond
	r := startReplica(t, st, "poller", tasks.Registry{"noop": tasks.Noop()}, func(c *scheduler.Config) {
		c.PollOnly = true
		c.Interval = interval
	})
	for i := range 3 { // later launches find the replica asleep: only the poll wakes it
		if took := launchAndTimeStart(t, st, r); took > 2*time.Second {
			t.Fatalf("launch %d started %s after it was made; the poll interval is %s", i+1, took, interval)
		}
		if f := r.TestSignals.Finished.WaitOrTimeout(); f.Status != "completed" {
			t.Fatalf("job finished %+v", f)
		}
	}
	if n := listeners(t, st); n != 0 {
		t.Fatalf("a poll-only replica holds %d LISTEN connections", n)
	}
	select {
	case <-r.TestSignals.Listening.C():
		t.Fatal("a poll-only replica started listening")
	default:
	}
}
