package notify

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/cyberbrain/cyberbrain/pkg/scheduler/testsignal"
	"github.com/cyberbrain/cyberbrain/pkg/store"
)

// Config configures a Deliverer.
type Config struct {
	Store    *store.Store
	Sender   *Sender
	Claimant string
	Logger   *zap.Logger
	// Interval is the poll for due deliveries (retries coming due, rows
	// written by the API's process); nudges do the fast path. Default 5 s.
	Interval time.Duration
	// SendTimeout bounds one attempt; Lease (default 4×SendTimeout, at
	// least 1 min) must outlast it so a live sender never loses its claim.
	SendTimeout time.Duration
	Lease       time.Duration
	Batch       int // deliveries claimed at once (default 20)
	// Backoff is the delay before retry number attempt+1 (default
	// exponential from 1 s, capped at 5 min, with jitter).
	Backoff func(attempt int) time.Duration
	// Paused, when it reports true, keeps the deliverer off the database
	// (the scheduler's Pause).
	Paused func() bool
}

func (c *Config) defaults() {
	if c.Sender == nil {
		c.Sender = &Sender{}
	}
	if c.Logger == nil {
		c.Logger = zap.NewNop()
	}
	if c.Interval <= 0 {
		c.Interval = 5 * time.Second
	}
	if c.SendTimeout <= 0 {
		c.SendTimeout = 30 * time.Second
	}
	if c.Lease <= 0 {
		c.Lease = max(4*c.SendTimeout, time.Minute)
	}
	if c.Batch <= 0 {
		c.Batch = 20
	}
	if c.Backoff == nil {
		c.Backoff = DefaultBackoff
	}
	if c.Paused == nil {
		c.Paused = func() bool { return false }
	}
}

// DefaultBackoff is 1, 2, 4 … s, capped at 5 min, ±20 % jitter.
func DefaultBackoff(attempt int) time.Duration {
	d := time.Second << min(max(attempt-1, 0), 9)
	d = min(d, 5*time.Minute)
	return time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
}

// Deliverer sends the outbox. It is a component: Start it once, Stop it
// once. Any number of replicas run one each; SKIP LOCKED shares the rows.
type Deliverer struct {
	cfg  Config
	log  *zap.Logger
	wake chan struct{}
	stop chan struct{}
	done chan struct{}

	// TestSignals are inert unless a test calls Init before Start.
	TestSignals TestSignals
}

// TestSignals are the points tests wait on.
type TestSignals struct {
	Attempted testsignal.TestSignal[AttemptSignal] // an attempt ended (recorded or not)
}

// AttemptSignal is one finished attempt.
type AttemptSignal struct {
	DeliveryID int64
	Attempt    int
	OK         bool
	Recorded   bool // the fenced write was accepted
}

// New builds a Deliverer.
func New(cfg Config) *Deliverer {
	cfg.defaults()
	return &Deliverer{cfg: cfg, log: cfg.Logger.Named("notify"), wake: make(chan struct{}, 1)}
}

// Nudge makes the deliverer look for due deliveries now.
func (d *Deliverer) Nudge() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Start runs the deliverer until Stop or until ctx ends. Cancelling ctx
// (a killed replica) aborts sends in flight and writes nothing more: their
// leases expire and another replica resends with the same idempotency key.
func (d *Deliverer) Start(ctx context.Context) {
	d.stop, d.done = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(d.done)
		d.run(ctx)
	}()
}

// Stop lets the sends in flight finish and be recorded, then returns.
func (d *Deliverer) Stop() {
	close(d.stop)
	<-d.done
}

func (d *Deliverer) run(ctx context.Context) {
	for {
		n := 0
		if !d.cfg.Paused() {
			n = d.pass(ctx)
		}
		if n == d.cfg.Batch {
			select {
			case <-d.stop:
				return
			default:
				continue // more may be due
			}
		}
		t := time.NewTimer(d.cfg.Interval)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-d.stop:
			t.Stop()
			return
		case <-d.wake:
		case <-t.C:
		}
		t.Stop()
	}
}

// pass claims one batch and sends it, each delivery in its own goroutine,
// and returns how many it claimed.
func (d *Deliverer) pass(ctx context.Context) int {
	ds, err := d.cfg.Store.ClaimDeliveries(ctx, d.cfg.Claimant, d.cfg.Batch, d.cfg.Lease)
	if err != nil {
		if ctx.Err() == nil {
			d.log.Warn("claiming notification deliveries failed", zap.Error(err))
		}
		return 0
	}
	var wg sync.WaitGroup
	for _, del := range ds {
		wg.Go(func() { d.deliver(ctx, del) })
	}
	wg.Wait()
	return len(ds)
}

// deliver makes one attempt and records it, fenced on this claim.
func (d *Deliverer) deliver(ctx context.Context, del store.Delivery) {
	log := d.log.With(zap.Int64("delivery_id", del.ID), zap.Int("attempt", del.Attempt), zap.String("event", string(del.Event)))
	sendCtx, cancel := context.WithTimeout(ctx, d.cfg.SendTimeout)
	defer cancel()
	var r store.SendResult
	ch, err := d.cfg.Store.GetNotificationChannel(sendCtx, del.ChannelID)
	switch {
	case err != nil:
		r = store.SendResult{Error: "load channel: " + err.Error()}
	case !ch.Enabled:
		r = store.SendResult{Error: "channel disabled", Permanent: true}
	default:
		r = d.cfg.Sender.Send(sendCtx, ch, del)
	}
	if ctx.Err() != nil {
		return // killed: record nothing, the lease will expire
	}
	recCtx, cancelRec := context.WithTimeout(ctx, d.cfg.SendTimeout)
	defer cancelRec()
	moved, err := d.cfg.Store.FinishDelivery(recCtx, d.cfg.Claimant, del, r, d.cfg.Backoff(del.Attempt))
	switch {
	case err != nil:
		log.Warn("recording a notification attempt failed; the lease will expire and it is resent", zap.Error(err))
	case !moved:
		log.Warn("notification lease lost before its result was recorded")
	case r.OK:
		log.Info(fmt.Sprintf("Notification %d sent (%s)", del.ID, del.Event), zap.Int("status_code", r.StatusCode))
	case r.Permanent || del.Attempt >= del.MaxAttempts:
		log.Warn(fmt.Sprintf("Notification %d failed for good", del.ID), zap.String("error", r.Error))
	default:
		log.Info(fmt.Sprintf("Notification %d attempt failed, retrying", del.ID), zap.String("error", r.Error))
	}
	d.TestSignals.Attempted.Signal(AttemptSignal{DeliveryID: del.ID, Attempt: del.Attempt, OK: r.OK, Recorded: moved && err == nil})
}

// Init arms every signal. Tests only.
func (ts *TestSignals) Init(tb testsignal.TB) { ts.Attempted.Init(tb) }
