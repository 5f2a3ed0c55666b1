package scheduler_test

import (
	"context"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/cyberbrain/cyberbrain/pkg/scheduler"
	"github.com/cyberbrain/cyberbrain/pkg/scheduler/testsignal"
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
func startReplica(t *testing.T, st *store.Store, name string, reg tasks.Registry, mod func(*scheduler.Config), setup ...func(*scheduler.Scheduler)) *replica {
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
	for _, f := range setup { // before Run, like Init
		f(s)
	}
	s.TestSignals.Init(t) // before Run: Init is not synchronised with the signalling
	if d := s.Deliverer(); d != nil {
		d.TestSignals.Init(t)
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

// waitFor checks cond now and again each time one of sigs fires, until it
// holds or timeout passes. The signals are wake-ups (a batch of job ends
// written, a pass's claims handled): cond reads the database state they
// announce, which is committed before they fire.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool, sigs ...reflect.Value) {
	t.Helper()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	cases := []reflect.SelectCase{{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(timer.C)}}
	for _, sig := range sigs {
		cases = append(cases, reflect.SelectCase{Dir: reflect.SelectRecv, Chan: sig})
	}
	for !cond() {
		if i, _, _ := reflect.Select(cases); i == 0 {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
	}
}

// sig is a test signal's channel for waitFor, whatever its value type.
func sig[T any](s *testsignal.TestSignal[T]) reflect.Value { return reflect.ValueOf(s.C()) }

// flushed returns the replicas' completer signals: a batch of job ends is
// written (or given up on).
func flushed(rs ...*replica) []reflect.Value {
	sigs := make([]reflect.Value, len(rs))
	for i, r := range rs {
		sigs[i] = sig(&r.TestSignals.Flushed)
	}
	return sigs
}

// eventually polls cond until it holds or the timeout passes. Only the chaos
// drill uses it: its replicas come and go inside chaosdrill (which also runs
// in the bench's own process), out of reach of test signals.
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
