package store

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// Rescued is a job whose lease expired and that was retried or failed.
type Rescued struct {
	ID          int64
	RunID       int64
	Attempt     int
	MaxAttempts int
	LostBy      string
	Status      string // pending (retried) or failed
}

// RescueExpired finds running jobs whose lease expired (their replica died or
// was paused), records the attempt as lost, and either makes the job pending
// again after backoff(attempt) or, when no attempt is left, fails it with an
// error naming the lost claimant. Replicas share the work through SKIP LOCKED.
func (s *Store) RescueExpired(ctx context.Context, limit int, backoff func(attempt int) time.Duration) ([]Rescued, error) {
	var out []Rescued
	err := s.withRetry(ctx, func(tx *gorm.DB) error {
		out = nil
		if err := tx.Raw(`SELECT id, run_id, attempt, max_attempts, claimed_by AS lost_by FROM jobs
			WHERE status = 'running' AND claimed_until < now()
			ORDER BY claimed_until, id LIMIT ? FOR UPDATE SKIP LOCKED`, limit).Scan(&out).Error; err != nil {
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
		_, err := aggregateRuns(tx, runIDs)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("rescue expired jobs: %w", err)
	}
	if len(out) > 0 {
		s.Wake()
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
