// Package scheduler is cyberbrain's scheduler replica: it claims due
// schedules, hands their jobs to execution, starts jobs within the
// concurrency limits, executes them under heartbeated leases and writes their
// ends in batches. Any number of replicas share one database; they coordinate
// only through row locks, leases and advisory locks.
package scheduler

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/cyberbrain/cyberbrain/pkg/store"
	"github.com/cyberbrain/cyberbrain/pkg/tasks"
)

// Config configures one replica.
type Config struct {
	Store  *store.Store
	Logger *zap.Logger
	Tasks  tasks.Registry

	Claimant        string        // unique per replica; default hostname:pid
	Interval        time.Duration // poll interval (fallback to NOTIFY)
	MaxClaim        int           // schedules per claim
	ClaimTTL        time.Duration // lease length; heartbeats every ClaimTTL/3
	MaxConcurrent   int           // jobs this replica executes at once
	PollOnly        bool          // no LISTEN (for poolers that break it)
	ShutdownTimeout time.Duration // how long running jobs may finish on SIGTERM
	Retention       time.Duration // finished runs older than this are pruned (0 = keep)

	// RetryBackoff is the delay before retry number attempt+1; default
	// exponential from 1 s, capped at 5 min, with jitter.
	RetryBackoff func(attempt int) time.Duration
	// HealthCheck runs one worker-host health pass; one replica at a time
	// runs it every HealthInterval. Nil disables health checks.
	HealthCheck    func(ctx context.Context) error
	HealthInterval time.Duration
}

func (c *Config) defaults() {
	if c.Logger == nil {
		c.Logger = zap.NewNop()
	}
	if c.Claimant == "" {
		host, _ := os.Hostname()
		c.Claimant = fmt.Sprintf("%s:%d", host, os.Getpid())
	}
	if c.Interval <= 0 {
		c.Interval = 30 * time.Second
	}
	if c.MaxClaim <= 0 {
		c.MaxClaim = 10
	}
	if c.ClaimTTL <= 0 {
		c.ClaimTTL = 2 * time.Minute
	}
	if c.MaxConcurrent <= 0 {
		c.MaxConcurrent = 10
	}
	if c.ShutdownTimeout <= 0 {
		c.ShutdownTimeout = 30 * time.Second
	}
	if c.RetryBackoff == nil {
		c.RetryBackoff = DefaultBackoff
	}
	if c.HealthInterval <= 0 {
		c.HealthInterval = 30 * time.Second
	}
}

// DefaultBackoff is exponential from 1 s (1, 2, 4 … s), capped at 5 min,
// with ±20 % jitter so retried jobs do not stampede.
func DefaultBackoff(attempt int) time.Duration {
	if attempt < 1 {
		attempt = 1
	}
	d := time.Second << min(attempt-1, 9)
	if d > 5*time.Minute {
		d = 5 * time.Minute
	}
	return time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
}

// Scheduler is one replica.
type Scheduler struct {
	cfg Config
	st  *store.Store
	log *zap.Logger

	wake chan struct{} // NOTIFY, freed capacity, or a test nudging the loop

	mu      sync.Mutex
	running map[int64]*execution // job id → execution

	execCtx    context.Context // parent of every task context
	execCancel context.CancelCauseFunc
	execWG     sync.WaitGroup

	finishes  chan finishItem
	completer sync.WaitGroup

	killed atomic.Bool
	paused atomic.Bool

	limitsMu     sync.Mutex
	limits       store.Limits
	limitsLoaded time.Time

	lastLook      time.Time // database clock of the last NextWake
	lastRescue    time.Time
	lastRetention time.Time
	lastHealth    time.Time
}

// New builds a replica.
func New(cfg Config) (*Scheduler, error) {
	if cfg.Store == nil {
		return nil, errors.New("scheduler: no store")
	}
	cfg.defaults()
	s := &Scheduler{
		cfg:      cfg,
		st:       cfg.Store,
		log:      cfg.Logger.With(zap.String("claimant", cfg.Claimant)),
		wake:     make(chan struct{}, 1),
		running:  map[int64]*execution{},
		finishes: make(chan finishItem, 4096),
	}
	s.execCtx, s.execCancel = context.WithCancelCause(context.Background())
	return s, nil
}

// Claimant returns this replica's lease owner name.
func (s *Scheduler) Claimant() string { return s.cfg.Claimant }

// Nudge wakes the loop as a NOTIFY would.
func (s *Scheduler) Nudge() {
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
	errKilled    = errors.New("replica killed")
	errLeaseLost = errors.New("lease lost")
	errCancelled = errors.New("run cancelled")
	errShutdown  = errors.New("scheduler shutting down")
)
