package scheduler_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/events"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/cyberbrain/cyberbrain/pkg/scheduler"
	"github.com/cyberbrain/cyberbrain/pkg/store"
	"github.com/cyberbrain/cyberbrain/pkg/tasks"
	"github.com/cyberbrain/cyberbrain/pkg/testenv"
)

// A container task that prints and exits 0 completes: its output is an
// artifact and in the report; its env secret is in no log and no job row.
func TestContainerTaskCompletesWithOutputArtifact(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	r := newCRig(t, st, []string{"say:dump written", "envlen:SECRET"}, "")
	core, logs := observer.New(zapcore.DebugLevel)
	rep := startReplica(t, st, "r", tasks.Registry{}, func(c *scheduler.Config) {
		r.withContainers(c)
		c.Logger = zap.New(core)
	})
	run := r.launch(t)
	waitFor(t, 60*time.Second, "run finished", func() bool {
		return countWhere(t, st, "runs WHERE id = ? AND status IN ('completed', 'failed')", run) == 1
	}, flushed(rep)...)
	var res store.Run
	testenv.SQL(t, st).Take(&res, run)
	if res.Status != "completed" {
		var errs []string
		testenv.SQL(t, st).Raw(`SELECT error_message FROM jobs WHERE run_id = ?`, run).Scan(&errs)
		t.Fatalf("run %s: %v", res.Status, errs)
	}
	if countWhere(t, st, "artifacts WHERE run_id = ? AND name = 'output.log' AND convert_from(content, 'UTF8') LIKE '%dump written%len(SECRET)=14%'", run) != 1 {
		t.Fatal("output.log artifact missing or incomplete")
	}
	if !strings.Contains(res.ReportMarkdown, "dump written") {
		t.Fatalf("report lacks the output:\n%s", res.ReportMarkdown)
	}
	if countWhere(t, st, "jobs WHERE run_id = ? AND result->'last_lines' ? 'dump written'", run) != 1 {
		t.Fatal("job result lacks the last lines")
	}
	if countWhere(t, st, "jobs WHERE run_id = ? AND (config::text LIKE '%hunter2%' OR result::text LIKE '%hunter2%')", run) != 0 {
		t.Fatal("the secret is in a job row")
	}
	for _, e := range logs.All() {
		if strings.Contains(e.Message, "hunter2") || strings.Contains(fmtFields(e.ContextMap()), "hunter2") {
			t.Fatalf("a log line holds the secret: %s", e.Message)
		}
	}
	if n := r.leftovers(t); n != 0 {
		t.Fatalf("%d container(s) left", n)
	}
}

func fmtFields(m map[string]any) string {
	var b strings.Builder
	for k, v := range m {
		b.WriteString(k + "=" + strings.TrimSpace(strings.ReplaceAll(toString(v), "\n", " ")) + " ")
	}
	return b.String()
}

func toString(v any) string { return strings.TrimSpace(strings.Trim(fmtAny(v), "\"")) }

// A container exiting 3 fails the job with "exit code 3" and its last
// lines, keeping its output; no retry (it is the task's own verdict).
func TestContainerTaskExitThreeFails(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	r := newCRig(t, st, []string{"lines:25", "exit:3"}, "max_attempts = 3")
	rep := startReplica(t, st, "r", tasks.Registry{}, r.withContainers)
	run := r.launch(t)
	waitFor(t, 60*time.Second, "run failed", func() bool {
		return countWhere(t, st, "runs WHERE id = ? AND status = 'failed'", run) == 1
	}, flushed(rep)...)
	if countWhere(t, st, "jobs WHERE run_id = ? AND attempt = 1 AND error_message LIKE 'exit code 3%line 25%'", run) != 1 {
		var msg string
		testenv.SQL(t, st).Raw(`SELECT error_message FROM jobs WHERE run_id = ?`, run).Scan(&msg)
		t.Fatalf("job error = %q", msg)
	}
	if countWhere(t, st, "artifacts WHERE run_id = ? AND name = 'output.log'", run) != 1 {
		t.Fatal("the failure's output.log is missing")
	}
	if countWhere(t, st, "jobs WHERE run_id = ? AND (result->>'exit_code')::int = 3", run) != 1 {
		t.Fatal("the failure's result lacks the exit code")
	}
}

