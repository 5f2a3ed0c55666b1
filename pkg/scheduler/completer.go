package scheduler

import (
	"context"
	"time"

	"go.uber.org/zap"

	"github.com/cyberbrain/cyberbrain/pkg/scheduler/testsignal"
	"github.com/cyberbrain/cyberbrain/pkg/store"
	"github.com/cyberbrain/cyberbrain/pkg/tasks"
)

const (
	maxFinishBatch = 200
	// writeTimeout bounds one write of a batch; a hung connection must not
	// stall every later result.
	writeTimeout = 30 * time.Second
)

type finishItem struct {
	ex     *execution
	finish store.Finish
}

// finish queues an attempt's end; the completer writes it. The job stays in
// the running map (and keeps heartbeating) until it is written.
func (s *Scheduler) finish(ex *execution, f store.Finish, _ *tasks.Result) {
	f.JobID, f.Attempt = ex.job.ID, ex.job.Attempt
	s.completer.queue(finishItem{ex: ex, finish: f})
}

// completer writes queued ends of attempts in batches: it blocks for the
// first, takes whatever else is already queued (up to maxFinishBatch) and
// writes them in one transaction — low latency when idle, batching under
// load. It is a component: Start it once, queue ends, Stop it once nothing
// queues any more.
type completer struct {
	in    chan finishItem
	done  chan struct{}
	clock Clock
	log   *zap.Logger
	retry completeRetry

	write   func(ctx context.Context, fs []store.Finish) (*store.FinishResult, error)
	written func(batch []finishItem, res *store.FinishResult) // after a successful write
	abandon func(batch []finishItem, err error)               // after giving up
	paused  func() bool                                       // no database dealings while true
	flushed *testsignal.TestSignal[int]
}

func (c *completer) queue(it finishItem) { c.in <- it }

// Start runs the completer until Stop. Cancelling ctx (a killed replica)
// makes it write nothing more; it still drains the queue so that no
// producer blocks.
func (c *completer) Start(ctx context.Context) {
	c.done = make(chan struct{})
	go func() {
		defer close(c.done)
		c.run(ctx)
	}()
}

// Stop writes what is queued and returns once the completer has ended. No
// finish may be queued after Stop.
func (c *completer) Stop() {
	close(c.in)
	<-c.done
}

// Under load (the previous batch held at least lingerAfter ends) the
// completer waits up to lingerFor for a batch to fill before writing it:
// the per-write costs (a transaction, five statements) are then shared by
// up to twice as many ends. Idle, the first end is written at once. Under
// load an end is thus written up to 10 ms later; `bench shape` drained 0.47
// and 0.50 of its floor with 10 ms against 0.40-0.42 with 3 ms, and 0.42
// with 20 ms (docs/BENCHMARKS.md).
const (
	lingerAfter = maxFinishBatch / 4
	lingerFor   = 10 * time.Millisecond
)

func (c *completer) run(ctx context.Context) {
	last := 0
	for first := range c.in {
		var linger time.Duration
		if last >= lingerAfter {
			linger = lingerFor
		}
		batch := c.collect([]finishItem{first}, linger)
		c.writeBatch(ctx, batch)
		c.flushed.Signal(len(batch))
		last = len(batch)
	}
}

// collect adds to batch what is queued, up to maxFinishBatch; with a
// linger, it also waits that long for more (wall-clock time: this is about
// sharing round trips, not about the replica's clock).
func (c *completer) collect(batch []finishItem, linger time.Duration) []finishItem {
	var deadline <-chan time.Time
	if linger > 0 {
		t := time.NewTimer(linger)
		defer t.Stop()
		deadline = t.C
	}
	for len(batch) < maxFinishBatch {
		select {
		case it, ok := <-c.in:
			if !ok {
				return batch
			}
			batch = append(batch, it)
			continue
		default:
		}
		if deadline == nil {
			return batch
		}
		select {
		case it, ok := <-c.in:
			if !ok {
				return batch
			}
			batch = append(batch, it)
		case <-deadline:
			return batch
		}
	}
	return batch
}
