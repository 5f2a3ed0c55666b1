package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/cyberbrain/cyberbrain/pkg/domain"
	"gorm.io/gorm"
)

// Rescued is a job whose lease expired and that was retried or failed.
type Rescued struct {
	ID          int64
	RunID       int64
	Attempt     int
	MaxAttempts int
	LostBy      string
	Status      domain.JobStatus // pending (retried) or failed
	TaskType    string
	HostID      *int64 `gorm:"column:worker_host_id"`
	ScheduleID  *int64
}

// RescueExpired finds running jobs whose lease expired (their replica died or
// was paused), records the attempt as lost, and either makes the job pending
// again after backoff(attempt) or, when no attempt is left, fails it with an
// error naming the lost claimant. Replicas share the work through SKIP LOCKED.
//
// Jobs of container tasks are left alone: their attempt's container may
// still run on the host, so they are rescued by RescueCleared once it is
// gone (ExpiredContainerJobs lists them).
func (s *Store) RescueExpired(ctx context.Context, limit int, backoff func(attempt int) time.Duration) ([]Rescued, error) {
	return s.rescue(ctx, `AND NOT EXISTS (SELECT 1 FROM task_definitions td
		WHERE td.key = jobs.task_type AND td.kind = 'container')`, nil, limit, backoff)
}

// RescueCleared rescues expired container jobs whose attempt's container the
// caller stopped and removed. A job is rescued only if it is still at that
// attempt with its lease expired: otherwise someone else got there first.
func (s *Store) RescueCleared(ctx context.Context, cleared []ExpiredJob, backoff func(attempt int) time.Duration) ([]Rescued, error) {
	if len(cleared) == 0 {
		return nil, nil
	}
	return s.rescue(ctx, `AND (id, attempt) IN (SELECT * FROM jsonb_to_recordset(?::jsonb) AS x(id bigint, attempt int))`,
		[]any{jsonArg(cleared)}, len(cleared), backoff)
}

// ExpiredJob is a running job of a container task whose lease expired.
type ExpiredJob struct {
	ID           int64  `json:"id"`
	Attempt      int    `json:"attempt"`
	RunID        int64  `json:"-"`
	WorkerHostID *int64 `json:"-"`
	LostBy       string `json:"-"`
}

// ExpiredContainerJobs lists up to limit running container-task jobs whose
// lease expired, for the rescuer to clear their containers first.
func (s *Store) ExpiredContainerJobs(ctx context.Context, limit int) ([]ExpiredJob, error) {
	var out []ExpiredJob
	err := s.db.WithContext(ctx).Raw(`SELECT j.id, j.attempt, j.run_id, j.worker_host_id, j.claimed_by AS lost_by
		FROM jobs j JOIN task_definitions td ON td.key = j.task_type AND td.kind = 'container'
		WHERE j.status = 'running' AND j.claimed_until < now() ORDER BY j.claimed_until, j.id LIMIT ?`, limit).Scan(&out).Error
	if err != nil {
		return nil, fmt.Errorf("expired container jobs: %w", err)
	}
	return out, nil
}

