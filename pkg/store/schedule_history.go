package store

import (
	"context"
	"fmt"
	"time"

	"github.com/cyberbrain/cyberbrain/pkg/domain"
)

// ScheduleHistoryItem is one entry of GET /api/schedules/{id}/history/.
type ScheduleHistoryItem struct {
	ID           int64                     `json:"id"`
	RunID        int64                     `json:"run_id"`
	Status       domain.ScheduledRunStatus `json:"status"`
	ScheduledFor time.Time                 `json:"scheduled_for"`
	StartedAt    *time.Time                `json:"started_at"`
	FinishedAt   *time.Time                `json:"finished_at"`
	ErrorSummary string                    `json:"error_summary"`
}

// ScheduleHistory returns a schedule's ScheduledRuns, newest first, and
// their total count.
func (s *Store) ScheduleHistory(ctx context.Context, id int64, limit, offset int) ([]ScheduleHistoryItem, int64, error) {
	db := s.db.WithContext(ctx)
	if _, err := getSchedule(db, id, false); err != nil {
		return nil, 0, err
	}
	var n int64
	if err := db.Raw(`SELECT count(*) FROM scheduled_runs WHERE schedule_id = ?`, id).Scan(&n).Error; err != nil {
		return nil, 0, fmt.Errorf("count history of schedule %d: %w", id, err)
	}
	items := []ScheduleHistoryItem{}
	err := db.Raw(`SELECT id, run_id, status, scheduled_for, started_at, finished_at, error_summary
		FROM scheduled_runs WHERE schedule_id = ? ORDER BY scheduled_for DESC, id DESC LIMIT ? OFFSET ?`,
		id, limit, offset).Scan(&items).Error
	if err != nil {
		return nil, 0, fmt.Errorf("history of schedule %d: %w", id, err)
	}
	return items, n, nil
}
