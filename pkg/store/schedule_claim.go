package store

import (
	"context"
	"fmt"
	"time"

	"github.com/cyberbrain/cyberbrain/pkg/domain"
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
RETURNING *, now() AS db_now,
    (SELECT count(*) FROM scheduled_runs sr WHERE sr.schedule_id = schedules.id AND sr.status = 'pending') AS pending_runs`

// ClaimedSchedule is a schedule this replica now holds, with the database
// clock at the claim.
type ClaimedSchedule struct {
	Schedule
	DBNow       time.Time
	PendingRuns int // ScheduledRuns waiting: a launch or a run-now
}

// SlotDue reports whether the schedule's own slot is due and must be fired:
// a recurring schedule's next_run_at, or a one-shot schedule created through
// the API. A launch's one-shot schedule is not fired: its run exists already,
// waiting in its pending ScheduledRun.
func (c ClaimedSchedule) SlotDue() bool {
	if !c.Enabled || c.NextRunAt == nil || c.NextRunAt.After(c.DBNow) {
		return false
	}
	return c.ScheduleType != "one_shot" || c.PendingRuns == 0
}

// ClaimSchedules leases due schedules for claimant for ttl.
func (s *Store) ClaimSchedules(ctx context.Context, claimant string, ttl time.Duration, max int) ([]ClaimedSchedule, error) {
	var out []ClaimedSchedule
	err := s.db.WithContext(ctx).Raw(sqlClaimSchedules, claimant, ttl.Seconds(), max).Scan(&out).Error
	if err != nil {
		return nil, fmt.Errorf("claim schedules: %w", err)
	}
	return out, nil
}

// Timing returns the fields that decide when the schedule fires.
func (s Schedule) Timing() domain.Timing {
	t := domain.Timing{Type: s.ScheduleType, CronExpr: s.CronExpr, Timezone: s.Timezone}
	if s.IntervalMinutes != nil {
		t.IntervalMinutes = *s.IntervalMinutes
	}
	return t
}

// ReleaseSchedules gives up claimant's claim on the schedules ids without
// changing anything else: they stay due and the next claim takes them.
func (s *Store) ReleaseSchedules(ctx context.Context, claimant string, ids []int64) error {
	err := s.db.WithContext(ctx).Exec(`UPDATE schedules SET claimed_by = '', claimed_until = NULL
		WHERE claimed_by = ? AND id = ANY(?)`, claimant, Int64s(ids)).Error
	if err != nil {
		return fmt.Errorf("release schedules: %w", err)
	}
	return nil
}
