package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"gorm.io/gorm"

	"github.com/cyberbrain/cyberbrain/pkg/domain"
)

// FinishOutcome is how one execution attempt ended as the executing
// replica saw it; the job's and the attempt's statuses follow from it.
type FinishOutcome string

// The outcomes a replica reports.
const (
	FinishCompleted FinishOutcome = "completed"
	FinishFailed    FinishOutcome = "failed"    // permanent, or no attempts left
	FinishRetry     FinishOutcome = "retry"     // back to pending after RetryIn
	FinishCancelled FinishOutcome = "cancelled" // the run was cancelled
)

// Finish is the end of one attempt, written fenced on (claimant, attempt).
type Finish struct {
	JobID     int64           `json:"id"`
	Attempt   int             `json:"attempt"`
	Outcome   FinishOutcome   `json:"outcome"`
	Error     string          `json:"error"`
	Result    json.RawMessage `json:"result"`
	RetryInMS int64           `json:"retry_in_ms"`
	// Save runs inside the completion transaction, only when this attempt is
	// accepted (artifacts, log cursors). Not serialised.
	Save func(ctx context.Context, tx *Tx, job FinishedJob) error `json:"-"`
}

// FinishedJob is a job whose finish was accepted.
type FinishedJob struct {
	ID       int64
	RunID    int64
	Status   domain.JobStatus
	Attempt  int
	TaskType string
}

// RunTransition is a run whose status changed in a batch.
type RunTransition struct {
	ID     int64
	Status domain.RunStatus
}

// FinishResult tells the executing replica what was accepted.
type FinishResult struct {
	Accepted []FinishedJob
	// Rejected jobs had lost their lease: their results were not written.
	Rejected []int64
	Runs     []RunTransition
	// MayNotify says the batch may have enqueued notifications: a job that
	// did not complete, a run that failed, a GPU report or saved outputs
	// (the sources of events a finish raises). Otherwise nothing is due for
	// the deliverer to send.
	MayNotify bool
}

// sqlFinishJobs writes a batch of attempt ends, fenced on the lease: a
// replica that lost its lease (expired, rescued, re-claimed) changes nothing.
// The fence compares the status with input's constant column rather than
// with the literal 'running' on purpose: the literal lets the planner read
// every running job of every replica through jobs_lease_idx and hash them —
// which it prefers whenever the statistics were taken while few jobs ran
// (as after a burst) — instead of looking up the batch's jobs by id.
const sqlFinishJobs = `
WITH input AS (
    SELECT *, 'running'::text AS running FROM jsonb_to_recordset(?::jsonb)
        AS x(id bigint, attempt int, outcome text, error text, result jsonb, retry_in_ms bigint)
), done AS (
    UPDATE jobs j SET
        status = CASE x.outcome WHEN 'retry' THEN 'pending' ELSE x.outcome END,
        completed_at = CASE WHEN x.outcome = 'retry' THEN NULL ELSE now() END,
        available_at = CASE WHEN x.outcome = 'retry' THEN now() + make_interval(secs => x.retry_in_ms / 1000.0) ELSE j.available_at END,
        claimed_by = '', claimed_until = NULL,
        result = coalesce(x.result, j.result),
        error_message = coalesce(x.error, '')
    FROM input x
    WHERE j.id = x.id AND j.attempt = x.attempt AND j.claimed_by = ? AND j.status = x.running AND j.claimed_until > now()
    RETURNING j.id, j.run_id, j.status, j.attempt, j.task_type
), att AS (
    UPDATE job_attempts a SET ended_at = clock_timestamp(),
        outcome = CASE x.outcome WHEN 'retry' THEN 'failed' ELSE x.outcome END,
        error = coalesce(x.error, '')
    FROM done d JOIN input x ON x.id = d.id
    WHERE a.job_id = d.id AND a.attempt = d.attempt
), srs AS (
    UPDATE scheduled_runs sr SET
        status = CASE d.status WHEN 'completed' THEN 'finished' WHEN 'failed' THEN 'failed' ELSE 'cancelled' END,
        finished_at = now(), error_summary = left(coalesce(x.error, ''), 500)
    FROM done d JOIN input x ON x.id = d.id
    WHERE sr.job_id = d.id AND d.status <> 'pending'
)
SELECT id, run_id, status, attempt, task_type FROM done ORDER BY id`

