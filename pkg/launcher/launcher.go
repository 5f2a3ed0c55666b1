// Package launcher group-commits launches: concurrent launches are handed to
// one insert function (store.LaunchBatch) as a batch, so they share one read
// of directives, tasks and hosts, one insert statement and one commit, while
// each launch stays atomic and fails alone. An idle API launches alone, with
// no waiting: a batch is whatever is queued when a worker becomes free.
package launcher

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/cyberbrain/cyberbrain/pkg/store"
)

// InsertFunc creates a batch of launches, one result per request in order.
type InsertFunc func(ctx context.Context, reqs []store.LaunchRequest) []store.LaunchResult

// Config tunes a Batcher; zero values take the defaults.
type Config struct {
	Workers  int           // batches inserted at once (default 1: see New)
	MaxBatch int           // launches per batch (default 128)
	Timeout  time.Duration // per batch insert (default 30 s)
}

// ErrStopped answers launches made after Stop.
var ErrStopped = errors.New("launcher stopped")

// Batcher is the API's launch path: Start it, Launch from any goroutine,
// Stop it at shutdown (queued launches are still inserted and answered).
type Batcher struct {
	insert InsertFunc
	cfg    Config
	ch     chan item

	mu       sync.RWMutex // held shared while sending, so Stop sees no send in flight
	stopped  bool
	stopOnce sync.Once
	stop     chan struct{}
	wg       sync.WaitGroup
	base     context.Context

	queued chan struct{} // test signal: a launch was queued (dropped when full)
}

type item struct {
	ctx   context.Context
	req   store.LaunchRequest
	reply chan store.LaunchResult
}

// New returns a batcher over insert; it launches nothing until Start.
func New(insert InsertFunc, cfg Config) *Batcher {
	if cfg.Workers <= 0 {
		// One batch at a time: launches arriving meanwhile become the next,
		// larger batch (one insert, one commit) instead of several small
		// ones; `bench shape` measured ~40 % more launches/s over HTTP than
		// with four (docs/BENCHMARKS.md).
		cfg.Workers = 1
	}
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = 128
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	return &Batcher{insert: insert, cfg: cfg, ch: make(chan item, cfg.MaxBatch), stop: make(chan struct{}),
		queued: make(chan struct{}, 1)}
}

// Start starts the workers. When ctx ends the batcher stops as by Stop; an
// insert already under way is not cancelled by it (it runs to its timeout).
func (b *Batcher) Start(ctx context.Context) {
	b.base = context.WithoutCancel(ctx)
	for i := 0; i < b.cfg.Workers; i++ {
		b.wg.Add(1)
		go b.work()
	}
	context.AfterFunc(ctx, b.Stop)
}

// Stop refuses new launches, lets the workers insert what is queued, and
// waits for them. It may be called more than once.
func (b *Batcher) Stop() {
	b.stopOnce.Do(func() {
		b.mu.Lock()
		b.stopped = true
		b.mu.Unlock()
		close(b.stop)
	})
	b.wg.Wait()
}

// Launch queues req and waits for its result. It returns ctx's error if the
// caller gives up before the launch is queued; once queued, a launch whose
// caller has gone is skipped when its batch is taken (nothing written).
func (b *Batcher) Launch(ctx context.Context, req store.LaunchRequest) (*store.RunDetail, error) {
	it := item{ctx: ctx, req: req, reply: make(chan store.LaunchResult, 1)}
	if err := b.enqueue(it); err != nil {
		return nil, err
	}
	res := <-it.reply // always answered: workers finish what was queued
	return res.Run, res.Err
}

func (b *Batcher) enqueue(it item) error {
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.stopped {
		return ErrStopped
	}
	select {
	case b.ch <- it:
		select {
		case b.queued <- struct{}{}:
		default:
		}
		return nil
	case <-it.ctx.Done():
		return it.ctx.Err()
	}
}
