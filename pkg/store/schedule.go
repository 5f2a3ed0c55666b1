package store

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/cyberbrain/cyberbrain/pkg/domain"
)

// GetSchedule loads one schedule.
func (s *Store) GetSchedule(ctx context.Context, id int64) (*Schedule, error) {
	return getSchedule(s.db.WithContext(ctx), id, false)
}

func getSchedule(db *gorm.DB, id int64, forUpdate bool) (*Schedule, error) {
	q := `SELECT * FROM schedules WHERE id = ?`
	if forUpdate {
		q += ` FOR UPDATE`
	}
	var sc Schedule
	if err := db.Raw(q, id).Scan(&sc).Error; err != nil {
		return nil, fmt.Errorf("load schedule %d: %w", id, err)
	}
	if sc.ID == 0 {
		return nil, domain.NotFound("Schedule not found")
	}
	return &sc, nil
}

// sqlScheduleDue keeps schedules.due_at consistent in the statement that
// changes next_run_at or enabled: the earliest of next_run_at (while
// enabled) and a pending ScheduledRun (launch, run-now) not yet handed to
// execution. least() skips NULLs.
const sqlScheduleDue = `least(CASE WHEN @enabled THEN CAST(@next AS timestamptz) END,
	(SELECT min(p.scheduled_for) FROM scheduled_runs p JOIN jobs j ON j.id = p.job_id
	 WHERE p.schedule_id = schedules.id AND p.status = 'pending' AND j.available_at IS NULL))`

// ScheduleWrite is a create or a full edit: the new state of every editable
// field, and next_run_at when the client gave it (one-shot fire time, or the
// first slot of a recurring schedule).
type ScheduleWrite struct {
	Schedule
	ExplicitNextRunAt *time.Time
}

// CreateSchedule validates and inserts a schedule, computing next_run_at and
// due_at, and wakes the schedulers when it is enabled.
func (s *Store) CreateSchedule(ctx context.Context, w *ScheduleWrite) (*Schedule, error) {
	if fields := ValidateSchedule(&w.Schedule); len(fields) > 0 {
		return nil, domain.Invalid(fields, "invalid schedule")
	}
	var out Schedule
	notify := false
	err := s.transaction(ctx, func(tx *gorm.DB) error {
		if err := checkScheduleRefs(tx, &w.Schedule); err != nil {
			return err
		}
		next, err := s.nextFor(tx, &w.Schedule, w.ExplicitNextRunAt)
		if err != nil {
			return err
		}
		sc := w.Schedule
		err = tx.Raw(`INSERT INTO schedules (name, task, directive_id, custom_directive_text, target_host_id, enabled,
			schedule_type, interval_minutes, cron_expr, timezone, max_global, max_per_job, next_run_at, due_at)
			VALUES (@name, @task, @directive, @custom, @host, @enabled, @type, @interval, @cron, @tz, @maxg, @maxj,
			        CAST(@next AS timestamptz), CASE WHEN @enabled THEN CAST(@next AS timestamptz) END)
			RETURNING *`, scheduleArgs(&sc, next)).Scan(&out).Error
		if err != nil {
			return scheduleErr(err, sc.Name)
		}
		notify = sc.Enabled
		return nil
	})
	if err != nil {
		return nil, err
	}
	if notify {
		s.Wake()
	}
	return &out, nil
}

// scheduleArgs binds the editable columns of the insert and the update
// (next is next_run_at: a time, or nil to leave it unset).
func scheduleArgs(sc *Schedule, next any) map[string]any {
	return map[string]any{
		"name": sc.Name, "task": sc.Task, "directive": sc.DirectiveID, "custom": sc.CustomDirectiveText,
		"host": sc.TargetHostID, "enabled": sc.Enabled, "type": sc.ScheduleType, "interval": sc.IntervalMinutes,
		"cron": sc.CronExpr, "tz": sc.Timezone, "maxg": sc.MaxGlobal, "maxj": sc.MaxPerJob, "next": next,
	}
}

