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

func (c *completer) run(ctx context.Context) {
	for first := range c.in {
		batch := []finishItem{first}
	drain:
		for len(batch) < maxFinishBatch {
			select {
			case it, ok := <-c.in:
				if !ok {
					break drain
				}
				batch = append(batch, it)
			default:
				break drain
			}
		}
		c.writeBatch(ctx, batch)
		c.flushed.Signal(len(batch))
	}
}
