package store

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// Finding is one ranked diagnosis of a log_triage job: a container that
// died, was OOM-killed, restarted, turned unhealthy, or logs a new or
// spiking problem template.
type Finding struct {
	ID            int64     `json:"id"`
	RunID         int64     `json:"run_id"`
	JobID         int64     `json:"job_id"`
	WorkerHostID  int64     `json:"worker_host_id"`
	ContainerName string    `json:"container"`
	Severity      string    `json:"severity"`
	Kind          string    `json:"kind"`
	Rank          int       `json:"rank"`
	Statement     string    `json:"statement"`
	Evidence      JSON      `json:"evidence" gorm:"type:jsonb"`
	CreatedAt     time.Time `json:"created_at" gorm:"autoCreateTime:false;default:now()"`
}

// FindingSeverities are the accepted severity values, most severe first.
var FindingSeverities = []string{"critical", "high", "medium", "low"}

// FindingFilter narrows ListFindings; zero fields do not filter.
type FindingFilter struct {
	HostID    *int64
	Container string
	Severity  string
	Since     *time.Time
}

// SaveFindings stores a job's findings; it runs in the job's fenced
// completion transaction, so only an accepted attempt leaves findings.
func (tx *Tx) SaveFindings(ctx context.Context, fs []Finding) error {
	if len(fs) == 0 {
		return nil
	}
	if err := tx.db.WithContext(ctx).Omit("ID", "CreatedAt").Create(&fs).Error; err != nil {
		return fmt.Errorf("save %d findings of job %d: %w", len(fs), fs[0].JobID, err)
	}
	return notifyFindings(tx.db.WithContext(ctx), fs)
}

// ListFindings returns one page of findings, newest first (then by rank).
func (s *Store) ListFindings(ctx context.Context, f FindingFilter, p ListParams) ([]Finding, int64, error) {
	q := s.db.WithContext(ctx).Model(&Finding{})
	if f.HostID != nil {
		q = q.Where("worker_host_id = ?", *f.HostID)
	}
	if f.Container != "" {
		q = q.Where("container_name = ?", f.Container)
	}
	if f.Severity != "" {
		q = q.Where("severity = ?", f.Severity)
	}
	if f.Since != nil {
		q = q.Where("created_at >= ?", *f.Since)
	}
	// Each statement gets a session of its own: one statement's deadline
	// (registerDeadlines) must not carry over to the next.
	var n int64
	if err := q.Session(&gorm.Session{}).Count(&n).Error; err != nil {
		return nil, 0, fmt.Errorf("count findings: %w", err)
	}
	var out []Finding
	err := q.Session(&gorm.Session{}).Order("created_at DESC, run_id DESC, rank ASC, id ASC").Limit(p.Limit).Offset(p.Offset).Find(&out).Error
	if err != nil {
		return nil, 0, fmt.Errorf("list findings: %w", err)
	}
	return out, n, nil
}
