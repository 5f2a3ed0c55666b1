package scheduler

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/cyberbrain/cyberbrain/pkg/scheduler/testsignal"
	"github.com/cyberbrain/cyberbrain/pkg/store"
)

// failingCompleter is a completer whose every write fails, on a fake clock.
func failingCompleter(t *testing.T, retry completeRetry) (*completer, *fakeClock, *atomic.Int32, chan error) {
	clock := newFakeClock(t)
	tries := new(atomic.Int32)
	abandoned := make(chan error, 1)
	c := &completer{
		in:    make(chan finishItem, 1),
		clock: clock,
		log:   zaptest.NewLogger(t),
		retry: retry,
		write: func(context.Context, []store.Finish) (*store.FinishResult, error) {
			tries.Add(1)
			return nil, errors.New("database unreachable")
		},
		written: func([]finishItem, *store.FinishResult) { t.Error("a failing write was reported written") },
		abandon: func(_ []finishItem, err error) { abandoned <- err },
		paused:  func() bool { return false },
		flushed: &testsignal.TestSignal[int]{},
	}
	c.flushed.Init(t)
	return c, clock, tries, abandoned
}

// driveUntilAbandoned advances the fake clock over every backoff the
// completer waits, until it gives up; it returns the fake time that passed.
func driveUntilAbandoned(t *testing.T, c *completer, clock *fakeClock, abandoned chan error) time.Duration {
	t.Helper()
	begin := clock.Now()
	for {
		select {
		case d := <-clock.armed.C():
			clock.Advance(d)
		case err := <-abandoned:
			if err == nil {
				t.Fatal("abandoned without the write's error")
			}
			if n := c.flushed.WaitOrTimeout(); n != 1 {
				t.Fatalf("flushed %d ends, want 1", n)
			}
			return clock.Now().Sub(begin)
		case <-time.After(testsignal.DefaultTimeout):
			t.Fatal("completer neither retried nor gave up")
		}
	}
}

// Failed writes are retried with a growing backoff until the give-up
// deadline: failures at 0, 0.2, 0.6, 1.2, 2.0 and 3.0 s; the sixth is at
// the 3 s deadline.
func TestCompleterGivesUpAtItsDeadline(t *testing.T) {
	c, clock, tries, abandoned := failingCompleter(t, completeRetry{MaxTries: 100, GiveUpAfter: 3 * time.Second})
	c.Start(context.Background())
	defer c.Stop()
	c.queue(finishItem{finish: store.Finish{JobID: 1, Attempt: 1}})
	if took := driveUntilAbandoned(t, c, clock, abandoned); took != 3*time.Second {
		t.Fatalf("gave up after %s of backoff, want 3s", took)
	}
	if n := tries.Load(); n != 6 {
		t.Fatalf("tries = %d, want 6", n)
	}
}

// The try limit ends the retries before a distant deadline.
func TestCompleterGivesUpAfterMaxTries(t *testing.T) {
	c, clock, tries, abandoned := failingCompleter(t, completeRetry{MaxTries: 3, GiveUpAfter: time.Hour})
	c.Start(context.Background())
	defer c.Stop()
	c.queue(finishItem{finish: store.Finish{JobID: 1, Attempt: 1}})
	if took := driveUntilAbandoned(t, c, clock, abandoned); took != 600*time.Millisecond {
		t.Fatalf("gave up after %s of backoff, want 0.2 s + 0.4 s", took)
	}
	if n := tries.Load(); n != 3 {
		t.Fatalf("tries = %d, want 3", n)
	}
}

// Cancelling the context (a killed replica) ends a backoff at once: the
// batch is neither written nor abandoned, and Stop returns.
func TestCompleterBackoffEndsWithItsContext(t *testing.T) {
	c, clock, tries, abandoned := failingCompleter(t, completeRetry{MaxTries: 100, GiveUpAfter: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	c.Start(ctx)
	c.queue(finishItem{finish: store.Finish{JobID: 1, Attempt: 1}})
	if d := clock.armed.WaitOrTimeout(); d != 200*time.Millisecond {
		t.Fatalf("first backoff = %s", d)
	}
	cancel()
	c.flushed.WaitOrTimeout()
	c.Stop()
	select {
	case <-abandoned:
		t.Fatal("a killed replica's completer abandoned its batch (it must do nothing)")
	default:
	}
	if n := tries.Load(); n != 1 {
		t.Fatalf("tries = %d, want 1", n)
	}
}

// The idle line is printed at most once per interval of the clock.
func TestIdleLogCadence(t *testing.T) {
	clock := newFakeClock(t)
	l := idleLog{every: 30 * time.Second}
	if !l.due(clock.Now()) {
		t.Fatal("first idle pass not logged")
	}
	clock.Advance(29 * time.Second)
	if l.due(clock.Now()) {
		t.Fatal("logged again within the interval")
	}
	clock.Advance(time.Second)
	if !l.due(clock.Now()) {
		t.Fatal("not logged once the interval passed")
	}
}

// Idle, a batch is what is queued now; lingering, ends that arrive later
// join it until it is full.
func TestCompleterCollect(t *testing.T) {
	c := &completer{in: make(chan finishItem, 2*maxFinishBatch)}
	c.in <- finishItem{}
	if got := c.collect([]finishItem{{}}, 0); len(got) != 2 {
		t.Fatalf("idle batch of %d, want the 2 queued", len(got))
	}
	go func() {
		for i := 1; i < maxFinishBatch+5; i++ {
			c.in <- finishItem{}
		}
	}()
	if got := c.collect([]finishItem{{}}, time.Minute); len(got) != maxFinishBatch {
		t.Fatalf("lingering batch of %d, want it filled to %d", len(got), maxFinishBatch)
	}
}
