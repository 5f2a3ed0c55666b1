package scheduler

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"time"

	"go.uber.org/zap"

	"github.com/cyberbrain/cyberbrain/pkg/notify"
	"github.com/cyberbrain/cyberbrain/pkg/store"
	"github.com/cyberbrain/cyberbrain/pkg/tasks"
)

// Config configures one replica.
type Config struct {
	Store  *store.Store
	Logger *zap.Logger
	Tasks  tasks.Registry
	// Containers runs the jobs of container task definitions and clears the
	// containers of lost attempts before they are rescued. Nil: this replica
	// runs no container task (their jobs fail as unknown here) and leaves
	// their rescue to replicas that have it.
	Containers ContainerRunner

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

	// CompleteTries and CompleteGiveUp bound the rewrites of a batch of job
	// results that failed (whichever comes first; default 20 tries, and the
	// longer of ClaimTTL and 1 min since the first failure). After that the
	// results are dropped and the jobs left to lease expiry and rescue.
	CompleteTries  int
	CompleteGiveUp time.Duration

	// Notify, when set, runs a notification deliverer in this replica
	// (Store, Claimant, Logger and Paused are filled in from the replica).
	Notify *notify.Config

	// Clock is the Go-side clock for cadences and backoff (default the wall
	// clock); leases and due times use the database's clock regardless.
	Clock Clock
}

// ContainerRunner is what a replica needs of the container runner
// (*tasks.ContainerTask): run an attempt, and clear a job's containers.
type ContainerRunner interface {
	tasks.Task
	Clear(ctx context.Context, host *store.WorkerHost, jobID int64) error
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
	if c.CompleteTries <= 0 {
		c.CompleteTries = 20
	}
	if c.CompleteGiveUp <= 0 {
		c.CompleteGiveUp = max(c.ClaimTTL, time.Minute)
	}
	if c.Clock == nil {
		c.Clock = RealClock{}
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
