package scheduler_test

import (
	"testing"
	"time"

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

// A replica started onto a backlog refreshes the statistics before its first
// claim: the claim's plan depends on them (without, a claim reads every
// pending job), so the backlog must not be claimed on those of empty tables.
func TestStatisticsRefreshedBeforeTheFirstClaim(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	ids := launchNoop(t, st, 3)
	testenv.BurstRuns(t, st, 5000)
	r := startReplica(t, st, "a", tasks.Registry{"noop": tasks.Noop()}, nil)
	if !waitMaintained(t, r, "statistics") {
		t.Fatal("the only replica did not get the statistics lock")
	}
	waitFor(t, 30*time.Second, "the launches to finish", func() bool {
		return countWhere(t, st, "runs WHERE id = ANY(?) AND status = 'completed'", store.Int64s(ids)) == len(ids)
	}, flushed(r)...)
	var before bool
	if err := testenv.SQL(t, st).Raw(`SELECT (SELECT last_analyze FROM pg_stat_user_tables WHERE relid = 'runs'::regclass)
			< (SELECT min(started_at) FROM jobs WHERE run_id = ANY(?))`, store.Int64s(ids)).Scan(&before).Error; err != nil {
		t.Fatal(err)
	}
	if !before {
		t.Fatal("the launches started before runs was analysed")
	}
}
