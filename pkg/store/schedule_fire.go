package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// Fired is a recurring schedule slot turned into a run.
type Fired struct {
	RunID        int64
	JobID        int64
	ScheduledFor time.Time
	Duplicate    bool // the slot had already fired (unique key): nothing created
	// WaitingRunID is set when the slot was skipped: the schedule's previous
	// run (WaitingRunID) has not started yet, and a recurring schedule keeps
	// at most one run waiting (docs/DESIGN.md §8). Nothing was created.
	WaitingRunID int64
}

// FireSlot creates the run of the slot `slot` of a claimed schedule (through
// the one run-creation path, the job handed to execution at once) and
// advances next_run_at to `next` (nil for a one-shot schedule, which then
// ends disabled), releasing the lease — one transaction. A double fire of the
// same slot creates nothing.
func (s *Store) FireSlot(ctx context.Context, claimant string, sch Schedule, slot time.Time, next *time.Time) (*Fired, error) {
	row, err := planOne(ctx, s.db, scheduleSpec(&sch, &slot))
	if err != nil {
		return nil, fmt.Errorf("fire schedule %d: %w", sch.ID, err)
	}
	out := &Fired{ScheduledFor: slot}
	err = s.withRetry(ctx, func(tx *gorm.DB) error {
		if err := fireOnce(tx, sch.ID, slot, row, out); err != nil {
			return err
		}
		return advanceSchedule(tx, claimant, sch.ID, slot, next)
	})
	if errors.Is(err, errLeaseLost) {
		return nil, fmt.Errorf("fire schedule %d: lease lost", sch.ID)
	}
	if err != nil {
		return nil, fmt.Errorf("fire schedule %d: %w", sch.ID, err)
	}
	if out.RunID != 0 && !out.Duplicate {
		s.RunsChanged(out.RunID)
	}
	return out, nil
}

// fireOnce creates the slot's run unless the slot has fired already.
func fireOnce(tx *gorm.DB, scheduleID int64, slot time.Time, row *newRun, out *Fired) error {
	if err := tx.Raw(`SELECT EXISTS (SELECT 1 FROM scheduled_runs WHERE schedule_id = ? AND scheduled_for = ?)`,
		scheduleID, slot).Scan(&out.Duplicate).Error; err != nil {
		return err
	}
	if out.Duplicate {
		return nil
	}
	// A run that waits (its job not started: limits full, no replica free)
	// already covers this slot; a second would only pile up behind it.
	if err := tx.Raw(`SELECT coalesce(min(run_id), 0) FROM scheduled_runs WHERE schedule_id = ? AND status = 'pending'`,
		scheduleID).Scan(&out.WaitingRunID).Error; err != nil {
		return err
	}
	if out.WaitingRunID != 0 {
		return nil
	}
	created, err := createRuns(tx, []newRun{*row})
	if err != nil {
		return err
	}
	out.RunID, out.JobID = created[0].ID, created[0].Jobs[0].ID
	return nil
}

// advanceSchedule moves a claimed schedule past its fired slot and releases
// it; errLeaseLost when the claim is no longer this claimant's.
func advanceSchedule(tx *gorm.DB, claimant string, id int64, slot time.Time, next *time.Time) error {
	if err := tx.Exec(`UPDATE schedules SET next_run_at = ?, last_run_at = ?,
		enabled = enabled AND schedule_type <> 'one_shot' WHERE id = ? AND claimed_by = ?`,
		next, slot, id, claimant).Error; err != nil {
		return err
	}
	res := tx.Exec(`UPDATE schedules s SET due_at = `+sqlDueAt+`, claimed_by = '', claimed_until = NULL, updated_at = now()
		WHERE s.id = ? AND s.claimed_by = ?`, id, claimant)
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return errLeaseLost
	}
	return nil
}

var errLeaseLost = errors.New("lease lost")
