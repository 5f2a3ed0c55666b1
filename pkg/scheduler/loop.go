package scheduler

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"go.uber.org/zap"

	"github.com/cyberbrain/cyberbrain/pkg/metrics"
	"github.com/cyberbrain/cyberbrain/pkg/store"
)

// Run executes the replica until ctx is done, then shuts down gracefully:
// stop claiming, let running jobs finish for up to ShutdownTimeout, then hand
// the rest back so another replica retries them at once.
func (s *Scheduler) Run(ctx context.Context) error {
	s.log.Info(fmt.Sprintf("Scheduler starting (interval=%s)...", s.cfg.Interval),
		zap.Duration("interval", s.cfg.Interval), zap.Int("max_claim", s.cfg.MaxClaim),
		zap.Duration("claim_ttl", s.cfg.ClaimTTL), zap.Int("max_concurrent", s.cfg.MaxConcurrent))
	s.startBackground(ctx, !s.cfg.PollOnly)
	s.statisticsBeforeClaiming(ctx)
	for ctx.Err() == nil && !s.killed.Load() {
		res, err := s.pass(ctx)
		switch {
		case err == nil:
			s.outage.OK()
		case ctx.Err() != nil || s.killed.Load():
		case store.IsUnavailable(err):
			s.outage.Fail(err) // a warning every few seconds, not an error per pass
		default:
			s.log.Error("scheduler pass failed", zap.Error(err))
		}
		if res.full {
			continue // more work is likely waiting
		}
		// At most one idle line per interval, as the poll would print it.
		if err == nil && res.idle() && s.Running() == 0 && s.idle.due(s.cfg.Clock.Now()) {
			s.log.Info("No due schedules found")
		}
		s.sleep(ctx, err != nil)
	}
	return s.shutdown()
}

// RunOnce does one claim pass, waits for its jobs and returns (--once).
func (s *Scheduler) RunOnce(ctx context.Context) error {
	s.startBackground(ctx, false)
	_, err := s.pass(ctx)
	s.execWG.Wait()
	if serr := s.shutdown(); err == nil {
		err = serr
	}
	return err
}

// sleep waits for a NOTIFY, freed capacity, the next due time or the poll
// interval (with jitter), whichever comes first; after a failed pass at most
// a second, so work it released (or could not reach) is retried soon.
func (s *Scheduler) sleep(ctx context.Context, failed bool) {
	d := s.cfg.Interval
	if failed {
		d = min(d, failedPassRetry)
	}
	d += time.Duration(rand.Int64N(int64(d)/10 + 1)) // jitter: replicas do not poll in step
	// Events due after the previous look were not seen by the last pass
	// (or became due while it ran); earlier ones were.
	if w, err := s.st.NextWake(ctx, s.lastLook); err == nil {
		s.lastLook = w.DBNow
		if w.OK && w.In < d {
			d = max(w.In+5*time.Millisecond, time.Millisecond)
		}
		if w.ExpiredLeases { // rescue them at the next rescue slot, without spinning
			d = min(d, s.rescueEvery())
		}
	}
	t := s.cfg.Clock.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-s.execCtx.Done():
	case <-s.wake:
	case <-t.C():
	}
}

// maxLoggedNames bounds the schedule names one claim logs: a burst of
// launches claims hundreds at once, and their names would flood the log.
const maxLoggedNames = 10

// claimedLine is the claim's log line: the count and at most
// maxLoggedNames names.
func claimedLine(names []string) string {
	if len(names) <= maxLoggedNames {
		return fmt.Sprintf("Claimed %d due schedule(s): %q", len(names), names)
	}
	return fmt.Sprintf("Claimed %d due schedule(s): %q and %d more", len(names), names[:maxLoggedNames], len(names)-maxLoggedNames)
}

// failedPassRetry is the longest wait after a failed pass.
const failedPassRetry = time.Second

// passResult says what one pass did.
type passResult struct {
	claimed, started int
	full             bool // a whole batch was taken: loop again at once
}

func (r passResult) idle() bool { return r.claimed == 0 && r.started == 0 }

// pass claims due schedules — starting launched work at once, handing the
// rest to execution, firing due slots — and starts as many ready jobs as this
// replica has room for.
func (s *Scheduler) pass(ctx context.Context) (passResult, error) {
	var res passResult
	if s.paused.Load() {
		return res, nil
	}
	// Maintenance (rescue, retention, statistics) after the claim: a wake-up
	// for a launch should not wait behind it.
	defer s.maintain(ctx)
	free := s.cfg.MaxConcurrent - s.Running()
	if free <= 0 {
		return res, nil // claims stop while this replica is full
	}
	limits, err := s.loadLimits(ctx)
	if err != nil {
		return res, err
	}
	claimed, started, err := s.claimDue(ctx, free, limits)
	if err != nil {
		return res, err
	}
	if rest := free - started; rest > 0 {
		more, err := s.startJobs(ctx, rest, limits)
		started += more
		if err != nil {
			return res, err
		}
	}
	res.claimed, res.started = claimed, started
	res.full = claimed == s.cfg.MaxClaim || started == free
	return res, nil
}

