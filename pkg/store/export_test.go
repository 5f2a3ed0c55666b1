package store

import (
	"context"
	"time"
)

// SQLClaimSchedules exposes the claim statement to the plan test.
var SQLClaimSchedules = sqlClaimSchedules

// Sleep holds one pooled connection for d (the idle-release test opens
// several connections at once with it).
func (s *Store) Sleep(ctx context.Context, d time.Duration) error {
	return s.db.WithContext(ctx).Exec("SELECT pg_sleep(?)", d.Seconds()).Error
}
