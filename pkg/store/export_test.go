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

// BackendPID is the server process of the connection a statement of s runs
// on (the pinned-connection test).
func (s *Store) BackendPID(ctx context.Context) (int, error) {
	var pid int
	err := s.db.WithContext(ctx).Raw("SELECT pg_backend_pid()").Scan(&pid).Error
	return pid, err
}

// BackendPID is the server process of the transaction's connection.
func (tx *Tx) BackendPID(ctx context.Context) (int, error) {
	var pid int
	err := tx.db.WithContext(ctx).Raw("SELECT pg_backend_pid()").Scan(&pid).Error
	return pid, err
}

// TerminateBackend ends the server process pid (pg_terminate_backend) and
// waits up to 5 s for it to exit.
func (s *Store) TerminateBackend(ctx context.Context, pid int) error {
	return s.db.WithContext(ctx).Exec("SELECT pg_terminate_backend(?, 5000)", pid).Error
}