// A container that outlives its timeout (and ignores SIGTERM) is killed,
// and the job retried; it never runs twice at once.
func TestContainerTaskTimeoutIsKilledAndRetried(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	r := newCRig(t, st, []string{"ignore-term", "sleep:1h"}, "timeout_seconds = 2, max_attempts = 2")
	rep := startReplica(t, st, "r", tasks.Registry{}, r.withContainers)
	run := r.launch(t)
	waitFor(t, 90*time.Second, "run failed", func() bool {
		return countWhere(t, st, "runs WHERE id = ? AND status = 'failed'", run) == 1
	}, flushed(rep)...)
	if n := countWhere(t, st, "job_attempts a JOIN jobs j ON j.id = a.job_id WHERE j.run_id = ? AND a.outcome = 'failed' AND a.error LIKE '%timed out%'", run); n != 2 {
		var errs []string
		testenv.SQL(t, st).Raw(`SELECT a.outcome || ': ' || a.error FROM job_attempts a JOIN jobs j ON j.id = a.job_id WHERE j.run_id = ?`, run).Scan(&errs)
		t.Fatalf("timed-out attempts = %d, want 2 (first retried): %q", n, errs)
	}
	if perJob, _ := r.peaks(); perJob > 1 {
		t.Fatalf("%d containers of one job ran at once", perJob)
	}
	if n := r.leftovers(t); n != 0 {
		t.Fatalf("%d container(s) left", n)
	}
}

// A replica killed while its container runs: the rescuer removes the
// container before the job is retried, the job runs again on the other
// replica, and the sampled engine never shows two containers of the job.
func TestKilledReplicaContainerIsRemovedBeforeRetry(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	r := newCRig(t, st, []string{"sleep:4s", "say:done"}, "max_attempts = 3")
	a := startReplica(t, st, "a", tasks.Registry{}, r.withContainers)
	run := r.launch(t)
	eventually(t, 60*time.Second, "attempt 1 container running", func() bool { return r.isRunning(1) })
	a.Kill()
	b := startReplica(t, st, "b", tasks.Registry{}, r.withContainers)
	waitFor(t, 90*time.Second, "run completed", func() bool {
		return countWhere(t, st, "runs WHERE id = ? AND status = 'completed'", run) == 1
	}, flushed(b)...)
	if countWhere(t, st, "job_attempts a JOIN jobs j ON j.id = a.job_id WHERE j.run_id = ? AND a.attempt = 1 AND a.outcome = 'lost'", run) != 1 {
		t.Fatal("attempt 1 is not recorded lost")
	}
	if countWhere(t, st, "jobs WHERE run_id = ? AND attempt = 2 AND status = 'completed' AND claimed_by = ''", run) != 1 {
		t.Fatal("attempt 2 did not complete")
	}
	destroyed, created := r.eventIndex(events.ActionDestroy, 1), r.eventIndex(events.ActionCreate, 2)
	if destroyed < 0 || created < 0 || destroyed > created {
		t.Fatalf("attempt 1 destroyed at event %d, attempt 2 created at %d: the rescue must remove first", destroyed, created)
	}
	if perJob, _ := r.peaks(); perJob != 1 {
		t.Fatalf("peak containers of the job at once = %d, want 1", perJob)
	}
	if n := r.leftovers(t); n != 0 {
		t.Fatalf("%d container(s) left", n)
	}
}

// Cancelling a run stops its container within a heartbeat (ttl/3) and the
// stop grace.
func TestCancelStopsTheContainer(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	r := newCRig(t, st, []string{"sleep:1h"}, "")
	rep := startReplica(t, st, "r", tasks.Registry{}, r.withContainers)
	run := r.launch(t)
	eventually(t, 60*time.Second, "container running", func() bool { return r.isRunning(1) })
	if _, err := st.CancelRun(context.Background(), run); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	eventually(t, 20*time.Second, "container gone", func() bool { return r.leftovers(t) == 0 })
	if took := time.Since(start); took > 3*time.Second {
		t.Fatalf("container stopped %s after the cancel", took)
	}
	waitFor(t, 20*time.Second, "job cancelled", func() bool {
		var s []string
		testenv.SQL(t, st).Raw(`SELECT status || ' ' || error_message FROM jobs WHERE run_id = ?`, run).Scan(&s)
		t.Log(s)
		return countWhere(t, st, "jobs WHERE run_id = ? AND status = 'cancelled'", run) == 1
	}, flushed(rep)...)
}

// max_concurrent on a container task holds across replicas.
func TestContainerTaskMaxConcurrentAcrossReplicas(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	r := newCRig(t, st, []string{"sleep:700ms"}, "max_concurrent = 1")
	a := startReplica(t, st, "a", tasks.Registry{}, r.withContainers)
	b := startReplica(t, st, "b", tasks.Registry{}, r.withContainers)
	runs := []int64{r.launch(t), r.launch(t), r.launch(t)}
	waitFor(t, 90*time.Second, "runs completed", func() bool {
		return countWhere(t, st, "runs WHERE id = ANY(?) AND status = 'completed'", store.Int64s(runs)) == len(runs)
	}, flushed(a, b)...)
	if _, all := r.peaks(); all != 1 {
		t.Fatalf("peak containers of the task at once = %d, want 1", all)
	}
}
