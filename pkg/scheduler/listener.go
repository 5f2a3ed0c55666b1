package scheduler

import (
	"context"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/cyberbrain/cyberbrain/pkg/domain"
)

// listen wakes the loop on NOTIFY (launch, run-now, enable, schedule writes,
// finished jobs) over the store's dedicated LISTEN connection, reconnecting
// after failures. The poll interval stays the fallback.
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
		case <-s.execCtx.Done():
			return
		case <-s.after(backoff):
		}
		backoff = min(backoff*2, 10*time.Second)
	}
}

func (s *Scheduler) listenOnce(ctx context.Context) error {
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// A killed replica drops its connection too.
	stop := context.AfterFunc(s.execCtx, cancel)
	defer stop()
	l, err := s.st.Listen(lctx, domain.WakeChannel)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	defer func() {
		cctx, ccancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer ccancel()
		_ = l.Close(cctx)
	}()
	s.TestSignals.Listening.Signal(struct{}{})
	s.Nudge() // anything notified while we were away
	for {
		if _, err := l.WaitForNotification(lctx); err != nil {
			return err
		}
		s.Nudge()
	}
}
