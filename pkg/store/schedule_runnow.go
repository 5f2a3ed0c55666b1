package store

import (
	"context"
	"fmt"

	"gorm.io/gorm"
)

// RunScheduleNow creates a run of the schedule's task due at once (through
// the one run-creation path: a pending ScheduledRun the scheduler that claims
// the schedule hands off), marks the schedule run (last_run_at) and due
// (due_at = now) without touching next_run_at, and wakes the schedulers. It
// never executes anything.
func (s *Store) RunScheduleNow(ctx context.Context, id int64) (int64, error) {
	runID, _, err := s.RunScheduleNowWithKey(ctx, id, nil)
	return runID, err
}

// RunScheduleNowWithKey is RunScheduleNow under an idempotency key (nil:
// none): a retry with k answers the run the first request created
// (replayed), see LaunchWithKey.
func (s *Store) RunScheduleNowWithKey(ctx context.Context, id int64, k *IdempotencyKey) (int64, bool, error) {
	var runID int64
	var replayed bool
	err := s.transaction(ctx, func(tx *gorm.DB) error {
		var err error
		runID, replayed, err = withKey(tx, k, func() (int64, error) { return runNow(ctx, tx, id) })
		return err
	})
	if err != nil {
		return 0, false, err
	}
	if !replayed {
		s.Wake()
		s.RunsChanged(runID)
	}
	return runID, replayed, nil
}

// runNow creates the run of a run-now in tx and returns its id.
func runNow(ctx context.Context, tx *gorm.DB, id int64) (int64, error) {
	// The row lock makes concurrent run-nows and edits of this schedule
	// take turns.
	sc, err := getSchedule(tx, id, true)
	if err != nil {
		return 0, err
	}
	row, err := planOne(ctx, tx, scheduleSpec(sc, nil)) // refused (400) for a disabled task or no usable host
	if err != nil {
		return 0, err
	}
	created, err := createRuns(tx, []newRun{*row})
	if err != nil {
		return 0, clientDBError(err, "run schedule now",
			"a run of this schedule is already due at this instant", "schedule changed meanwhile")
	}
	if err := tx.Exec(`UPDATE schedules SET last_run_at = now(), due_at = now(), updated_at = now() WHERE id = ?`, id).Error; err != nil {
		return 0, fmt.Errorf("mark schedule %d run: %w", id, err)
	}
	return created[0].ID, nil
}
