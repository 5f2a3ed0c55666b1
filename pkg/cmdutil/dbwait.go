package cmdutil

import (
	"context"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/cyberbrain/cyberbrain/pkg/store"
)

// Backoff between tries to reach a database that is not up yet.
const (
	firstRetry = 250 * time.Millisecond
	maxRetry   = 5 * time.Second
)

// openWaiting opens the store, retrying with backoff for up to wait while
// the database is unreachable or starting up: containers and Kubernetes
// start the database and its clients in any order. Each failed try is
// logged; errors that waiting cannot fix (a bad URL, a wrong password) fail
// at once.
func openWaiting(ctx context.Context, url string, opts store.Options, wait time.Duration, log *zap.Logger) (*store.Store, error) {
	start := time.Now()
	delay := firstRetry
	for try := 1; ; try++ {
		st, err := store.Open(ctx, url, opts)
		if err == nil {
			if try > 1 {
				log.Info("database is up", zap.Int("tries", try), zap.Duration("waited", time.Since(start).Round(time.Millisecond)))
			}
			return st, nil
		}
		left := wait - time.Since(start)
		if !store.IsUnavailable(err) || ctx.Err() != nil {
			return nil, err
		}
		if left <= 0 {
			return nil, fmt.Errorf("database not reachable after %d tries in %v (--db-wait %v): %w",
				try, time.Since(start).Round(time.Second), wait, err)
		}
		delay = min(delay, left)
		log.Warn("database not reachable yet; retrying", zap.Int("try", try), zap.Duration("retry_in", delay),
			zap.Duration("gives_up_in", left.Round(time.Second)), zap.Error(err))
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("waiting for the database: %w", ctx.Err())
		case <-time.After(delay):
		}
		delay = min(2*delay, maxRetry)
	}
}
