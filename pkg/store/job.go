package store

import (
	"context"
	"fmt"
)

// JobFilter narrows GET /api/jobs/ (a bare array, limit/offset paged).
type JobFilter struct {
	RunID    *int64
	Status   string
	TaskType string
	Limit    int
	Offset   int
}

// ListJobs returns jobs newest first, or in position order within one run
// (the order the launch asked for them).
func (s *Store) ListJobs(ctx context.Context, f JobFilter) ([]Job, error) {
	q := s.db.WithContext(ctx).Model(&Job{})
	if f.RunID != nil {
		q = q.Where("run_id = ?", *f.RunID).Order("position, id")
	} else {
		q = q.Order("id DESC")
	}
	if f.Status != "" {
		q = q.Where("status = ?", f.Status)
	}
	if f.TaskType != "" {
		q = q.Where("task_type = ?", f.TaskType)
	}
	out := []Job{}
	if err := q.Limit(f.Limit).Offset(f.Offset).Find(&out).Error; err != nil {
		return nil, fmt.Errorf("list jobs: %w", err)
	}
	return out, nil
}

// JobDetail is a job with its execution attempts.
type JobDetail struct {
	Job
	Attempts []JobAttempt `json:"attempts"`
}

// GetJobDetail loads a job and its attempts (oldest first).
func (s *Store) GetJobDetail(ctx context.Context, id int64) (*JobDetail, error) {
	db := s.db.WithContext(ctx)
	d := &JobDetail{Attempts: []JobAttempt{}}
	if err := db.Take(&d.Job, id).Error; err != nil {
		return nil, notFound(fmt.Errorf("load job %d: %w", id, err), "Job not found")
	}
	if err := db.Where("job_id = ?", id).Order("attempt").Find(&d.Attempts).Error; err != nil {
		return nil, fmt.Errorf("load attempts of job %d: %w", id, err)
	}
	return d, nil
}

// ScheduledRunFilter narrows GET /api/scheduled-runs/.
type ScheduledRunFilter struct {
	RunID      *int64
	ScheduleID *int64
	Status     string
	Limit      int
	Offset     int
}

// ListScheduledRuns returns ScheduledRuns newest first.
func (s *Store) ListScheduledRuns(ctx context.Context, f ScheduledRunFilter) ([]ScheduledRun, error) {
	q := s.db.WithContext(ctx).Model(&ScheduledRun{})
	if f.RunID != nil {
		q = q.Where("run_id = ?", *f.RunID)
	}
	if f.ScheduleID != nil {
		q = q.Where("schedule_id = ?", *f.ScheduleID)
	}
	if f.Status != "" {
		q = q.Where("status = ?", f.Status)
	}
	out := []ScheduledRun{}
	if err := q.Order("id DESC").Limit(f.Limit).Offset(f.Offset).Find(&out).Error; err != nil {
		return nil, fmt.Errorf("list scheduled runs: %w", err)
	}
	return out, nil
}

// ListRunJobs returns the jobs of one run in position order, limit from
// offset (404 for an unknown run).
func (s *Store) ListRunJobs(ctx context.Context, runID int64, limit, offset int) ([]Job, error) {
	if err := s.runExists(ctx, runID); err != nil {
		return nil, err
	}
	return s.ListJobs(ctx, JobFilter{RunID: &runID, Limit: limit, Offset: offset})
}
