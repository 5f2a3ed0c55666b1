package store_test

import (
	"context"
	"testing"
	"time"

	"gorm.io/gorm"

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

	// A drain rewrites every row in place, twice: the table's size, which
	// is what the statistics were taken for, has not moved.
	for _, status := range []string{"running", "completed"} {
		err := testenv.SQL(t, st).Transaction(func(tx *gorm.DB) error {
			if err := tx.Exec(`UPDATE runs SET status = ?`, status).Error; err != nil {
				return err
			}
			return tx.Exec(`SELECT pg_stat_force_next_flush()`).Error
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if read, analysed, err := st.RefreshStatistics(ctx); err != nil || len(analysed) != 0 {
		t.Fatalf("refresh after a drain: analysed %v, %v; want none (read %+v)", analysed, err, read)
	}
}

// A table counts as stale past the larger of the floor and a fifth of its
// live rows changed; within StatisticsSettle of its last analysis, only if its
// size moved by as much too (a drain rewrites rows in place).
func TestTableStatisticsStale(t *testing.T) {
	t.Parallel()
	long := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	recent := store.StatisticsSettle - time.Second
	for _, c := range []struct {
		live, modified int64
		analysed       *time.Time
		since          time.Duration
		counted        int64
		stale          bool
	}{
		{0, 0, nil, 0, 0, false},
		{0, store.StatisticsFloor, nil, 0, 0, false},
		{0, store.StatisticsFloor + 1, nil, 0, 0, true},
		{100_000, 20_000, &long, time.Hour, 100_000, false},
		{100_000, 20_001, &long, time.Hour, 100_000, true},
		{20_000, 20_000, nil, 0, 20_000, true},                        // a burst into a table never analysed (vacuum counted it)
		{20_000, 40_000, &long, recent, 20_020, false},                // a drain just after the burst's analysis
		{20_000, 40_000, &long, store.StatisticsSettle, 20_020, true}, // a drain, the analysis a minute old
		{40_000, 20_000, &long, recent, 20_000, true},                 // a second burst just after the first's analysis
		{10_000, 10_000, &long, recent, 20_000, true},                 // a retention pass halved it
	} {
		ts := store.TableStatistics{LiveRows: c.live, Modified: c.modified, LastAnalyzed: c.analysed,
			SinceAnalysis: c.since, CountedRows: c.counted}
		if got := ts.Stale(); got != c.stale {
			t.Errorf("%+v: stale = %v, want %v", ts, got, c.stale)
		}
	}
}

func sameTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b)
}
