package scheduler

import (
	"context"
	"time"

	"go.uber.org/zap"

	"github.com/cyberbrain/cyberbrain/pkg/store"
)

// completeRetry bounds the rewrites of a batch that failed: whichever of
// MaxTries and GiveUpAfter (since the first failure) is reached first.
type completeRetry struct {
	MaxTries    int
	GiveUpAfter time.Duration
}

// delay is the pause after failed write number try: linear from 200 ms,
// capped at 5 s — a database restart is ridden out without hammering it.
func (completeRetry) delay(try int) time.Duration {
	return min(time.Duration(try)*200*time.Millisecond, 5*time.Second)
}

// writeBatch writes a batch, retrying failures within c.retry. Giving up is
// safe: the batch's executions are forgotten, so their heartbeats stop, their
// leases expire and a replica's rescue retries the jobs — the same recovery
// as for a replica that died — at the price of running them again.
func (c *completer) writeBatch(ctx context.Context, batch []finishItem) {
	fs := make([]store.Finish, len(batch))
	for i, it := range batch {
		fs[i] = it.finish
	}
	var firstFailure time.Time
	for try := 1; ; try++ {
		if !c.waitWhilePaused(ctx) {
			return // killed: a killed replica writes nothing
		}
		wctx, cancel := context.WithTimeout(ctx, writeTimeout)
		res, err := c.write(wctx, fs)
		cancel()
		if err == nil {
			c.written(batch, res)
			return
		}
		if ctx.Err() != nil {
			return
		}
		now := c.clock.Now()
		if firstFailure.IsZero() {
			firstFailure = now
		}
		if try >= c.retry.MaxTries || now.Sub(firstFailure) >= c.retry.GiveUpAfter {
			c.log.Error("giving up writing job results; their leases will expire and the jobs be rescued",
				zap.Error(err), zap.Int("jobs", len(fs)), zap.Int("tries", try))
			c.abandon(batch, err)
			return
		}
		// The database is unreachable (or the batch cannot be written yet):
		// keep the results and try again; the leases (heartbeats continue)
		// protect the jobs meanwhile.
		d := c.retry.delay(try)
		c.log.Error("writing job results failed; retrying", zap.Error(err), zap.Int("jobs", len(fs)),
			zap.Int("try", try), zap.Duration("retry_in", d))
		if !c.sleep(ctx, d) {
			return
		}
	}
}

// waitWhilePaused holds writes while the replica is paused (a paused process
// does not write); false if ctx ended meanwhile. Paused time is not a try.
func (c *completer) waitWhilePaused(ctx context.Context) bool {
	for c.paused() {
		if !c.sleep(ctx, 10*time.Millisecond) {
			return false
		}
	}
	return ctx.Err() == nil
}

// sleep waits d on the completer's clock; false if ctx ended first.
func (c *completer) sleep(ctx context.Context, d time.Duration) bool {
	t := c.clock.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C():
		return true
	}
}
