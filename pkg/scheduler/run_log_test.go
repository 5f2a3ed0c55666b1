package scheduler_test

import (
	"fmt"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/cyberbrain/cyberbrain/pkg/scheduler"
	"github.com/cyberbrain/cyberbrain/pkg/tasks"
)

// The verification guide's line "Run N finished with status: completed" is
// logged once at every run's terminal transition, the one that also writes
// the report.
func TestRunFinishedLineIsLoggedOnce(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	core, logs := observer.New(zapcore.InfoLevel)
	r := startReplica(t, st, "r1", tasks.Registry{"noop": tasks.Noop()}, func(c *scheduler.Config) {
		c.Logger = zap.New(core)
	})
	runID := launchNoop(t, st, 1)[0]
	waitFor(t, 5*time.Second, "run completed", func() bool {
		return countWhere(t, st, "runs WHERE id = ? AND status = 'completed' AND report_json IS NOT NULL", runID) == 1
	}, flushed(r)...)
	want := fmt.Sprintf("Run %d finished with status: completed", runID)
	if n := logs.FilterMessage(want).Len(); n != 1 {
		t.Fatalf("%q logged %d times; log:\n%v", want, n, messages(logs))
	}
}

func messages(logs *observer.ObservedLogs) []string {
	var out []string
	for _, e := range logs.All() {
		out = append(out, e.Message)
	}
	return out
}
