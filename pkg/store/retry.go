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
	var err error
	for i := 0; i < 5; i++ {
		err = s.transaction(ctx, fn)
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
