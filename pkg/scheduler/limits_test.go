package scheduler_test

import (
	"testing"
	"time"

	"github.com/cyberbrain/cyberbrain/pkg/store"
	"github.com/cyberbrain/cyberbrain/pkg/tasks"
	"github.com/cyberbrain/cyberbrain/pkg/testenv"
)

// maxOverlap returns the largest number of attempts of the given jobs that
// were running at the same instant, from the attempts' recorded intervals.
func maxOverlap(t *testing.T, st *store.Store, where string, args ...any) int {
	t.Helper()
	var peak int
	err := testenv.SQL(t, st).Raw(`WITH a AS (SELECT a.* FROM job_attempts a JOIN jobs j ON j.id = a.job_id WHERE `+where+`),
		ev AS (SELECT started_at AS at, 1 AS d FROM a UNION ALL SELECT coalesce(ended_at, 'infinity'), -1 FROM a)
		SELECT coalesce(max(n), 0) FROM (SELECT sum(d) OVER (ORDER BY at, d) AS n FROM ev) x`, args...).Scan(&peak).Error
	if err != nil {
		t.Fatal(err)
	}
	return peak
}

// A task definition's max_concurrent limits launched runs too, across
// replicas, and deferred jobs start as capacity frees.
func TestTaskMaxConcurrentLimitsLaunchedRuns(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	testenv.SQL(t, st).Exec(`UPDATE task_definitions SET max_concurrent = 3, default_config = '{"sleep_ms": 100}' WHERE key = 'noop'`)
	launchNoop(t, st, 15)
	reg := tasks.Registry{"noop": tasks.Noop()}
	var rs []*replica
	for _, name := range []string{"a", "b", "c", "d"} {
		rs = append(rs, startReplica(t, st, name, reg, nil))
	}
	waitFor(t, 30*time.Second, "all runs completed", func() bool {
		return countWhere(t, st, "runs WHERE status = 'completed'") == 15
	}, flushed(rs...)...)
	if peak := maxOverlap(t, st, "j.task_type = 'noop'"); peak != 3 {
		t.Fatalf("peak concurrent noop attempts = %d, want exactly 3", peak)
	}
}

// A worker host's capabilities.max_concurrency caps the jobs running on it.
func TestHostMaxConcurrencyLimitsJobs(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	testenv.SQL(t, st).Exec(`UPDATE task_definitions SET default_config = '{"sleep_ms": 100}' WHERE key = 'noop'`)
	runs := launchNoop(t, st, 8)
	testenv.SQL(t, st).Exec(`UPDATE worker_hosts SET capabilities = '{"max_concurrency": 2}' WHERE name = 'local'`)
	testenv.SQL(t, st).Exec(`UPDATE jobs SET worker_host_id = (SELECT id FROM worker_hosts WHERE name = 'local') WHERE run_id = ANY(?)`, store.Int64s(runs))
	reg := tasks.Registry{"noop": tasks.Noop()}
	var rs []*replica
	for _, name := range []string{"a", "b"} {
		rs = append(rs, startReplica(t, st, name, reg, nil))
	}
	waitFor(t, 30*time.Second, "all runs completed", func() bool {
		return countWhere(t, st, "runs WHERE status = 'completed'") == 8
	}, flushed(rs...)...)
	if peak := maxOverlap(t, st, "j.worker_host_id IS NOT NULL"); peak != 2 {
		t.Fatalf("peak concurrent attempts on the host = %d, want exactly 2", peak)
	}
}
