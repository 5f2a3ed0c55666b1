package scheduler_test

import (
	"testing"

	"github.com/cyberbrain/cyberbrain/pkg/scheduler"
	"github.com/cyberbrain/cyberbrain/pkg/store"
	"github.com/cyberbrain/cyberbrain/pkg/tasks"
	"github.com/cyberbrain/cyberbrain/pkg/testenv"
)

// analyzeCount is how many times runs was analysed by hand (not by
// autovacuum).
func analyzeCount(t *testing.T, st *store.Store) int {
	t.Helper()
	var n int
	if err := testenv.SQL(t, st).Raw(`SELECT analyze_count FROM pg_stat_user_tables WHERE relid = 'runs'::regclass`).Scan(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

// A replica refreshes the planner statistics of a table a burst rewrote at
// its first pass, and again after the next burst once the check's period
// has passed (§10).
func TestStatisticsRefreshedAfterABurst(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	testenv.BurstRuns(t, st, 5000)
	clock := scheduler.NewFakeClock(t)
	r := startReplica(t, st, "a", tasks.Registry{"noop": tasks.Noop()}, func(c *scheduler.Config) { c.Clock = clock })
	if !waitMaintained(t, r, "statistics") {
		t.Fatal("the only replica did not get the statistics lock")
	}
	if n := analyzeCount(t, st); n != 1 {
		t.Fatalf("runs analysed %d times after the first burst, want 1", n)
	}

	testenv.BurstRuns(t, st, 5000)
	clock.Advance(scheduler.StatisticsEvery)
	r.Nudge()
	if !waitMaintained(t, r, "statistics") {
		t.Fatal("the only replica did not get the statistics lock")
	}
	if n := analyzeCount(t, st); n != 2 {
		t.Fatalf("runs analysed %d times after the second burst, want 2", n)
	}
}
