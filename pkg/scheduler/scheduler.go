// Package scheduler is cyberbrain's scheduler replica: it claims due
// schedules, hands their jobs to execution, starts jobs within the
// concurrency limits, executes them under heartbeated leases and writes their
// ends in batches. Any number of replicas share one database; they coordinate
// only through row locks, leases and advisory locks.
package scheduler

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/cyberbrain/cyberbrain/pkg/notify"
	"github.com/cyberbrain/cyberbrain/pkg/outage"
	"github.com/cyberbrain/cyberbrain/pkg/store"
	"github.com/cyberbrain/cyberbrain/pkg/tasks"
)

// Scheduler is one replica.
type Scheduler struct {
	cfg Config
	st  *store.Store
	// claims and completions are st pinned to a connection each (the claim
	// loop's statements, the completer's batches): warm plans and buffer
	// mappings on two backends instead of all of the pool's.
	claims, completions *store.Store
	log                 *zap.Logger

	wake chan struct{} // NOTIFY, freed capacity, or a test nudging the loop

	mu      sync.Mutex
	running map[int64]*execution // job id → execution

	execCtx    context.Context // parent of every task context
	execCancel context.CancelCauseFunc
	execWG     sync.WaitGroup

	completer *completer
	deliverer *notify.Deliverer // nil unless Config.Notify

	// Every background goroutine (heartbeat, listener, maintenance) runs
	// in bg, so shutdown can wait for all of them; bgCtx ends them.
	bg       sync.WaitGroup
	bgCtx    context.Context
	bgCancel context.CancelFunc

	killed atomic.Bool
	// clearing is set while a background pass clears lost containers.
	clearing atomic.Bool
	paused   atomic.Bool

	afterClaim atomic.Pointer[func()] // test hook: runs between a claim's commit and the firing of its due slots

	limitsMu     sync.Mutex
	limits       store.Limits
	limitsLoaded time.Time

	lastLook      time.Time // database clock of the last NextWake
	lastRescue    time.Time
	lastRetention time.Time
	lastHealth    time.Time
	statistics    statisticsState
	idle          idleLog
	outage        *outage.Reporter // database outages seen by the loop

	// pruneMore: the last retention pass ran out of budget with runs left.
	pruneMore atomic.Bool
	// retentionBatch and retentionBudget are RetentionBatch and
	// RetentionBudget (tests shrink them).
	retentionBatch  int
	retentionBudget time.Duration

	// TestSignals are inert unless a test calls TestSignals.Init before
	// Run or RunOnce.
	TestSignals TestSignals
}

// New builds a replica.
func New(cfg Config) (*Scheduler, error) {
	if cfg.Store == nil {
		return nil, errors.New("scheduler: no store")
	}
	cfg.defaults()
	s := &Scheduler{
		cfg:         cfg,
		st:          cfg.Store,
		claims:      cfg.Store.Pinned(),
		completions: cfg.Store.Pinned(),
		log:         cfg.Logger.With(zap.String("claimant", cfg.Claimant)),
		wake:        make(chan struct{}, 1),
		running:     map[int64]*execution{},

		retentionBatch:  RetentionBatch,
		retentionBudget: RetentionBudget,
	}
	s.idle.every = cfg.Interval
	s.outage = outage.New(s.log, "database", outage.DefaultEvery)
	s.completer = s.newCompleter()
	s.deliverer = s.newDeliverer()
	s.execCtx, s.execCancel = context.WithCancelCause(context.Background())
	return s, nil
}

// Claimant returns this replica's lease owner name.
func (s *Scheduler) Claimant() string { return s.cfg.Claimant }

// Nudge wakes the loop as a NOTIFY would.
func (s *Scheduler) Nudge() {
	if s.deliverer != nil {
		s.deliverer.Nudge()
	}
	s.wakeLoop()
}

// wakeLoop wakes the loop for another pass (the deliverer is left alone).
func (s *Scheduler) wakeLoop() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Running returns how many jobs this replica executes now.
func (s *Scheduler) Running() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.running)
}

// Pause freezes (true) or resumes (false) the replica's dealings with the
// database — claims, heartbeats, result writes — while its tasks keep
// running: what a paused process (SIGSTOP, a long GC, a cut connection) looks
// like to the others. For tests and chaos drills.
func (s *Scheduler) Pause(on bool) {
	s.paused.Store(on)
	if !on {
		s.Nudge()
	}
}

// Kill stops the replica at once and writes nothing more to the database,
// as SIGKILL would: its leases are left to expire. For tests and chaos drills.
func (s *Scheduler) Kill() {
	s.killed.Store(true)
	s.execCancel(errKilled)
}

var (
	errKilled    = tasks.ErrReplicaKilled
	errLeaseLost = errors.New("lease lost")
	errCancelled = errors.New("run cancelled")
	errShutdown  = errors.New("scheduler shutting down")
)
