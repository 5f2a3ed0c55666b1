package store_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/cyberbrain/cyberbrain/pkg/store"
	"github.com/cyberbrain/cyberbrain/pkg/testenv"
)

// TestPageRowsLoadsThePageInChunks: a page lists its ids first and loads the
// rows ChunkRows at a time, in the page's order, skipping a row deleted in
// between; the count and the ids are those of the whole filtered list.
func TestPageRowsLoadsThePageInChunks(t *testing.T) {
	t.Parallel()
	st := testenv.NewStore(t)
	ctx := context.Background()
	const n = 2*store.ChunkRows + 3
	for i := range n {
		d := &store.Directive{Name: fmt.Sprintf("d%03d", i), TaskConfig: json.RawMessage(`{}`)}
		if err := st.CreateDirective(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	total := countRows(t, st, "directives") // the seeded default directive too
	page, err := st.ListDirectives(ctx, store.ListParams{Limit: n - 1, Offset: 1, Ordering: "name"})
	if err != nil {
		t.Fatal(err)
	}
	if page.Count != total || len(page.IDs) != n-1 {
		t.Fatalf("count %d ids %d, want %d and %d", page.Count, len(page.IDs), total, n-1)
	}
	// A row of the page deleted after the listing is skipped, not an error.
	mustExec(t, st, `DELETE FROM directives WHERE id = ?`, page.IDs[5])
	var names []string
	calls := 0
	err = page.Each(ctx, func(d *store.Directive) error {
		calls++
		names = append(names, d.Name)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if calls != n-2 {
		t.Fatalf("%d rows, want %d", calls, n-2)
	}
	for i := 1; i < len(names); i++ {
		if names[i-1] >= names[i] {
			t.Fatalf("not in the page's order at %d: %v", i, names)
		}
	}
	// fn's error stops the walk and is returned.
	stop := fmt.Errorf("stop")
	seen := 0
	if err := page.Each(ctx, func(*store.Directive) error { seen++; return stop }); err != stop || seen != 1 {
		t.Errorf("Each after an error: %v after %d rows", err, seen)
	}
	all, err := page.All(ctx)
	if err != nil || len(all) != n-2 {
		t.Errorf("All: %d rows, %v", len(all), err)
	}
	// Past the end: the count, no ids.
	far, err := st.ListDirectives(ctx, store.ListParams{Limit: 10, Offset: 1000})
	if err != nil || far.Count != total-1 || len(far.IDs) != 0 {
		t.Errorf("past the end: %+v, %v", far, err)
	}
	if _, err := st.ListDirectives(ctx, store.ListParams{Ordering: "size"}); err == nil {
		t.Error("an ordering off the whitelist was accepted")
	}
}

// TestListSchedulesFilters: kind and enabled narrow the list in SQL.
func TestListSchedulesFilters(t *testing.T) {
	t.Parallel()
	st := noopStore(t)
	ctx := context.Background()
	launchRun(t, st, "noop")
	limitedSchedule(t, st, "every-hour", nil, nil)
	off := limitedSchedule(t, st, "off", nil, nil)
	if _, err := st.SetScheduleEnabled(ctx, off.ID, false); err != nil {
		t.Fatal(err)
	}
	no, yes := false, true
	for _, tc := range []struct {
		f    store.ScheduleFilter
		want int64
	}{
		{store.ScheduleFilter{}, 3},
		{store.ScheduleFilter{Kind: store.KindLaunch}, 1},
		{store.ScheduleFilter{Kind: store.KindRecurring}, 2},
		{store.ScheduleFilter{Kind: store.KindRecurring, Enabled: &yes}, 1},
		{store.ScheduleFilter{Enabled: &no}, 1},
	} {
		page, err := st.ListSchedules(ctx, tc.f, store.ListParams{Limit: 100})
		if err != nil || page.Count != tc.want || int64(len(page.IDs)) != tc.want {
			t.Errorf("%+v: %v, %v; want %d", tc.f, page, err, tc.want)
		}
	}
}

// TestListRunJobsPages: a run's jobs in position order, limit from offset.
func TestListRunJobsPages(t *testing.T) {
	t.Parallel()
	st := testenv.NewStore(t)
	ctx := context.Background()
	run := launchRun(t, st, "log_triage", "service_map", "gpu_report")
	all, err := st.ListRunJobs(ctx, run.ID, 100, 0)
	if err != nil || len(all) != 3 {
		t.Fatalf("%d jobs, %v", len(all), err)
	}
	two, err := st.ListRunJobs(ctx, run.ID, 2, 1)
	if err != nil || len(two) != 2 || two[0].ID != all[1].ID || two[1].ID != all[2].ID {
		t.Errorf("limit 2 offset 1: %+v, %v", two, err)
	}
	arts, err := st.ListRunArtifacts(ctx, run.ID, 5, 0)
	if err != nil || len(arts) != 0 {
		t.Errorf("artifacts: %v, %v", arts, err)
	}
	if _, err := st.ListRunJobs(ctx, 9999, 1, 0); err == nil {
		t.Error("jobs of an unknown run")
	}
}