// FinishJobs writes a batch of attempt ends in one transaction: the fenced
// job updates, the accepted attempts' side effects (Save), the run
// aggregation and, on a run's terminal transition, its report.
func (s *Store) FinishJobs(ctx context.Context, claimant string, batch []Finish) (*FinishResult, error) {
	if len(batch) == 0 {
		return &FinishResult{}, nil
	}
	payload, err := json.Marshal(batch)
	if err != nil {
		return nil, fmt.Errorf("encode finishes: %w", err)
	}
	res := &FinishResult{}
	err = s.withRetry(ctx, func(tx *gorm.DB) error {
		*res = FinishResult{}
		err := queryRows(tx, func(rows *sql.Rows) error {
			var a FinishedJob
			err := rows.Scan(&a.ID, &a.RunID, &a.Status, &a.Attempt, &a.TaskType)
			res.Accepted = append(res.Accepted, a)
			return err
		}, sqlFinishJobs, string(payload), claimant)
		if err != nil {
			return err
		}
		if err := s.saveAccepted(ctx, tx, batch, res); err != nil {
			return err
		}
		if err := notifyGPUHotspots(tx, res.Accepted); err != nil {
			return err
		}
		runIDs := make([]int64, 0, len(res.Accepted))
		for _, a := range res.Accepted {
			runIDs = append(runIDs, a.RunID)
		}
		runs, err := aggregateRuns(tx, runIDs)
		res.Runs = runs
		res.MayNotify = res.MayNotify || mayNotify(res.Accepted, runs)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("finish jobs: %w", err)
	}
	if len(res.Accepted) > 0 {
		s.wakeIfReady(ctx) // capacity freed: deferred jobs may start
		announce(s, res.Accepted, func(a FinishedJob) int64 { return a.RunID })
	}
	return res, nil
}

// wakeIfReady wakes the schedulers when a job is ready to start (deferred by
// a concurrency limit or a full replica, or handed off and not started).
// Without one a wake-up would only make every replica run an empty pass —
// and each finish of a lone launch made all of them do so just as the next
// launch arrived. When the check fails, it wakes them anyway.
func (s *Store) wakeIfReady(ctx context.Context) {
	if ready, err := s.jobsReady(ctx); err != nil || ready {
		s.Wake()
	}
}

// jobsReady reports whether a pending job may start now (one probe of
// jobs_ready_idx).
func (s *Store) jobsReady(ctx context.Context) (bool, error) {
	var ready bool
	err := s.db.WithContext(ctx).Raw(`SELECT EXISTS (SELECT 1 FROM jobs
		WHERE status = 'pending' AND available_at IS NOT NULL AND available_at <= now())`).Scan(&ready).Error
	return ready, err
}

// mayNotify reports whether accepted jobs or run transitions are sources of
// events (notifyRunsFailed, notifyGPUHotspots).
func mayNotify(accepted []FinishedJob, runs []RunTransition) bool {
	for _, a := range accepted {
		if a.Status != domain.StatusCompleted || a.TaskType == "gpu_report" {
			return true
		}
	}
	for _, r := range runs {
		if r.Status == domain.StatusFailed {
			return true
		}
	}
	return false
}

func (s *Store) saveAccepted(ctx context.Context, tx *gorm.DB, batch []Finish, res *FinishResult) error {
	accepted := map[int64]FinishedJob{}
	for _, a := range res.Accepted {
		accepted[a.ID] = a
	}
	for _, f := range batch {
		a, ok := accepted[f.JobID]
		if !ok {
			res.Rejected = append(res.Rejected, f.JobID)
			continue
		}
		if f.Save != nil {
			res.MayNotify = true // outputs may raise events (findings)
			if err := f.Save(ctx, &Tx{db: tx}, a); err != nil {
				return fmt.Errorf("save outputs of job %d: %w", f.JobID, err)
			}
		}
	}
	return nil
}
