package scheduler_test

import (
	"sync"
	"testing"
	"time"

	"github.com/cyberbrain/cyberbrain/pkg/scheduler"
	"github.com/cyberbrain/cyberbrain/pkg/tasks"
	"github.com/cyberbrain/cyberbrain/pkg/testenv"
)

// When the replica's connections break between a claim's commit and the
// firing of the claimed slot, the schedule is released, so the slot's run
// starts at the next pass instead of waiting out the claim TTL (a minute
// here). (A launch has no such gap: ClaimDue claims and starts it in one
// statement.)
func TestBrokenConnectionAfterClaimDoesNotStrandTheSchedule(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	admin := testenv.SQL(t, st)
	var once sync.Once
	var terminated int
	r := startReplica(t, st, "r1", tasks.Registry{"noop": tasks.Noop()}, func(c *scheduler.Config) {
		c.ClaimTTL = time.Minute
	})
	r.SetAfterClaim(func() {
		once.Do(func() {
			// Every backend of this database but the fixture connection's:
			// the replica's pool and its LISTEN connection.
			admin.Raw(`SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
				WHERE datname = current_database() AND pid <> pg_backend_pid()`).Scan(&terminated)
		})
	})
	if err := admin.Exec(`INSERT INTO schedules (name, task, schedule_type, interval_minutes, next_run_at, due_at)
		VALUES ('hourly', 'noop', 'interval', 60, now() - interval '1 minute', now() - interval '1 minute')`).Error; err != nil {
		t.Fatal(err)
	}
	st.Wake() // a schedule written by SQL sends no NOTIFY of its own
	waitFor(t, 15*time.Second, "the slot's run completed", func() bool {
		return countWhere(t, st, "runs WHERE status = 'completed'") == 1
	}, flushed(r)...)
	if terminated == 0 {
		t.Fatal("the fault was not injected: no backend terminated")
	}
}
