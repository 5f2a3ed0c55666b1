package store

import (
	"context"
	"fmt"
	"time"

	"github.com/cyberbrain/cyberbrain/pkg/domain"
)

// sqlUserSchedule selects the schedules people made: every schedule but a
// launch's one-shot ones (IsLaunchSchedule). Migration 00007's partial
// indexes carry this exact predicate.
const sqlUserSchedule = `NOT (s.schedule_type = 'one_shot' AND starts_with(s.name, 'launch-run-'))`

// ScheduleSummary is one row of the dashboard's schedule list: the schedule
// and its latest slot (LastRunID 0: it never fired).
type ScheduleSummary struct {
	Schedule
	LastRunID     int64
	LastSRStatus  domain.ScheduledRunStatus
	LastRunStatus domain.RunStatus
	LastSlotAt    *time.Time
}

// ScheduleOrderByName orders ListScheduleSummaries by name (else newest
// first).
const ScheduleOrderByName = "name"

// ListScheduleSummaries returns one page of the schedules people made
// (launch schedules left out), newest first or by name, each with its latest
// slot, and how many there are in all.
func (s *Store) ListScheduleSummaries(ctx context.Context, order string, limit, offset int) ([]ScheduleSummary, int64, error) {
	db := s.db.WithContext(ctx)
	var n int64
	if err := db.Raw(`SELECT count(*) FROM schedules s WHERE ` + sqlUserSchedule).Scan(&n).Error; err != nil {
		return nil, 0, fmt.Errorf("count schedules: %w", err)
	}
	orderBy := "s.id DESC"
	if order == ScheduleOrderByName {
		orderBy = "s.name, s.id"
	}
	var rows []ScheduleSummary
	err := db.Raw(`SELECT s.*, coalesce(l.run_id, 0) AS last_run_id, coalesce(l.status, '') AS last_sr_status,
			coalesce(r.status, '') AS last_run_status, l.scheduled_for AS last_slot_at
		FROM (SELECT * FROM schedules s WHERE `+sqlUserSchedule+` ORDER BY `+orderBy+` LIMIT ? OFFSET ?) s
		LEFT JOIN LATERAL (SELECT sr.run_id, sr.status, sr.scheduled_for FROM scheduled_runs sr
			WHERE sr.schedule_id = s.id ORDER BY sr.scheduled_for DESC, sr.id DESC LIMIT 1) l ON true
		LEFT JOIN runs r ON r.id = l.run_id
		ORDER BY `+orderBy, limit, offset).Scan(&rows).Error
	if err != nil {
		return nil, 0, fmt.Errorf("list schedules: %w", err)
	}
	return rows, n, nil
}

// ScheduleRunItem is one slot of a schedule's history with its run's status.
type ScheduleRunItem struct {
	ScheduleHistoryItem
	RunStatus domain.RunStatus
}

// ScheduleRuns is ScheduleHistory with each slot's run status (what the
// dashboard's live badges start from): newest first, one page, and the total.
func (s *Store) ScheduleRuns(ctx context.Context, id int64, limit, offset int) ([]ScheduleRunItem, int64, error) {
	db := s.db.WithContext(ctx)
	var n int64
	if err := db.Raw(`SELECT count(*) FROM scheduled_runs WHERE schedule_id = ?`, id).Scan(&n).Error; err != nil {
		return nil, 0, fmt.Errorf("count history of schedule %d: %w", id, err)
	}
	var items []ScheduleRunItem
	// The page is cut from the slots alone (their unique (schedule_id,
	// scheduled_for) index), then joined: a deep page skips slots, not joins.
	err := db.Raw(`SELECT sr.*, r.status AS run_status
		FROM (SELECT id, run_id, status, scheduled_for, started_at, finished_at, error_summary
			FROM scheduled_runs WHERE schedule_id = ? ORDER BY scheduled_for DESC, id DESC LIMIT ? OFFSET ?) sr
		JOIN runs r ON r.id = sr.run_id
		ORDER BY sr.scheduled_for DESC, sr.id DESC`,
		id, limit, offset).Scan(&items).Error
	if err != nil {
		return nil, 0, fmt.Errorf("history of schedule %d: %w", id, err)
	}
	return items, n, nil
}