func (s *Store) rescue(ctx context.Context, where string, args []any, limit int, backoff func(attempt int) time.Duration) ([]Rescued, error) {
	var out []Rescued
	err := s.withRetry(ctx, func(tx *gorm.DB) error {
		out = nil
		q := `SELECT id, run_id, attempt, max_attempts, claimed_by AS lost_by,
			task_type, worker_host_id, schedule_id FROM jobs
			WHERE status = 'running' AND claimed_until < now() ` + where + `
			ORDER BY claimed_until, id LIMIT ? FOR UPDATE SKIP LOCKED`
		if err := tx.Raw(q, append(args, limit)...).Scan(&out).Error; err != nil {
			return err
		}
		if len(out) == 0 {
			return nil
		}
		type row struct {
			ID      int64   `json:"id"`
			Attempt int     `json:"attempt"`
			Retry   bool    `json:"retry"`
			DelayS  float64 `json:"delay_s"`
			Error   string  `json:"error"`
		}
		rows := make([]row, len(out))
		runIDs := make([]int64, len(out))
		for i := range out {
			r := &out[i]
			retry := r.Attempt < r.MaxAttempts
			msg := fmt.Sprintf("lease lost: claimant %s stopped heartbeating (attempt %d of %d)", r.LostBy, r.Attempt, r.MaxAttempts)
			if retry {
				r.Status = "pending"
			} else {
				r.Status = "failed"
				msg = fmt.Sprintf("job lost: claimant %s stopped heartbeating and no attempt is left (%d of %d)", r.LostBy, r.Attempt, r.MaxAttempts)
			}
			rows[i] = row{r.ID, r.Attempt, retry, backoff(r.Attempt).Seconds(), msg}
			runIDs[i] = r.RunID
		}
		if err := tx.Exec(sqlRescue, jsonArg(rows)).Error; err != nil {
			return err
		}
		if err := notifyAttemptsLost(tx, out); err != nil {
			return err
		}
		_, err := aggregateRuns(tx, runIDs)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("rescue expired jobs: %w", err)
	}
	if len(out) > 0 {
		s.Wake()
		announce(s, out, func(r Rescued) int64 { return r.RunID })
	}
	return out, nil
}

const sqlRescue = `
WITH x AS (
    SELECT * FROM jsonb_to_recordset(?::jsonb) AS x(id bigint, attempt int, retry bool, delay_s float8, error text)
), att AS (
    UPDATE job_attempts a SET outcome = 'lost', ended_at = clock_timestamp(), error = x.error
    FROM x WHERE a.job_id = x.id AND a.attempt = x.attempt AND a.outcome = 'running'
), j AS (
    UPDATE jobs SET
        status = CASE WHEN x.retry THEN 'pending' ELSE 'failed' END,
        available_at = CASE WHEN x.retry THEN now() + make_interval(secs => x.delay_s) ELSE jobs.available_at END,
        completed_at = CASE WHEN x.retry THEN NULL ELSE now() END,
        error_message = x.error, claimed_by = '', claimed_until = NULL
    FROM x WHERE jobs.id = x.id AND jobs.status = 'running'
    RETURNING jobs.id, x.retry, x.error
)
UPDATE scheduled_runs sr SET status = 'failed', finished_at = now(), error_summary = left(j.error, 500)
FROM j WHERE sr.job_id = j.id AND NOT j.retry`

// HeartbeatResult says which jobs this replica still owns.
type HeartbeatResult struct {
	// Cancel lists jobs whose run was cancelled: stop them.
	Cancel []int64
	// Lost lists jobs whose lease is gone: stop them and write nothing.
	Lost []int64
}

// Heartbeat extends the leases of the jobs this claimant executes, in one
// statement. A lease that already expired is not revived: the job may have
// been rescued and re-claimed elsewhere.
func (s *Store) Heartbeat(ctx context.Context, claimant string, ttl time.Duration, jobs map[int64]int) (*HeartbeatResult, error) {
	if len(jobs) == 0 {
		return &HeartbeatResult{}, nil
	}
	type row struct {
		ID      int64 `json:"id"`
		Attempt int   `json:"attempt"`
	}
	in := make([]row, 0, len(jobs))
	for id, att := range jobs {
		in = append(in, row{id, att})
	}
	payload, _ := json.Marshal(in)
	var alive []struct {
		ID              int64
		CancelRequested bool
	}
	err := s.db.WithContext(ctx).Raw(`
		UPDATE jobs j SET claimed_until = now() + make_interval(secs => ?)
		FROM jsonb_to_recordset(?::jsonb) AS x(id bigint, attempt int)
		WHERE j.id = x.id AND j.attempt = x.attempt AND j.claimed_by = ? AND j.status = 'running' AND j.claimed_until > now()
		RETURNING j.id, j.cancel_requested`, ttl.Seconds(), string(payload), claimant).Scan(&alive).Error
	if err != nil {
		return nil, fmt.Errorf("heartbeat: %w", err)
	}
	res := &HeartbeatResult{}
	seen := map[int64]bool{}
	for _, a := range alive {
		seen[a.ID] = true
		if a.CancelRequested {
			res.Cancel = append(res.Cancel, a.ID)
		}
	}
	for id := range jobs {
		if !seen[id] {
			res.Lost = append(res.Lost, id)
		}
	}
	return res, nil
}

// ReleaseJobs hands running jobs back at once (graceful shutdown): the
// attempt is recorded as failed with the reason and the job is pending again
// without consuming a retry delay, so another replica picks it up now.
func (s *Store) ReleaseJobs(ctx context.Context, claimant string, jobs map[int64]int, reason string) (int, error) {
	if len(jobs) == 0 {
		return 0, nil
	}
	batch := make([]Finish, 0, len(jobs))
	for id, att := range jobs {
		batch = append(batch, Finish{JobID: id, Attempt: att, Outcome: FinishRetry, Error: reason})
	}
	res, err := s.FinishJobs(ctx, claimant, batch)
	if err != nil {
		return 0, err
	}
	// A released attempt should not use up the job's attempts.
	ids := make([]int64, 0, len(res.Accepted))
	for _, a := range res.Accepted {
		ids = append(ids, a.ID)
	}
	if len(ids) > 0 {
		err = s.db.WithContext(ctx).Exec(`UPDATE jobs SET max_attempts = max_attempts + 1 WHERE id = ANY(?) AND status = 'pending'`, Int64s(ids)).Error
	}
	return len(ids), err
}
