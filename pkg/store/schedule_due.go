package store

import (
	"context"
	"fmt"

	"gorm.io/gorm"
)

// Handoff is a launched (or run-now) job handed to execution by a schedule claim.
type Handoff struct {
	ScheduleID   int64
	ScheduleName string
	RunID        int64
	JobID        int64
	TaskType     string
}

// HandOffPending hands the jobs of the claimed schedules' pending
// ScheduledRuns to execution (available_at = now()), then releases the
// schedules in release: one-shot ones end (disabled, next_run_at NULL), due_at
// points at the next slot — one transaction for the whole batch, fenced on
// the lease. Schedules whose own slot is due are released by FireSlot instead.
func (s *Store) HandOffPending(ctx context.Context, claimant string, scheduleIDs, release []int64) ([]Handoff, error) {
	var out []Handoff
	err := s.withRetry(ctx, func(tx *gorm.DB) error {
		out = out[:0]
		if err := tx.Raw(sqlHandOff, claimant, Int64s(scheduleIDs)).Scan(&out).Error; err != nil {
			return err
		}
		if len(release) == 0 {
			return nil
		}
		return tx.Exec(sqlReleaseSchedules, claimant, Int64s(release)).Error
	})
	if err != nil {
		return nil, fmt.Errorf("hand off launched jobs: %w", err)
	}
	return out, nil
}

const sqlHandOff = `
WITH mine AS (
    SELECT id, name FROM schedules WHERE claimed_by = ? AND id = ANY(?)
), srs AS (
    SELECT sr.schedule_id, sr.run_id, sr.job_id, mine.name
    FROM scheduled_runs sr JOIN mine ON mine.id = sr.schedule_id
    WHERE sr.status = 'pending' AND sr.job_id IS NOT NULL
), handed AS (
    UPDATE jobs SET available_at = now()
    FROM srs WHERE jobs.id = srs.job_id AND jobs.status = 'pending' AND jobs.available_at IS NULL
    RETURNING jobs.id, jobs.task_type
)
SELECT srs.schedule_id, srs.name AS schedule_name, srs.run_id, srs.job_id, handed.task_type
FROM srs JOIN handed ON handed.id = srs.job_id
ORDER BY srs.job_id`

// sqlReleaseSchedules ends one-shot schedules, points due_at at the next slot
// (or a pending ScheduledRun not yet handed off) and releases the lease.
const sqlReleaseSchedules = `
UPDATE schedules s SET
    enabled     = CASE WHEN s.schedule_type = 'one_shot' THEN false ELSE s.enabled END,
    next_run_at = CASE WHEN s.schedule_type = 'one_shot' THEN NULL ELSE s.next_run_at END,
    due_at      = ` + sqlDueAt + `,
    claimed_by = '', claimed_until = NULL, updated_at = now()
WHERE s.claimed_by = ? AND s.id = ANY(?)`

// sqlDueAt is when schedule s next needs the scheduler: its next slot while
// enabled, or a pending ScheduledRun whose job was not handed off yet.
const sqlDueAt = `(SELECT min(t) FROM (
        SELECT CASE WHEN s.enabled AND s.schedule_type <> 'one_shot' THEN s.next_run_at END AS t
        UNION ALL
        SELECT sr.scheduled_for FROM scheduled_runs sr JOIN jobs j ON j.id = sr.job_id
        WHERE sr.schedule_id = s.id AND sr.status = 'pending' AND j.available_at IS NULL) x)`
