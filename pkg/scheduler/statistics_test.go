package scheduler_test

import (
	"testing"

	"gorm.io/gorm"

	"github.com/cyberbrain/cyberbrain/pkg/scheduler"
	"github.com/cyberbrain/cyberbrain/pkg/store"
	"github.com/cyberbrain/cyberbrain/pkg/tasks"
	"github.com/cyberbrain/cyberbrain/pkg/testenv"
)

// insertRuns writes n pending runs in one transaction whose backend flushes
// its statistics counters before the commit returns (otherwise up to a
// second later).
func insertRuns(t *testing.T, st *store.Store, n int) {
	t.Helper()
	err := testenv.SQL(t, st).Transaction(func(tx *gorm.DB) error {
		if err := tx.Exec(`INSERT INTO runs (status) SELECT 'pending' FROM generate_series(1, ?)`, n).Error; err != nil {
			return err
		}
		return tx.Exec(`SELECT pg_stat_force_next_flush()`).Error
	})
	if err != nil {
		t.Fatal(err)
	}
}

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
	insertRuns(t, st, 5000)
	clock := scheduler.NewFakeClock(t)
	r := startReplica(t, st, "a", tasks.Registry{"noop": tasks.Noop()}, func(c *scheduler.Config) { c.Clock = clock })
	if !waitMaintained(t, r, "statistics") {
		t.Fatal("the only replica did not get the statistics lock")
	}
	if n := analyzeCount(t, st); n != 1 {
		t.Fatalf("runs analysed %d times after the first burst, want 1", n)
	}

	insertRuns(t, st, 5000)
	clock.Advance(scheduler.StatisticsEvery)
	r.Nudge()
	if !waitMaintained(t, r, "statistics") {
		t.Fatal("the only replica did not get the statistics lock")
	}
	if n := analyzeCount(t, st); n != 2 {
		t.Fatalf("runs analysed %d times after the second burst, want 2", n)
	}
}