// nextFor returns next_run_at for a schedule written now: the explicit value,
// or the first slot computed from the database clock.
func (s *Store) nextFor(tx *gorm.DB, sc *Schedule, explicit *time.Time) (time.Time, error) {
	if explicit != nil {
		return explicit.UTC(), nil
	}
	var now time.Time
	if err := tx.Raw(`SELECT now()`).Scan(&now).Error; err != nil {
		return time.Time{}, fmt.Errorf("database now: %w", err)
	}
	return firstRunAt(sc, now)
}

// UpdateSchedule applies an edit under the row lock. edit receives the
// current row and returns the new state; next_run_at is recomputed only when
// a timing field changed, the client gave next_run_at, or the schedule gets
// enabled without one. due_at follows in the same statement.
func (s *Store) UpdateSchedule(ctx context.Context, id int64, edit func(cur Schedule) (*ScheduleWrite, error)) (*Schedule, error) {
	return s.updateSchedule(ctx, id, false, edit)
}

// updateSchedule is UpdateSchedule; disableOnly marks a disable, the one
// change a launch schedule accepts.
func (s *Store) updateSchedule(ctx context.Context, id int64, disableOnly bool, edit func(cur Schedule) (*ScheduleWrite, error)) (*Schedule, error) {
	var out Schedule
	notify := false
	err := s.transaction(ctx, func(tx *gorm.DB) error {
		cur, err := getSchedule(tx, id, true)
		if err != nil {
			return err
		}
		if IsLaunchSchedule(cur) && !disableOnly {
			return launchScheduleFrozen(cur)
		}
		w, err := edit(*cur)
		if err != nil {
			return err
		}
		if fields := ValidateSchedule(&w.Schedule); len(fields) > 0 {
			return domain.Invalid(fields, "invalid schedule")
		}
		if err := checkScheduleRefs(tx, &w.Schedule); err != nil {
			return err
		}
		sc := w.Schedule
		next := cur.NextRunAt
		retimed := timingChanged(cur, &sc) || w.ExplicitNextRunAt != nil
		if retimed || (sc.Enabled && !cur.Enabled && next == nil) {
			n, err := s.nextFor(tx, &sc, w.ExplicitNextRunAt)
			if err != nil {
				return err
			}
			next = &n
		}
		args := scheduleArgs(&sc, next)
		args["id"] = id
		err = tx.Raw(`UPDATE schedules SET name = @name, task = @task, directive_id = @directive,
			custom_directive_text = @custom, target_host_id = @host, enabled = @enabled, schedule_type = @type,
			interval_minutes = @interval, cron_expr = @cron, timezone = @tz, max_global = @maxg, max_per_job = @maxj,
			next_run_at = CAST(@next AS timestamptz), due_at = `+sqlScheduleDue+`, updated_at = now()
			WHERE id = @id RETURNING *`, args).Scan(&out).Error
		if err != nil {
			return scheduleErr(err, sc.Name)
		}
		notify = sc.Enabled && (retimed || !cur.Enabled)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if notify {
		s.Wake()
	}
	return &out, nil
}

// SetScheduleEnabled enables or disables a schedule. Enabling one without a
// next_run_at computes it (one-shot: now); disabling keeps a pending
// ScheduledRun due, since its run already exists and must not hang pending.
func (s *Store) SetScheduleEnabled(ctx context.Context, id int64, enabled bool) (*Schedule, error) {
	return s.updateSchedule(ctx, id, !enabled, func(cur Schedule) (*ScheduleWrite, error) {
		cur.Enabled = enabled
		return &ScheduleWrite{Schedule: cur}, nil
	})
}

// DeleteSchedule deletes a schedule without history; one whose
// ScheduledRuns still exist answers a conflict (disable it instead).
func (s *Store) DeleteSchedule(ctx context.Context, id int64) error {
	return deleteRow(ctx, s.db, "schedules", id, "Schedule not found", func(err error) error { return scheduleErr(err, "") })
}

func scheduleErr(err error, name string) error {
	return clientDBError(err, "write schedule",
		fmt.Sprintf("a schedule named %q already exists", name),
		"schedule has run history (scheduled runs reference it); disable it instead of deleting it")
}
