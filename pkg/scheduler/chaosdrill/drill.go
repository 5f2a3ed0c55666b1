// Package chaosdrill is the chaos drill of docs/DESIGN.md §11, shared by the scheduler's
// chaos test and `go run ./scripts/bench chaos`: replicas with their own
// connection pools drain noop runs while one at a time is killed (SIGKILL:
// replaced by a fresh replica under a new claimant name) or paused for longer
// than its lease (SIGSTOP, a cut connection) and resumed. A task-level
// tracker records every execution, and the checks read the invariants back
// from the database.
package chaosdrill

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/cyberbrain/cyberbrain/pkg/scheduler"
	"github.com/cyberbrain/cyberbrain/pkg/store"
	"github.com/cyberbrain/cyberbrain/pkg/tasks"
)

// Config describes the replicas of a drill.
type Config struct {
	URL      string        // database every replica opens its own pool on
	TTL      time.Duration // job lease (ClaimTTL)
	PauseFor time.Duration // how long a pause lasts; > TTL so the lease expires meanwhile

	// Replica is the template of every replica's configuration; the drill
	// sets Store, Logger, Tasks (noop, tracked), Claimant and ClaimTTL.
	Replica scheduler.Config
	// Store tunes each replica's own pool (default 4 connections, no
	// statement timeout).
	Store store.Options
	// Logger returns a replica's logger (nil: none).
	Logger func(claimant string) *zap.Logger
	// PreferBusy strikes replicas executing jobs first, so a kill or pause
	// lands mid-task. A long drill leaves it off: at the tail of the drain it
	// would strike the one replica running the last jobs at every event,
	// until they ran out of attempts.
	PreferBusy bool
}

// Drill holds the replicas, live and stopped.
type Drill struct {
	cfg     Config
	tracker tracker
	resumes sync.WaitGroup // pending resumes of paused replicas

	mu        sync.Mutex
	live, all []*Replica
	serial    int

	kills, pauses, partitions atomic.Int64
}

// Replica is one scheduler of the drill with its own pool.
type Replica struct {
	*scheduler.Scheduler
	Name   string
	st     *store.Store
	cancel context.CancelFunc
	done   chan struct{}

	mu     sync.Mutex
	paused bool
	spans  []pauseSpan // every pause, for the tracker's check
}

type pauseSpan struct{ from, to time.Time } // to is zero while paused

func New(cfg Config) *Drill { return &Drill{cfg: cfg} }

// Start runs a fresh replica with its own connection pool (a separate
// process would have one) under a new claimant name.
func (d *Drill) Start() (*Replica, error) {
	d.mu.Lock()
	d.serial++
	name := fmt.Sprintf("chaos-%d", d.serial)
	d.mu.Unlock()
	opts := d.cfg.Store
	if opts.MaxConns == 0 {
		opts.MaxConns = 4
	}
	st, err := store.Open(context.Background(), d.cfg.URL, opts)
	if err != nil {
		return nil, err
	}
	r := &Replica{Name: name, st: st, done: make(chan struct{})}
	cfg := d.cfg.Replica
	cfg.Store, cfg.Claimant, cfg.ClaimTTL = st, name, d.cfg.TTL
	cfg.Tasks = tasks.Registry{"noop": d.tracker.wrap(r, tasks.Noop())}
	if d.cfg.Logger != nil {
		cfg.Logger = d.cfg.Logger(name)
	}
	if r.Scheduler, err = scheduler.New(cfg); err != nil {
		st.Close()
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	go func() {
		defer close(r.done)
		_ = r.Run(ctx)
	}()
	d.mu.Lock()
	d.live = append(d.live, r)
	d.all = append(d.all, r)
	d.mu.Unlock()
	return r, nil
}

// Strike kills (and replaces) or pauses one settled replica, at even odds.
// No replica settled is no strike.
func (d *Drill) Strike(rng *rand.Rand) error {
	r := d.pick(rng)
	switch {
	case r == nil:
	case rng.IntN(2) == 0:
		d.kill(r)
		_, err := d.Start()
		return err
	default:
		d.pause(r)
	}
	return nil
}

// PauseAll pauses every unpaused replica together: the database cut off from
// all of them. On resuming, a replica may re-claim a job whose stale
// execution it still runs.
func (d *Drill) PauseAll() {
	d.partitions.Add(1)
	for _, r := range d.unpaused(false) {
		d.pause(r)
	}
}

// WaitResumed waits until every paused replica is resumed.
func (d *Drill) WaitResumed() { d.resumes.Wait() }

// Kills, Pauses and Partitions count the strikes so far.
func (d *Drill) Kills() int64      { return d.kills.Load() }
func (d *Drill) Pauses() int64     { return d.pauses.Load() }
func (d *Drill) Partitions() int64 { return d.partitions.Load() }

// Stop resumes and stops every replica, killed ones included, and closes
// their pools; it names those not stopped within timeout.
func (d *Drill) Stop(timeout time.Duration) error {
	d.WaitResumed() // a resume after Stop would race with it
	d.mu.Lock()
	all := d.all
	d.mu.Unlock()
	for _, r := range all {
		r.Pause(false)
		r.cancel()
	}
	deadline := time.After(timeout)
	var errs []error
	for _, r := range all {
		select {
		case <-r.done:
			r.st.Close()
		case <-deadline:
			errs = append(errs, fmt.Errorf("replica %s did not stop", r.Name))
		}
	}
	return errors.Join(errs...)
}
