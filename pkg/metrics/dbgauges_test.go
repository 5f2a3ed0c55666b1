package metrics_test

import (
	"context"
	"errors"
	"testing"

	"github.com/cyberbrain/cyberbrain/pkg/domain"
	"github.com/cyberbrain/cyberbrain/pkg/metrics"
	"github.com/cyberbrain/cyberbrain/pkg/store"
	"github.com/cyberbrain/cyberbrain/pkg/testenv"
)

// The DB gauges are process-wide: these tests do not run in parallel.

func TestDBGaugesReportTheQueueFromPostgres(t *testing.T) {
	st := testenv.NewStore(t)
	ctx := context.Background()
	testenv.CreateRuns(t, st, domain.StatusPending, domain.StatusPending, domain.StatusRunning, domain.StatusCompleted, domain.StatusFailed)
	mustExec(t, st, `INSERT INTO jobs (run_id, task_type, status)
	    SELECT id, 'noop', status FROM runs`)
	mustExec(t, st, `INSERT INTO jobs (run_id, task_type, status)
	    SELECT id, 'noop', 'pending' FROM runs WHERE status = 'pending'`)
	mustExec(t, st, `INSERT INTO schedules (name, task, schedule_type, next_run_at, due_at) VALUES
	    ('oldest-due', 'noop', 'one_shot', now() - interval '90 seconds', now() - interval '90 seconds'),
	    ('due', 'noop', 'one_shot', now() - interval '5 seconds', now() - interval '5 seconds'),
	    ('future', 'noop', 'one_shot', now() + interval '1 hour', now() + interval '1 hour'),
	    ('done', 'noop', 'one_shot', NULL, NULL)`)
	mustExec(t, st, `INSERT INTO worker_hosts (name, healthy, enabled) VALUES
	    ('up', true, true), ('down', false, true), ('off', true, false)`)

	metrics.RegisterDBGauges(func(ctx context.Context) (metrics.DBStats, error) {
		s, err := st.MetricsStats(ctx)
		return metrics.DBStats(s), err
	})
	t.Cleanup(func() { metrics.RegisterDBGauges(nil) })

	fams := scrapeHandler(t)
	want := map[string]float64{
		"cyberbrain_db_stats_up":   1,
		"cyberbrain_due_schedules": 2,
	}
	for name, v := range want {
		if got := fams.value(name, nil); got != v {
			t.Errorf("%s = %v, want %v", name, got, v)
		}
	}
	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"cyberbrain_queue_jobs", labels("status", "pending"), 4},
		{"cyberbrain_queue_jobs", labels("status", "running"), 1},
		{"cyberbrain_queue_runs", labels("status", "pending"), 2},
		{"cyberbrain_queue_runs", labels("status", "running"), 1},
		{"cyberbrain_worker_hosts", labels("state", "healthy"), 1},
		{"cyberbrain_worker_hosts", labels("state", "unhealthy"), 1},
		{"cyberbrain_worker_hosts", labels("state", "disabled"), 1},
		{"cyberbrain_worker_hosts", labels("state", "unknown"), 1}, // the seeded local host, never checked
		{"cyberbrain_worker_host_up", labels("host", "up"), 1},
		{"cyberbrain_worker_host_up", labels("host", "down"), 0},
	} {
		if got := fams.value(c.name, c.labels); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	if fams.find("cyberbrain_worker_host_up", labels("host", "off")) != nil ||
		fams.find("cyberbrain_worker_host_up", labels("host", "local")) != nil {
		t.Error("worker_host_up reported a disabled or never-checked host")
	}
	lag := fams.value("cyberbrain_schedule_lag_seconds", nil)
	if lag < 90 || lag > 90+60 {
		t.Errorf("schedule lag %v s, want about 90 (the oldest due schedule)", lag)
	}

	// Nothing due: lag 0, not negative and not stale.
	mustExec(t, st, `UPDATE schedules SET due_at = NULL`)
	fams = scrapeHandler(t)
	if got := fams.value("cyberbrain_schedule_lag_seconds", nil); got != 0 {
		t.Errorf("schedule lag %v with nothing due, want 0", got)
	}
	if got := fams.value("cyberbrain_due_schedules", nil); got != 0 {
		t.Errorf("due schedules %v with nothing due, want 0", got)
	}

	// A cancelled scrape context must reach the query.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := st.MetricsStats(cctx); !errors.Is(err, context.Canceled) {
		t.Errorf("MetricsStats on a cancelled context: %v, want context.Canceled", err)
	}
}

func TestDBGaugesReportAFailedRead(t *testing.T) {
	metrics.RegisterDBGauges(func(context.Context) (metrics.DBStats, error) {
		return metrics.DBStats{}, errors.New("database down")
	})
	t.Cleanup(func() { metrics.RegisterDBGauges(nil) })
	fams := scrapeHandler(t)
	if got := fams.value("cyberbrain_db_stats_up", nil); got != 0 {
		t.Errorf("db_stats_up %v after a failed read, want 0", got)
	}
	if fams["cyberbrain_queue_jobs"] != nil {
		t.Error("queue gauges reported from a failed read")
	}

	metrics.RegisterDBGauges(nil)
	if fams := scrapeHandler(t); fams["cyberbrain_db_stats_up"] != nil {
		t.Error("db gauges still reported after RegisterDBGauges(nil)")
	}
}

func mustExec(t *testing.T, st *store.Store, q string) {
	t.Helper()
	if err := testenv.SQL(t, st).Exec(q).Error; err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}
