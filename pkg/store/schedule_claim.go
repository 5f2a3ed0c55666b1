package store

import (
	"context"
	"fmt"
	"time"
)

// sqlClaimSchedules leases up to $max due schedules for one claimant in one
// committed statement. It reads only schedules_due_idx (partial on
// due_at IS NOT NULL), however many finished launch schedules exist.
const sqlClaimSchedules = `
UPDATE schedules SET claimed_by = ?, claimed_until = now() + make_interval(secs => ?)
WHERE id IN (
    SELECT id FROM schedules
    WHERE due_at IS NOT NULL AND due_at <= now()
      AND (claimed_until IS NULL OR claimed_until < now())
    ORDER BY due_at, id
    LIMIT ?
    FOR UPDATE SKIP LOCKED)
RETURNING *`

// ClaimSchedules leases due schedules for claimant for ttl.
func (s *Store) ClaimSchedules(ctx context.Context, claimant string, ttl time.Duration, max int) ([]Schedule, error) {
	var out []Schedule
	err := s.DB.WithContext(ctx).Raw(sqlClaimSchedules, claimant, ttl.Seconds(), max).Scan(&out).Error
	if err != nil {
		return nil, fmt.Errorf("claim schedules: %w", err)
	}
	return out, nil
}
