package store

import (
	"fmt"
	"reflect"
	"strings"
	"sync"
	"time"

	"gorm.io/gorm/schema"
)

// modelFields returns model's columns in field order.
func modelFields(model any) []*schema.Field {
	sch, err := schema.Parse(model, &sync.Map{}, schema.NamingStrategy{})
	if err != nil {
		panic(fmt.Sprintf("store: parse %T: %v", model, err)) // a programming error, found at start
	}
	return sch.Fields
}

// modelColumns lists model's columns as alias.col, in the order of its
// fields — the order of scheduleFields and jobFields. The list follows the
// model, so a column added to it is never silently missing.
func modelColumns(model any, alias string) string {
	var cols []string
	for _, f := range modelFields(model) {
		if f.DBName != "" {
			cols = append(cols, alias+"."+f.DBName)
		}
	}
	return strings.Join(cols, ", ")
}

// outerJoinedColumns is modelColumns for the nullable side of an outer join:
// a column scanned into a field that cannot hold NULL reads as its zero
// value when the row has no match.
func outerJoinedColumns(model any, alias string) string {
	timeType := reflect.TypeOf(time.Time{})
	var cols []string
	for _, f := range modelFields(model) {
		if f.DBName == "" {
			continue
		}
		col := alias + "." + f.DBName
		switch t := f.FieldType; {
		case t == timeType:
			col = "coalesce(" + col + ", 'epoch')"
		case t.Kind() == reflect.String:
			col = "coalesce(" + col + ", '')"
		case t.Kind() == reflect.Bool:
			col = "coalesce(" + col + ", false)"
		case t.Kind() >= reflect.Int && t.Kind() <= reflect.Float64:
			col = "coalesce(" + col + ", 0)"
		}
		cols = append(cols, col)
	}
	return strings.Join(cols, ", ")
}

// runFields are the scan destinations of modelColumns(&Run{}); JSON columns
// scan as bytes (NULL: nil).
func runFields(r *Run) []any {
	return []any{&r.ID, &r.DirectiveID, &r.Status, (*[]byte)(&r.DirectiveSnapshot), &r.WorkerHostID, &r.CreatedAt,
		&r.StartedAt, &r.CompletedAt, &r.ErrorMessage, &r.ReportMarkdown, (*[]byte)(&r.ReportJSON)}
}

// scheduleFields are the scan destinations of modelColumns(&Schedule{}).
func scheduleFields(s *Schedule) []any {
	return []any{&s.ID, &s.Name, &s.Task, &s.DirectiveID, &s.CustomDirectiveText, &s.TargetHostID, &s.Enabled,
		&s.ScheduleType, &s.IntervalMinutes, &s.CronExpr, &s.Timezone, &s.MaxGlobal, &s.MaxPerJob, &s.LastRunAt,
		&s.NextRunAt, &s.DueAt, &s.ClaimedBy, &s.ClaimedUntil, &s.CreatedAt, &s.UpdatedAt}
}

// jobFields are the scan destinations of modelColumns(&Job{}); JSON
// columns scan as bytes (NULL: nil).
func jobFields(j *Job) []any {
	return []any{&j.ID, &j.RunID, &j.ScheduleID, &j.TaskType, &j.Position, &j.Status, (*[]byte)(&j.Config),
		&j.WorkerHostID, &j.Attempt, &j.MaxAttempts, &j.TimeoutSeconds, &j.AvailableAt, &j.ClaimedBy,
		&j.ClaimedUntil, &j.CancelRequested, &j.CreatedAt, &j.StartedAt, &j.CompletedAt, (*[]byte)(&j.Result),
		&j.ErrorMessage}
}
