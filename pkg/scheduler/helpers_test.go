package scheduler_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/cyberbrain/cyberbrain/pkg/scheduler"
	"github.com/cyberbrain/cyberbrain/pkg/store"
	"github.com/cyberbrain/cyberbrain/pkg/tasks"
	"github.com/cyberbrain/cyberbrain/pkg/testenv"
)

// newStore returns a fresh database with the noop task enabled.
func newStore(t *testing.T) *store.Store {
	t.Helper()
	st := testenv.NewStore(t)
	if err := testenv.SQL(t, st).Exec(`UPDATE task_definitions SET enabled = true WHERE key = 'noop'`).Error; err != nil {
		t.Fatal(err)
	}
	return st
}

type replica struct {
	*scheduler.Scheduler
	cancel context.CancelFunc
	done   chan error
}

// startReplica runs a scheduler replica until the test ends.
func startReplica(t *testing.T, st *store.Store, name string, reg tasks.Registry, mod func(*scheduler.Config)) *replica {
	t.Helper()
	cfg := scheduler.Config{
		Store:           st,
		Logger:          zaptest.NewLogger(t).Named(name),
		Tasks:           reg,
		Claimant:        name,
		Interval:        30 * time.Second, // NOTIFY and next-due wake-ups must do the work
		MaxClaim:        50,
		ClaimTTL:        3 * time.Second,
		MaxConcurrent:   20,
		ShutdownTimeout: 5 * time.Second,
		RetryBackoff:    func(int) time.Duration { return 50 * time.Millisecond },
	}
	if mod != nil {
		mod(&cfg)
	}
	s, err := scheduler.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &replica{Scheduler: s, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- s.Run(ctx) }()
	t.Cleanup(func() { r.stop(t) })
	return r
}

func (r *replica) stop(t *testing.T) {
	r.cancel()
	select {
	case <-r.done:
	case <-time.After(20 * time.Second):
		t.Errorf("replica %s did not stop", r.Claimant())
	}
	r.done <- nil // let a second stop return at once
}

// eventually polls cond until it holds or the timeout passes.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func launchNoop(t *testing.T, st *store.Store, n int) []int64 {
	t.Helper()
	ids := make([]int64, n)
	for i := range ids {
		d, err := st.Launch(context.Background(), store.LaunchRequest{Tasks: []string{"noop"}})
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = d.ID
	}
	return ids
}

func countWhere(t *testing.T, st *store.Store, q string, args ...any) int {
	t.Helper()
	var n int
	if err := testenv.SQL(t, st).Raw("SELECT count(*) FROM "+q, args...).Scan(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

// tracker records task executions to prove no job runs twice at once.
type tracker struct {
	mu         sync.Mutex
	running    map[int64]int
	runs       map[int64]int
	concurrent int
	peak       int
	overlap    []string
}

func newTracker() *tracker { return &tracker{running: map[int64]int{}, runs: map[int64]int{}} }

// task wraps inner: it records start/end of every execution.
func (tr *tracker) task(inner tasks.Task) tasks.Task {
	return tasks.TaskFunc(func(ctx context.Context, env tasks.Env) (*tasks.Result, error) {
		tr.mu.Lock()
		tr.running[env.Job.ID]++
		tr.runs[env.Job.ID]++
		if tr.running[env.Job.ID] > 1 {
			tr.overlap = append(tr.overlap, fmt.Sprintf("job %d ran twice at once", env.Job.ID))
		}
		tr.concurrent++
		tr.peak = max(tr.peak, tr.concurrent)
		tr.mu.Unlock()
		defer func() {
			tr.mu.Lock()
			tr.running[env.Job.ID]--
			tr.concurrent--
			tr.mu.Unlock()
		}()
		return inner.Run(ctx, env)
	})
}

func itoa(n int64) string { return fmt.Sprint(n) }
