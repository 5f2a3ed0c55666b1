package store

import (
	"context"
	"fmt"
	"time"

	"github.com/cyberbrain/cyberbrain/pkg/domain"
)

// The dashboard's run views. Each query reads one bounded page or an
// indexed range, so a page stays fast however many runs there are:
// unfinished runs through runs_completed_idx (completed_at IS NULL), recent
// failures and creations through runs_completed_idx and runs_created_idx,
// pages by primary key.

// RunCounts is what the overview's cards show.
type RunCounts struct {
	Pending      int64
	Running      int64
	FailedRecent int64 // failed since the given time
}

// sqlRunCounts counts unfinished runs by status (only they have no
// completed_at) and runs that failed since a time.
const sqlRunCounts = `SELECT
    (SELECT count(*) FROM runs WHERE completed_at IS NULL AND status = 'pending') AS pending,
    (SELECT count(*) FROM runs WHERE completed_at IS NULL AND status = 'running') AS running,
    (SELECT count(*) FROM runs WHERE completed_at >= ? AND status = 'failed') AS failed_recent`

// CountRuns returns the number of pending and running runs and of runs that
// failed since since.
func (s *Store) CountRuns(ctx context.Context, since time.Time) (RunCounts, error) {
	var c RunCounts
	if err := s.db.WithContext(ctx).Raw(sqlRunCounts, since).Scan(&c).Error; err != nil {
		return RunCounts{}, fmt.Errorf("count runs: %w", err)
	}
	return c, nil
}

// MinuteCount is how many runs were created in the minute starting at Minute.
type MinuteCount struct {
	Minute time.Time
	Count  int64
}

// sqlRunsPerMinute groups the runs created since a time by minute.
const sqlRunsPerMinute = `SELECT date_trunc('minute', created_at) AS minute, count(*) AS count
FROM runs WHERE created_at >= ? GROUP BY 1 ORDER BY 1`

// RunsPerMinute returns the number of runs created in each minute since
// since, oldest first; minutes without runs are left out.
func (s *Store) RunsPerMinute(ctx context.Context, since time.Time) ([]MinuteCount, error) {
	var out []MinuteCount
	if err := s.db.WithContext(ctx).Raw(sqlRunsPerMinute, since).Scan(&out).Error; err != nil {
		return nil, fmt.Errorf("count runs per minute: %w", err)
	}
	return out, nil
}

// RunQuery selects one page of the dashboard's run list, newest first.
// Zero fields do not filter. Before and After are keyset cursors (a run
// id): the page of runs just older than Before, or just newer than After.
type RunQuery struct {
	Status      domain.RunStatus
	Task        string // runs having a job of this task key
	DirectiveID *int64
	Before      int64
	After       int64
	Limit       int
}

// runListColumns is what a list row needs: everything but the report and
// the error text, and of the directive snapshot only its name.
const runListColumns = `id, directive_id, status, worker_host_id, created_at, started_at, completed_at,
    jsonb_build_object('name', directive_snapshot->'name') AS directive_snapshot`

// RunPage is one page of runs and whether there are more beyond it in the
// direction it was read (older for Before or no cursor, newer for After).
type RunPage struct {
	Runs []Run
	More bool
}

// ListRunPage returns one page of runs, newest first, without their reports.
func (s *Store) ListRunPage(ctx context.Context, q RunQuery) (*RunPage, error) {
	limit := q.Limit
	if limit <= 0 || limit > MaxPageSize {
		limit = 50
	}
	db := s.db.WithContext(ctx).Table("runs").Select(runListColumns)
	if q.Status != "" {
		db = db.Where("status = ?", q.Status)
		if !q.Status.Terminal() {
			db = db.Where("completed_at IS NULL") // reads runs_completed_idx
		}
	}
	if q.DirectiveID != nil {
		db = db.Where("directive_id = ?", *q.DirectiveID)
	}
	if q.Task != "" {
		db = db.Where("id IN (SELECT run_id FROM jobs WHERE task_type = ?)", q.Task)
	}
	switch {
	case q.After > 0:
		db = db.Where("id > ?", q.After).Order("id ASC")
	case q.Before > 0:
		db = db.Where("id < ?", q.Before).Order("id DESC")
	default:
		db = db.Order("id DESC")
	}
	out := &RunPage{}
	if err := db.Limit(limit + 1).Find(&out.Runs).Error; err != nil {
		return nil, fmt.Errorf("list runs: %w", err)
	}
	if len(out.Runs) > limit {
		out.Runs, out.More = out.Runs[:limit], true
	}
	if q.After > 0 { // read oldest first: show newest first
		for i, j := 0, len(out.Runs)-1; i < j; i, j = i+1, j-1 {
			out.Runs[i], out.Runs[j] = out.Runs[j], out.Runs[i]
		}
	}
	return out, nil
}

// maxRunAttempts bounds the attempts one run page shows.
const maxRunAttempts = 1000

// RunAttempts returns the execution attempts of a run's jobs, by job and
// attempt number.
func (s *Store) RunAttempts(ctx context.Context, runID int64) ([]JobAttempt, error) {
	var out []JobAttempt
	err := s.db.WithContext(ctx).Raw(`SELECT a.* FROM job_attempts a JOIN jobs j ON j.id = a.job_id
WHERE j.run_id = ? ORDER BY a.job_id, a.attempt LIMIT ?`, runID, maxRunAttempts).Scan(&out).Error
	if err != nil {
		return nil, fmt.Errorf("load attempts of run %d: %w", runID, err)
	}
	return out, nil
}
