package scheduler_test

import (
	"testing"
	"time"

	"github.com/cyberbrain/cyberbrain/pkg/store"
	"github.com/cyberbrain/cyberbrain/pkg/tasks"
)

// maxOverlap returns the largest number of attempts of the given jobs that
// were running at the same instant, from the attempts' recorded intervals.
func maxOverlap(t *testing.T, st *store.Store, where string, args ...any) int {
	t.Helper()
	var peak int
	err := st.DB.Raw(`WITH a AS (SELECT a.* FROM job_attempts a JOIN jobs j ON j.id = a.job_id WHERE `+where+`),
		ev AS (SELECT started_at AS at, 1 AS d FROM a UNION ALL SELECT coalesce(ended_at, 'infinity'), -1 FROM a)
		SELECT coalesce(max(n), 0) FROM (SELECT sum(d) OVER (ORDER BY at, d) AS n FROM ev) x`, args...).Scan(&peak).Error
	if err != nil {
		t.Fatal(err)
	}
	return peak
}

// With max_per_job = 2 on a schedule and three replicas, never more than two
// of its jobs run at once — and two do run together.
func TestMaxPerJobHoldsExactlyAcrossReplicas(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	// A schedule with max_per_job = 2 owning eight pending noop jobs (as
	// run-now of a recurring schedule creates them).
	if err := st.DB.Exec(`INSERT INTO schedules (id, name, task, schedule_type, interval_minutes, next_run_at, max_per_job)
		VALUES (500, 'limited', 'noop', 'interval', 60, now() + interval '1 hour', 2)`).Error; err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 8; i++ {
		err := st.DB.Exec(`WITH r AS (INSERT INTO runs DEFAULT VALUES RETURNING id),
			j AS (INSERT INTO jobs (run_id, schedule_id, task_type, config) SELECT id, 500, 'noop', '{"sleep_ms": 150}' FROM r RETURNING id, run_id)
			INSERT INTO scheduled_runs (schedule_id, run_id, job_id, scheduled_for) SELECT 500, run_id, id, now() + make_interval(secs => ?) FROM j`, i).Error
		if err != nil {
			t.Fatal(err)
		}
	}
	st.DB.Exec(`UPDATE schedules SET due_at = now() WHERE id = 500`)
	tr := newTracker()
	reg := tasks.Registry{"noop": tr.task(tasks.Noop())}
	for _, name := range []string{"a", "b", "c"} {
		startReplica(t, st, name, reg, nil)
	}
	eventually(t, 30*time.Second, "all limited jobs completed", func() bool {
		return countWhere(t, st, "jobs WHERE schedule_id = 500 AND status = 'completed'") == 8
	})
	if peak := maxOverlap(t, st, "j.schedule_id = 500"); peak != 2 {
		t.Fatalf("peak concurrent attempts = %d, want exactly 2", peak)
	}
	if tr.peak > 2 {
		t.Fatalf("tasks saw %d running at once", tr.peak)
	}
}

// A task definition's max_concurrent limits launched runs too, across
// replicas, and deferred jobs start as capacity frees.
func TestTaskMaxConcurrentLimitsLaunchedRuns(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	st.DB.Exec(`UPDATE task_definitions SET max_concurrent = 3, default_config = '{"sleep_ms": 100}' WHERE key = 'noop'`)
	launchNoop(t, st, 15)
	reg := tasks.Registry{"noop": tasks.Noop()}
	for _, name := range []string{"a", "b", "c", "d"} {
		startReplica(t, st, name, reg, nil)
	}
	eventually(t, 30*time.Second, "all runs completed", func() bool {
		return countWhere(t, st, "runs WHERE status = 'completed'") == 15
	})
	if peak := maxOverlap(t, st, "j.task_type = 'noop'"); peak != 3 {
		t.Fatalf("peak concurrent noop attempts = %d, want exactly 3", peak)
	}
}

// A worker host's capabilities.max_concurrency caps the jobs running on it.
func TestHostMaxConcurrencyLimitsJobs(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	st.DB.Exec(`UPDATE task_definitions SET default_config = '{"sleep_ms": 100}' WHERE key = 'noop'`)
	runs := launchNoop(t, st, 8)
	st.DB.Exec(`UPDATE worker_hosts SET capabilities = '{"max_concurrency": 2}' WHERE name = 'local'`)
	st.DB.Exec(`UPDATE jobs SET worker_host_id = (SELECT id FROM worker_hosts WHERE name = 'local') WHERE run_id = ANY(?)`, store.Int64s(runs))
	reg := tasks.Registry{"noop": tasks.Noop()}
	for _, name := range []string{"a", "b"} {
		startReplica(t, st, name, reg, nil)
	}
	eventually(t, 30*time.Second, "all runs completed", func() bool {
		return countWhere(t, st, "runs WHERE status = 'completed'") == 8
	})
	if peak := maxOverlap(t, st, "j.worker_host_id IS NOT NULL"); peak != 2 {
		t.Fatalf("peak concurrent attempts on the host = %d, want exactly 2", peak)
	}
}
