package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

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

// Fired is a recurring schedule slot turned into a run.
type Fired struct {
	RunID        int64
	JobID        int64
	ScheduledFor time.Time
	Duplicate    bool // the slot had already fired (unique key): nothing created
}

// FireSlot creates Run + Job + ScheduledRun for the slot `slot` of a claimed
// schedule and advances next_run_at to `next` (nil for a one-shot schedule,
// which then ends disabled), releasing the lease — one transaction. A double
// fire of the same slot creates nothing.
func (s *Store) FireSlot(ctx context.Context, claimant string, sch Schedule, slot time.Time, next *time.Time) (*Fired, error) {
	def, dir, err := s.scheduleInputs(ctx, sch)
	if err != nil {
		return nil, err
	}
	hostID, routeErr := s.routeHost(ctx, []TaskDefinition{*def}, sch.TargetHostID)
	snapshot := directiveSnapshot(dir, sch)
	cfg := MergeConfig(def.DefaultConfig, directiveTaskConfig(dir), def.Key)
	out := &Fired{ScheduledFor: slot}
	err = s.withRetry(ctx, func(tx *gorm.DB) error {
		var exists bool
		if err := tx.Raw(`SELECT EXISTS (SELECT 1 FROM scheduled_runs WHERE schedule_id = ? AND scheduled_for = ?)`,
			sch.ID, slot).Scan(&exists).Error; err != nil {
			return err
		}
		out.Duplicate = exists
		if !exists {
			row := tx.Raw(sqlFire, dirID(dir), string(snapshot), hostID, sch.ID, def.Key, string(cfg),
				def.MaxAttempts, def.TimeoutSeconds, slot).Row()
			if err := row.Scan(&out.RunID, &out.JobID); err != nil {
				return err
			}
			if routeErr != nil {
				// No usable host: the run exists (history) and fails at once.
				if err := failUnroutable(tx, out.JobID, routeErr.Error()); err != nil {
					return err
				}
			}
		}
		if err := tx.Exec(`UPDATE schedules SET next_run_at = ?, last_run_at = ?,
			enabled = enabled AND schedule_type <> 'one_shot' WHERE id = ? AND claimed_by = ?`,
			next, slot, sch.ID, claimant).Error; err != nil {
			return err
		}
		res := tx.Exec(`UPDATE schedules s SET due_at = `+sqlDueAt+`, claimed_by = '', claimed_until = NULL, updated_at = now()
			WHERE s.id = ? AND s.claimed_by = ?`, sch.ID, claimant)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return errLeaseLost
		}
		return nil
	})
	if errors.Is(err, errLeaseLost) {
		return nil, fmt.Errorf("fire schedule %d: lease lost", sch.ID)
	}
	if err != nil {
		return nil, fmt.Errorf("fire schedule %d: %w", sch.ID, err)
	}
	return out, nil
}

var errLeaseLost = errors.New("lease lost")

// sqlFire creates a recurring slot's run, job and ScheduledRun; the job is
// handed to execution at once.
const sqlFire = `
WITH r AS (
    INSERT INTO runs (directive_id, directive_snapshot, worker_host_id) VALUES (?, ?::jsonb, ?) RETURNING id, worker_host_id
), j AS (
    INSERT INTO jobs (run_id, schedule_id, task_type, config, worker_host_id, max_attempts, timeout_seconds, available_at)
    SELECT r.id, ?, ?, ?::jsonb, r.worker_host_id, ?, ?, now() FROM r
    RETURNING id, run_id, schedule_id
), sr AS (
    INSERT INTO scheduled_runs (schedule_id, run_id, job_id, scheduled_for)
    SELECT j.schedule_id, j.run_id, j.id, ? FROM j RETURNING id
)
SELECT j.run_id, j.id FROM j, (SELECT count(*) FROM sr) linked`

func failUnroutable(tx *gorm.DB, jobID int64, msg string) error {
	return tx.Exec(`WITH j AS (
		UPDATE jobs SET status = 'failed', completed_at = now(), error_message = ?, available_at = NULL
		WHERE id = ? RETURNING id, run_id)
	, sr AS (UPDATE scheduled_runs SET status = 'failed', finished_at = now(), error_summary = ? FROM j WHERE scheduled_runs.job_id = j.id)
	UPDATE runs SET status = 'failed', completed_at = now(), error_message = ? FROM j WHERE runs.id = j.run_id`,
		msg, jobID, msg, msg).Error
}

// scheduleInputs loads the task definition and directive of a schedule.
func (s *Store) scheduleInputs(ctx context.Context, sch Schedule) (*TaskDefinition, *Directive, error) {
	db := s.db.WithContext(ctx)
	var def TaskDefinition
	if err := db.Where("key = ?", sch.Task).Take(&def).Error; err != nil {
		return nil, nil, fmt.Errorf("load task %q of schedule %d: %w", sch.Task, sch.ID, err)
	}
	if sch.DirectiveID == nil {
		return &def, nil, nil
	}
	var dir Directive
	if err := db.Take(&dir, *sch.DirectiveID).Error; err != nil {
		return nil, nil, fmt.Errorf("load directive of schedule %d: %w", sch.ID, err)
	}
	return &def, &dir, nil
}

func directiveSnapshot(dir *Directive, sch Schedule) []byte {
	snap := map[string]any{"schedule_id": sch.ID, "schedule": sch.Name}
	if dir != nil {
		snap["id"], snap["name"], snap["description"], snap["task_config"] = dir.ID, dir.Name, dir.Description, dir.TaskConfig
	}
	if sch.CustomDirectiveText != "" {
		snap["custom_directive_text"] = sch.CustomDirectiveText
	}
	b, _ := json.Marshal(snap)
	return b
}

func directiveTaskConfig(dir *Directive) json.RawMessage {
	if dir == nil {
		return nil
	}
	return dir.TaskConfig
}

func dirID(dir *Directive) *int64 {
	if dir == nil {
		return nil
	}
	return &dir.ID
}
