package store

import (
	"context"
	"encoding/json"
	"fmt"

	"gorm.io/gorm"

	"github.com/cyberbrain/cyberbrain/pkg/domain"
)

// sqlRunNow creates, in one statement, the run, its job and a ScheduledRun due
// now, marks the schedule run (last_run_at) and due (due_at = now) without
// touching next_run_at, and wakes the schedulers. The scheduler that claims
// the schedule finds the pending ScheduledRun and executes that run.
const sqlRunNow = `
WITH r AS (
    INSERT INTO runs (directive_id, directive_snapshot, worker_host_id)
    VALUES (@directive, CAST(@snapshot AS jsonb), @host)
    RETURNING id, worker_host_id
), j AS (
    INSERT INTO jobs (run_id, schedule_id, task_type, position, config, worker_host_id, max_attempts, timeout_seconds)
    SELECT r.id, @schedule, @task, 0, CAST(@config AS jsonb), r.worker_host_id, @max_attempts, @timeout FROM r
    RETURNING id, run_id
), sr AS (
    INSERT INTO scheduled_runs (schedule_id, run_id, job_id, scheduled_for)
    SELECT @schedule, j.run_id, j.id, now() FROM j
    RETURNING id
), s AS (
    UPDATE schedules SET last_run_at = now(), due_at = now(), updated_at = now()
    WHERE id = @schedule
    RETURNING id
)
SELECT r.id FROM r, (SELECT count(*) FROM sr) AS linked, (SELECT count(*) FROM s) AS marked`

// RunScheduleNow creates a run of the schedule's task due at once and
// returns its id. It never executes anything: a scheduler picks it up.
func (s *Store) RunScheduleNow(ctx context.Context, id int64) (int64, error) {
	var runID int64
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		// The row lock makes concurrent run-nows and edits of this schedule
		// take turns.
		sc, err := getSchedule(tx, id, true)
		if err != nil {
			return err
		}
		var def TaskDefinition
		if err := tx.Where("key = ?", sc.Task).Take(&def).Error; err != nil {
			return fmt.Errorf("load task %q of schedule %d: %w", sc.Task, id, err)
		}
		if !def.Enabled {
			return domain.Invalid(map[string][]string{"task_key": {fmt.Sprintf("task %q is disabled", def.Key)}},
				"task %q of this schedule is disabled", def.Key)
		}
		directiveID, snapshot, taskConfig, err := s.scheduleDirective(ctx, tx, sc)
		if err != nil {
			return err
		}
		hostID, err := s.routeHost(ctx, []TaskDefinition{def}, sc.TargetHostID)
		if err != nil {
			return err
		}
		err = tx.Raw(sqlRunNow, map[string]any{
			"directive": directiveID, "snapshot": string(snapshot), "host": hostID, "schedule": sc.ID,
			"task": def.Key, "config": string(MergeConfig(def.DefaultConfig, taskConfig, def.Key)),
			"max_attempts": def.MaxAttempts, "timeout": def.TimeoutSeconds,
		}).Scan(&runID).Error
		if err != nil {
			return clientDBError(err, "run schedule now",
				"a run of this schedule is already due at this instant", "schedule changed meanwhile")
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	s.Wake()
	return runID, nil
}

// scheduleDirective returns what a schedule's run is created from: its
// directive, its custom directive text (no directive row), or the default
// directive.
func (s *Store) scheduleDirective(ctx context.Context, tx *gorm.DB, sc *Schedule) (*int64, []byte, json.RawMessage, error) {
	if sc.CustomDirectiveText != "" {
		snap, _ := json.Marshal(map[string]any{"name": "custom", "custom_directive_text": sc.CustomDirectiveText,
			"schedule_id": sc.ID})
		return nil, snap, nil, nil
	}
	var dir *Directive
	if sc.DirectiveID != nil {
		var d Directive
		if err := tx.Take(&d, *sc.DirectiveID).Error; err != nil {
			return nil, nil, nil, fmt.Errorf("load directive %d of schedule %d: %w", *sc.DirectiveID, sc.ID, err)
		}
		dir = &d
	} else {
		d, err := s.defaultDirective(ctx)
		if err != nil {
			return nil, nil, nil, err
		}
		dir = d
	}
	snap, _ := json.Marshal(map[string]any{"id": dir.ID, "name": dir.Name, "description": dir.Description,
		"task_config": dir.TaskConfig})
	return &dir.ID, snap, dir.TaskConfig, nil
}
