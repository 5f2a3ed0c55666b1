package store

import (
	"context"
	"time"
)

// SQLClaimDue exposes the claim statement to the plan test.
func SQLClaimDue(max int) string { return claimDueSQL(max) }

// Sleep holds one pooled connection for d (the idle-release test opens
// several connections at once with it).
func (s *Store) Sleep(ctx context.Context, d time.Duration) error {
	return s.db.WithContext(ctx).Exec("SELECT pg_sleep(?)", d.Seconds()).Error
}

// JobsReady exposes the finish's wake-up check.
func (s *Store) JobsReady(ctx context.Context) (bool, error) { return s.jobsReady(ctx) }

// ResumeInputReuse ends the pause of launch input reuse that follows a
// batch the reused inputs failed.
func (s *Store) ResumeInputReuse() { s.reuseInputsAfter.Store(0) }
