package store

import (
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/cyberbrain/cyberbrain/pkg/domain"
	"gorm.io/gorm"
)

// ScheduleTiming returns the fields that decide when sc fires.
func ScheduleTiming(sc *Schedule) domain.Timing {
	t := domain.Timing{Type: sc.ScheduleType, CronExpr: sc.CronExpr, Timezone: sc.Timezone}
	if sc.IntervalMinutes != nil {
		t.IntervalMinutes = *sc.IntervalMinutes
	}
	return t
}

// timingChanged reports whether an edit touched a timing field; only then is
// next_run_at recomputed (an edit of the name must not move the next slot).
func timingChanged(a, b *Schedule) bool {
	return ScheduleTiming(a) != ScheduleTiming(b)
}

// ValidateSchedule checks a schedule's own fields (not its references) and
// returns the problems per field; empty means valid.
func ValidateSchedule(sc *Schedule) map[string][]string {
	fields := map[string][]string{}
	add := func(f, msg string) { fields[f] = append(fields[f], msg) }
	switch {
	case sc.Name == "":
		add("name", "is required")
	case utf8.RuneCountInString(sc.Name) > 200: // characters, as the column CHECK counts
		add("name", "must be at most 200 characters")
	}
	if sc.Task == "" {
		add("task_key", "is required")
	}
	timing := ScheduleTiming(sc)
	tErrs := timing.Validate()
	for f, msg := range tErrs {
		add(f, msg)
	}
	if len(tErrs) == 0 && sc.ScheduleType == domain.ScheduleCron {
		// Validate accepts expressions that parse but never fire (", 0 1 1 0",
		// "0 0 30 2 *"); such a schedule would never be due.
		now := time.Now()
		if _, err := timing.NextAfter(now, now); err != nil {
			add("cron_expr", err.Error())
		}
	}
	if sc.ScheduleType != domain.ScheduleInterval && sc.IntervalMinutes != nil {
		add("interval_minutes", "only an interval schedule has interval_minutes")
	}
	if sc.ScheduleType != domain.ScheduleCron && sc.CronExpr != "" {
		add("cron_expr", "only a cron schedule has cron_expr")
	}
	if sc.MaxGlobal != nil && *sc.MaxGlobal <= 0 {
		add("max_global", "must be a positive number (or null for no limit)")
	}
	if sc.MaxPerJob != nil && *sc.MaxPerJob <= 0 {
		add("max_per_job", "must be a positive number (or null for no limit)")
	}
	if sc.DirectiveID != nil && sc.CustomDirectiveText != "" {
		add("custom_directive_text", "give either directive_id or custom_directive_text, not both")
	}
	return fields
}

// checkScheduleRefs answers 400 naming the field when a schedule points at a
// task, directive or host that does not exist, instead of the database's
// foreign key error.
func checkScheduleRefs(db *gorm.DB, sc *Schedule) error {
	var r struct{ Task, Directive, Host bool }
	err := db.Raw(`SELECT EXISTS (SELECT 1 FROM task_definitions WHERE key = ?) AS task,
		(?::bigint IS NULL OR EXISTS (SELECT 1 FROM directives WHERE id = ?)) AS directive,
		(?::bigint IS NULL OR EXISTS (SELECT 1 FROM worker_hosts WHERE id = ?)) AS host`,
		sc.Task, sc.DirectiveID, sc.DirectiveID, sc.TargetHostID, sc.TargetHostID).Scan(&r).Error
	if err != nil {
		return fmt.Errorf("check schedule references: %w", err)
	}
	fields := map[string][]string{}
	if !r.Task {
		fields["task_key"] = []string{fmt.Sprintf("unknown task %q", sc.Task)}
	}
	if !r.Directive {
		fields["directive_id"] = []string{"directive not found"}
	}
	if !r.Host {
		fields["target_host_id"] = []string{"worker host not found"}
	}
	if len(fields) > 0 {
		return domain.Invalid(fields, "invalid schedule")
	}
	return nil
}

// firstRunAt computes next_run_at for a schedule (re)timed at now: one-shot
// now, interval now+interval, cron the next slot in the schedule's zone.
func firstRunAt(sc *Schedule, now time.Time) (time.Time, error) {
	if sc.ScheduleType == domain.ScheduleOneShot {
		return now, nil
	}
	next, err := ScheduleTiming(sc).NextAfter(now, now)
	if err != nil {
		return time.Time{}, domain.Invalid(map[string][]string{"cron_expr": {err.Error()}}, "%s", err.Error())
	}
	return next, nil
}
