package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/cyberbrain/cyberbrain/pkg/store"
	"github.com/cyberbrain/cyberbrain/pkg/testenv"
)

func tableStatistics(t *testing.T, st *store.Store) map[string]store.TableStatistics {
	t.Helper()
	rows, err := st.HotTableStatistics(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]store.TableStatistics{}
	for _, r := range rows {
		m[r.Table] = r
	}
	return m
}

// After a burst of rows into one table, the refresh analyses that table
// (last_analyze set, its changes since analysis back to 0) and leaves the
// quiet tables alone; a second look right after finds nothing to do.
func TestRefreshStatisticsAnalysesTablesAfterABurst(t *testing.T) {
	t.Parallel()
	st := testenv.NewStore(t)
	ctx := context.Background()
	before := tableStatistics(t, st)
	for _, table := range []string{"runs", "jobs", "job_attempts", "schedules", "scheduled_runs"} {
		if _, ok := before[table]; !ok {
			t.Fatalf("no statistics read for %s: %v", table, before)
		}
	}

	// Below the floor: nothing to do.
	testenv.BurstRuns(t, st, store.StatisticsFloor/2)
	if _, analysed, err := st.RefreshStatistics(ctx); err != nil || len(analysed) != 0 {
		t.Fatalf("after %d rows: analysed %v, %v; want none", store.StatisticsFloor/2, analysed, err)
	}

	testenv.BurstRuns(t, st, 5000)
	read, analysed, err := st.RefreshStatistics(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(analysed) != 1 || analysed[0] != "runs" {
		t.Fatalf("analysed %v, want [runs] (read %+v)", analysed, read)
	}
	after := tableStatistics(t, st)
	runs := after["runs"]
	if runs.LastAnalyzed == nil || runs.Modified != 0 {
		t.Fatalf("runs after the refresh: %+v, want analysed with no changes since", runs)
	}
	for table, b := range before {
		if table == "runs" {
			continue
		}
		if a := after[table]; !sameTime(a.LastAnalyzed, b.LastAnalyzed) {
			t.Errorf("quiet table %s analysed: %+v → %+v", table, b, a)
		}
	}
	if _, analysed, err := st.RefreshStatistics(ctx); err != nil || len(analysed) != 0 {
		t.Fatalf("second refresh: analysed %v, %v; want none", analysed, err)
	}
}

// A table counts as stale past the larger of the floor and a fifth of its
// live rows.
func TestTableStatisticsStale(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		live, modified int64
		stale          bool
	}{
		{0, 0, false},
		{0, store.StatisticsFloor, false},
		{0, store.StatisticsFloor + 1, true},
		{100_000, 20_000, false},
		{100_000, 20_001, true},
		{20_000, 20_000, true}, // a burst into an empty table
	} {
		got := store.TableStatistics{LiveRows: c.live, Modified: c.modified}.Stale()
		if got != c.stale {
			t.Errorf("live %d, modified %d: stale = %v, want %v", c.live, c.modified, got, c.stale)
		}
	}
}

func sameTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b)
}
