package scheduler

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"go.uber.org/zap"

	"github.com/cyberbrain/cyberbrain/pkg/domain"
)

// listen wakes the loop on NOTIFY (launch, run-now, enable, schedule writes,
// finished jobs) over a dedicated connection, reconnecting after failures.
// The poll interval stays the fallback.
func (s *Scheduler) listen(ctx context.Context) {
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil && s.execCtx.Err() == nil {
		err := s.listenOnce(ctx)
		if ctx.Err() != nil || s.execCtx.Err() != nil {
			return
		}
		s.log.Warn("LISTEN connection lost; polling until it is back", zap.Error(err), zap.Duration("retry_in", backoff))
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 10*time.Second)
	}
}

func (s *Scheduler) listenOnce(ctx context.Context) error {
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() { // a killed replica drops its connection too
		select {
		case <-s.execCtx.Done():
			cancel()
		case <-lctx.Done():
		}
	}()
	conn, err := pgx.Connect(lctx, s.st.URL())
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(lctx, "LISTEN "+domain.WakeChannel); err != nil {
		return err
	}
	s.Nudge() // anything notified while we were away
	for {
		if _, err := conn.WaitForNotification(lctx); err != nil {
			return err
		}
		s.Nudge()
	}
}
