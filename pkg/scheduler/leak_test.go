package scheduler_test

import (
	"bytes"
	"context"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/cyberbrain/cyberbrain/pkg/scheduler"
	"github.com/cyberbrain/cyberbrain/pkg/tasks"
)

// No goroutine a replica started outlives Run: not the completer, heartbeat,
// listener, executions, nor maintenance workers still busy at the stop.
// Not parallel, so no other test's replica is running while it looks.
func TestStopLeavesNoGoroutineBehind(t *testing.T) {
	st := newStore(t)
	healthBusy := make(chan struct{}, 1)
	health := func(ctx context.Context) error { // still running at the stop
		select {
		case healthBusy <- struct{}{}:
		default:
		}
		<-ctx.Done()
		return ctx.Err()
	}
	started, stopped := make(chan int64, 1), make(chan error, 1)
	r := startReplica(t, st, "leaky", tasks.Registry{"noop": blocking(started, stopped)}, func(c *scheduler.Config) {
		c.HealthCheck, c.HealthInterval = health, time.Hour
		c.Retention = time.Hour
		c.ShutdownTimeout = 100 * time.Millisecond
	})
	runID := launchNoop(t, st, 1)[0]
	jobID := r.TestSignals.Started.WaitOrTimeout()
	if got := <-started; got != jobID {
		t.Fatalf("task ran job %d, replica started %d", got, jobID)
	}
	<-healthBusy
	r.stop(t)
	if left := schedulerGoroutines(); len(left) > 0 {
		t.Fatalf("%d goroutines outlived the replica (run %d):\n\n%s", len(left), runID, strings.Join(left, "\n\n"))
	}
}

// schedulerGoroutines returns the stacks of live goroutines running or
// started by package scheduler's code (its tests excluded).
func schedulerGoroutines() []string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	var left []string
	for _, g := range bytes.Split(buf, []byte("\n\n")) {
		// Internal tests of the package (package scheduler, waiting in
		// t.Parallel) are not the replica's goroutines.
		if bytes.Contains(g, []byte("cyberbrain/pkg/scheduler.")) && !bytes.Contains(g, []byte("cyberbrain/pkg/scheduler.Test")) {
			left = append(left, string(g))
		}
	}
	return left
}