// claimDue is the claim step (store.ClaimDue, one statement): launched work
// starts at once, up to free jobs; due slots are leased, then fired. It
// returns how many schedules it took and jobs it started.
func (s *Scheduler) claimDue(ctx context.Context, free int, limits store.Limits) (int, int, error) {
	c, err := s.claims.ClaimDue(ctx, s.cfg.Claimant, s.cfg.ClaimTTL, s.cfg.MaxClaim, free, limits)
	if err != nil {
		return 0, 0, err
	}
	metrics.ClaimTick(len(c.Names))
	if len(c.Names) == 0 {
		return 0, 0, nil
	}
	shown := c.Names[:min(len(c.Names), maxLoggedNames)]
	s.log.Info(claimedLine(c.Names), zap.Int("claimed", len(c.Names)), zap.Strings("schedules", shown))
	for _, h := range c.Handoffs {
		s.log.Info(fmt.Sprintf("Schedule %d (%s) has existing run %d, executing...", h.ScheduleID, h.ScheduleName, h.RunID),
			zap.Int64("schedule_id", h.ScheduleID), zap.String("schedule", h.ScheduleName),
			zap.Int64("run_id", h.RunID), zap.Int64("job_id", h.JobID))
	}
	s.launchAll(c.Started)
	if hook := s.afterClaim.Load(); hook != nil && len(c.Slots) > 0 {
		(*hook)()
	}
	for _, sc := range c.Slots {
		s.fire(ctx, sc)
	}
	s.TestSignals.Claimed.Signal(len(c.Names))
	return len(c.Names), len(c.Started), nil
}

// releaseClaims gives back schedules whose claim committed but whose work
// could not be handed off (a broken connection, a failed statement), so the
// next pass of any replica takes them instead of waiting out the claim TTL.
// It retries for a few seconds: after a connection break the pool may hold
// several dead connections, and each failed try discards one.
func (s *Scheduler) releaseClaims(ctx context.Context, ids []int64) {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	for {
		err := s.st.ReleaseSchedules(rctx, s.cfg.Claimant, ids)
		if err == nil {
			return
		}
		select {
		case <-rctx.Done():
			s.log.Warn("releasing claimed schedules failed; they wait for their claim to expire", zap.Error(err))
			return
		case <-s.after(20 * time.Millisecond):
		}
	}
}

// fire turns a schedule's due slot into a run and advances next_run_at from
// the scheduled time (no drift; missed slots collapse); a one-shot schedule
// ends.
func (s *Scheduler) fire(ctx context.Context, c store.ClaimedSchedule) {
	slot := *c.NextRunAt
	n, err := c.Timing().NextAfter(slot, c.DBNow)
	log := s.log.With(zap.Int64("schedule_id", c.ID), zap.String("schedule", c.Name))
	if err != nil {
		log.Error("cannot compute next run; schedule left to its lease", zap.Error(err))
		return
	}
	var next *time.Time
	if !n.IsZero() {
		next = &n
	}
	fired, err := s.st.FireSlot(ctx, s.cfg.Claimant, c.Schedule, slot, next)
	if err != nil {
		log.Error("fire schedule failed; released for the next pass", zap.Error(err))
		s.releaseClaims(ctx, []int64{c.ID})
		return
	}
	if fired.Duplicate {
		log.Info("slot already fired elsewhere; advanced", zap.Time("scheduled_for", slot), zap.Timep("next_run_at", next))
		return
	}
	if fired.WaitingRunID != 0 {
		log.Info(fmt.Sprintf("Schedule %d (%s) skipped its slot %s: run %d has not started yet", c.ID, c.Name,
			slot.Format(time.RFC3339), fired.WaitingRunID), zap.Int64("waiting_run_id", fired.WaitingRunID), zap.Timep("next_run_at", next))
		return
	}
	log.Info(fmt.Sprintf("Schedule %d (%s) fired run %d for %s", c.ID, c.Name, fired.RunID, slot.Format(time.RFC3339)),
		zap.Int64("run_id", fired.RunID), zap.Int64("job_id", fired.JobID), zap.Timep("next_run_at", next))
}

// startJobs starts ready jobs: first those concurrency limits concern (under
// advisory locks), then the rest, in FIFO order.
func (s *Scheduler) startJobs(ctx context.Context, free int, limits store.Limits) (int, error) {
	var started []store.StartedJob
	if limits.Any() {
		lim, err := s.claims.StartLimitedJobs(ctx, s.cfg.Claimant, s.cfg.ClaimTTL, free, limits)
		if err != nil {
			return 0, err
		}
		started = append(started, lim...)
	}
	if rest := free - len(started); rest > 0 {
		more, err := s.claims.StartFreeJobs(ctx, s.cfg.Claimant, s.cfg.ClaimTTL, rest, limits)
		if err != nil {
			s.launchAll(started)
			return len(started), err
		}
		started = append(started, more...)
	}
	s.launchAll(started)
	return len(started), nil
}

// launchAll executes jobs this replica has just started.
func (s *Scheduler) launchAll(started []store.StartedJob) {
	for _, j := range started {
		s.launch(j)
		s.TestSignals.Started.Signal(j.ID)
	}
}

// loadLimits caches which keys have concurrency limits for a moment.
func (s *Scheduler) loadLimits(ctx context.Context) (store.Limits, error) {
	s.limitsMu.Lock()
	defer s.limitsMu.Unlock()
	if s.since(s.limitsLoaded) < 500*time.Millisecond {
		return s.limits, nil
	}
	l, err := s.st.LoadLimits(ctx)
	if err != nil {
		return l, err
	}
	s.limits, s.limitsLoaded = l, s.cfg.Clock.Now()
	return l, nil
}
