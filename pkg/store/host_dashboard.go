package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// HostReport is the newest completed job of a reporting task on a host and
// the JSON document it stored as an artifact.
type HostReport struct {
	JobID       int64
	RunID       int64
	CompletedAt *time.Time
	// Document is the task's JSON artifact (<task>.json); nil when the job
	// stored none.
	Document []byte
}

// latestReportSQL finds the newest completed job of one task on one host.
// The task names are literals (not parameters) so the planner always matches
// the partial index jobs_host_report_idx (migration 00008).
var latestReportSQL = map[string]string{
	"service_map": latestReportQuery("service_map"),
	"gpu_report":  latestReportQuery("gpu_report"),
}

func latestReportQuery(task string) string {
	return `SELECT id, run_id, completed_at FROM jobs
WHERE worker_host_id = ? AND task_type = '` + task + `' AND status = 'completed'
  AND task_type IN ('service_map', 'gpu_report')
ORDER BY completed_at DESC, id DESC LIMIT 1`
}

// LatestHostReport returns the newest completed service_map or gpu_report
// job of a host with its JSON artifact, or nil when there is none.
func (s *Store) LatestHostReport(ctx context.Context, hostID int64, task string) (*HostReport, error) {
	q, ok := latestReportSQL[task]
	if !ok {
		return nil, fmt.Errorf("latest host report: task %q keeps no host report", task)
	}
	db := s.db.WithContext(ctx)
	var job struct {
		ID          int64
		RunID       int64
		CompletedAt *time.Time
	}
	res := db.Raw(q, hostID).Scan(&job)
	if res.Error != nil {
		return nil, fmt.Errorf("find latest %s of worker host %d: %w", task, hostID, res.Error)
	}
	if res.RowsAffected == 0 {
		return nil, nil
	}
	rep := &HostReport{JobID: job.ID, RunID: job.RunID, CompletedAt: job.CompletedAt}
	var art Artifact
	err := db.Select("content").Where("run_id = ? AND job_id = ? AND name = ?", job.RunID, job.ID, task+".json").
		Order("id DESC").Take(&art).Error
	switch {
	case errors.Is(err, gorm.ErrRecordNotFound):
	case err != nil:
		return nil, fmt.Errorf("load %s.json of job %d: %w", task, job.ID, err)
	default:
		rep.Document = art.Content
	}
	return rep, nil
}

// HostRunningJobs returns up to limit running jobs on a host, oldest first.
// Running jobs are few (bounded by the replicas' concurrency) and the
// partial index jobs_lease_idx holds exactly them.
func (s *Store) HostRunningJobs(ctx context.Context, hostID int64, limit int) ([]Job, error) {
	var jobs []Job
	err := s.db.WithContext(ctx).Raw(`SELECT * FROM jobs
WHERE status = 'running' AND worker_host_id = ?
ORDER BY id LIMIT ?`, hostID, limit).Scan(&jobs).Error
	if err != nil {
		return nil, fmt.Errorf("list running jobs of worker host %d: %w", hostID, err)
	}
	return jobs, nil
}

// HostAllowlist returns the allow-list entries that name a host (enabled or
// not) and the global ones (worker_host_id NULL), at most limit of each,
// oldest first. The list is operator-written and short.
func (s *Store) HostAllowlist(ctx context.Context, hostID int64, limit int) (own, global []ContainerAllowlistEntry, err error) {
	db := s.db.WithContext(ctx)
	if err := db.Where("worker_host_id = ?", hostID).Order("id").Limit(limit).Find(&own).Error; err != nil {
		return nil, nil, fmt.Errorf("load allow-list of worker host %d: %w", hostID, err)
	}
	if err := db.Where("worker_host_id IS NULL").Order("id").Limit(limit).Find(&global).Error; err != nil {
		return nil, nil, fmt.Errorf("load global allow-list: %w", err)
	}
	return own, global, nil
}
