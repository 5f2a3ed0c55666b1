package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/cyberbrain/cyberbrain/pkg/domain"
	"github.com/cyberbrain/cyberbrain/pkg/store"
	"github.com/cyberbrain/cyberbrain/pkg/testenv"
)

// sqlSeedDashboardRuns creates 100,000 runs over the last ~28 hours (one a
// second, the newest now): every 1000th pending, the next running, one in
// ten failed, the rest completed; each with one noop job, every 500th run
// with a gpu_report job instead.
const sqlSeedDashboardRuns = `
INSERT INTO runs (status, created_at, completed_at, directive_snapshot)
SELECT CASE WHEN g % 1000 = 0 THEN 'pending' WHEN g % 1000 = 1 THEN 'running'
            WHEN g % 10 = 2 THEN 'failed' ELSE 'completed' END,
       now() - (100000 - g) * interval '1 second',
       CASE WHEN g % 1000 IN (0, 1) THEN NULL ELSE now() - (100000 - g) * interval '1 second' END,
       jsonb_build_object('name', 'nightly', 'description', repeat('x', 300))
FROM generate_series(1, 100000) g;
INSERT INTO jobs (run_id, task_type, status)
SELECT id, CASE WHEN id % 500 = 0 THEN 'gpu_report' ELSE 'noop' END, status FROM runs;
ANALYZE runs; ANALYZE jobs;`

// The dashboard's run queries answer correctly with 100,000 runs (how fast
// is `make bench-pages`' job).
func TestRunDashboardQueriesAt100kRuns(t *testing.T) {
	if testing.Short() {
		t.Skip("seeds 100,000 runs")
	}
	t.Parallel()
	st := testenv.NewStore(t)
	db := testenv.SQL(t, st)
	ctx := context.Background()
	if err := db.Exec(sqlSeedDashboardRuns).Error; err != nil {
		t.Fatal(err)
	}
	since := time.Now().Add(-24 * time.Hour)
	var want store.RunCounts
	db.Raw(`SELECT count(*) FILTER (WHERE status = 'pending') AS pending, count(*) FILTER (WHERE status = 'running') AS running,
		count(*) FILTER (WHERE status = 'failed' AND completed_at >= ?) AS failed_recent FROM runs`, since).Scan(&want)
	got, err := st.CountRuns(ctx, since)
	if err != nil || got != want || got.Pending != 100 || got.Running != 100 {
		t.Fatalf("CountRuns = %+v, %v; want %+v", got, err, want)
	}

	hour := time.Now().Add(-time.Hour).Truncate(time.Minute)
	mins, err := st.RunsPerMinute(ctx, hour)
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	for _, m := range mins {
		total += m.Count
		if m.Minute.Before(hour) || m.Count > 61 {
			t.Fatalf("bucket %+v", m)
		}
	}
	if total < 3500 || total > 3700 {
		t.Fatalf("runs in the last hour = %d, want ~3600", total)
	}

	first, err := st.ListRunPage(ctx, store.RunQuery{Limit: 50})
	if err != nil || len(first.Runs) != 50 || !first.More || first.Runs[0].ID <= first.Runs[49].ID {
		t.Fatalf("first page: %v, %+v", err, first)
	}
	if r := first.Runs[0]; string(r.DirectiveSnapshot) != `{"name": "nightly"}` || r.ReportMarkdown != "" {
		t.Fatalf("list row carries %s / %q", r.DirectiveSnapshot, r.ReportMarkdown)
	}
	older, err := st.ListRunPage(ctx, store.RunQuery{Limit: 50, Before: first.Runs[49].ID})
	if err != nil || len(older.Runs) != 50 || older.Runs[0].ID != first.Runs[49].ID-1 {
		t.Fatalf("older page: %v", err)
	}
	newer, err := st.ListRunPage(ctx, store.RunQuery{Limit: 50, After: older.Runs[0].ID})
	if err != nil || len(newer.Runs) != 50 || newer.Runs[0].ID != first.Runs[0].ID || newer.More {
		t.Fatalf("newer page back to the first: %v %+v", err, newer.More)
	}
	pending, err := st.ListRunPage(ctx, store.RunQuery{Limit: 50, Status: domain.StatusPending})
	if err != nil || len(pending.Runs) != 50 || !pending.More {
		t.Fatalf("pending page: %v", err)
	}
	for _, r := range pending.Runs {
		if r.Status != domain.StatusPending {
			t.Fatalf("status filter let %s through", r.Status)
		}
	}
	gpu, err := st.ListRunPage(ctx, store.RunQuery{Limit: 50, Task: "gpu_report", Status: domain.StatusFailed})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range gpu.Runs {
		if r.ID%500 != 0 || r.Status != domain.StatusFailed {
			t.Fatalf("task filter let run %d (%s) through", r.ID, r.Status)
		}
	}
}
