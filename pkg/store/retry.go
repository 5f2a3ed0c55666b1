package store

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"
)

// withRetry runs fn in a transaction and retries it when Postgres aborts it
// for a deadlock or a serialization failure (both safe to replay).
func (s *Store) withRetry(ctx context.Context, fn func(tx *gorm.DB) error) error {
	return s.retry(ctx, func() error { return s.transaction(ctx, fn) })
}

// statementWithRetry is withRetry for a single statement, which is atomic by
// itself: it runs without BEGIN and COMMIT, so its row locks are released as
// it ends on the server instead of one round trip later (when the client
// gets to send COMMIT — long on a busy machine, while other replicas skip
// the locked rows or wait for them).
func (s *Store) statementWithRetry(ctx context.Context, fn func(db *gorm.DB) error) error {
	return s.retry(ctx, func() error {
		ctx, cancel := s.withDeadline(ctx)
		defer cancel()
		return fn(s.db.WithContext(ctx))
	})
}

// retry runs attempt up to five times while it fails with a deadlock or a
// serialization failure, with a short growing pause between tries.
func (s *Store) retry(ctx context.Context, attempt func() error) error {
	var err error
	for i := 0; i < 5; i++ {
		err = attempt()
		if !isRetryableTxError(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(i+1) * 5 * time.Millisecond):
		}
	}
	return err
}

func isRetryableTxError(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "40P01" || pgErr.Code == "40001"
	}
	return false
}

// isLockTimeout reports whether err is PostgreSQL's lock_timeout firing.
func isLockTimeout(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "55P03"
}
