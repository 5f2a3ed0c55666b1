package scheduler_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/cyberbrain/cyberbrain/pkg/domain"
	"github.com/cyberbrain/cyberbrain/pkg/tasks"
	"github.com/cyberbrain/cyberbrain/pkg/testenv"
)

func failing(err error) tasks.Task {
	return tasks.TaskFunc(func(ctx context.Context, env tasks.Env) (*tasks.Result, error) { return nil, err })
}

// A permanent error fails the job at once; a retryable one is retried (with
// backoff) until max_attempts, every attempt recorded.
func TestRetryableAndPermanentErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		err      error
		attempts int
	}{
		{"permanent", domain.Permanentf("container %q is not allow-listed", "db"), 1},
		{"retryable", domain.Retryable(errors.New("engine unreachable")), 3},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			st := newStore(t)
			testenv.SQL(t, st).Exec(`UPDATE task_definitions SET max_attempts = 3 WHERE key = 'noop'`)
			r := startReplica(t, st, "r", tasks.Registry{"noop": failing(tc.err)}, nil)
			runID := launchNoop(t, st, 1)[0]
			waitFor(t, 10*time.Second, "run failed", func() bool {
				return countWhere(t, st, "runs WHERE id = ? AND status = 'failed'", runID) == 1
			}, flushed(r)...)
			if n := countWhere(t, st, "job_attempts a JOIN jobs j ON j.id = a.job_id WHERE j.run_id = ? AND a.outcome = 'failed' AND a.error LIKE ?",
				runID, "%"+tc.err.Error()+"%"); n != tc.attempts {
				t.Fatalf("failed attempts = %d, want %d", n, tc.attempts)
			}
			if n := countWhere(t, st, "scheduled_runs WHERE run_id = ? AND status = 'failed' AND error_summary <> ''", runID); n != 1 {
				t.Fatal("scheduled run not failed with a summary")
			}
		})
	}
}

// A task that outlives its definition's timeout is stopped and retried; the
// last attempt fails the job with the timeout named.
func TestTaskTimeoutStopsAndRetries(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	testenv.SQL(t, st).Exec(`UPDATE task_definitions SET timeout_seconds = 1, max_attempts = 2 WHERE key = 'noop'`)
	hang := tasks.TaskFunc(func(ctx context.Context, env tasks.Env) (*tasks.Result, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	})
	r := startReplica(t, st, "r", tasks.Registry{"noop": hang}, nil)
	runID := launchNoop(t, st, 1)[0]
	waitFor(t, 15*time.Second, "run failed", func() bool {
		return countWhere(t, st, "runs WHERE id = ? AND status = 'failed'", runID) == 1
	}, flushed(r)...)
	if n := countWhere(t, st, "jobs WHERE run_id = ? AND attempt = 2 AND error_message LIKE '%timed out after 1s%'", runID); n != 1 {
		t.Fatal("job did not fail on its timeout after 2 attempts")
	}
}
