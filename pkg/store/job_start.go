package store

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// StartedJob is a job this replica now executes under its lease.
type StartedJob struct {
	Job
	RunStarted bool `gorm:"-"` // this start moved the run from pending to running
}

// sqlPickFree selects ready jobs none of whose keys is limited (its values
// opaque to the planner, see opaque).
var sqlPickFree = `
SELECT id FROM jobs
WHERE status = 'pending' AND available_at <= now()
  AND ` + sqlNotLimited("") + `
ORDER BY available_at, id
LIMIT ` + opaque("int") + `
FOR UPDATE SKIP LOCKED`

// sqlStartJobs moves picked jobs to running under this claimant's lease,
// records the attempt and starts their ScheduledRuns.
const sqlStartJobs = `
WITH started AS (
    UPDATE jobs SET status = 'running', attempt = attempt + 1, claimed_by = ?,
        claimed_until = now() + make_interval(secs => ?), started_at = coalesce(started_at, now())
    WHERE id = ANY(?) AND status = 'pending'
    RETURNING *
), att AS (
    INSERT INTO job_attempts (job_id, attempt, claimant, started_at)
    SELECT id, attempt, claimed_by, clock_timestamp() FROM started
), srs AS (
    UPDATE scheduled_runs sr SET status = 'started', started_at = now()
    FROM started WHERE sr.job_id = started.id AND sr.started_at IS NULL AND sr.status = 'pending'
)
SELECT * FROM started ORDER BY id`

// StartFreeJobs starts up to max ready jobs that no concurrency limit
// concerns, in FIFO order, in one transaction.
func (s *Store) StartFreeJobs(ctx context.Context, claimant string, ttl time.Duration, max int, l Limits) ([]StartedJob, error) {
	var out []StartedJob
	err := s.withRetry(ctx, func(tx *gorm.DB) error {
		var ids []int64
		if err := tx.Raw(sqlPickFree, textArray(l.taskKeys()), Int64s(l.hostIDs()), Int64s(l.scheduleIDs()), max).
			Scan(&ids).Error; err != nil {
			return err
		}
		var err error
		out, err = startJobs(tx, claimant, ttl, ids)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("start jobs: %w", err)
	}
	announce(s, out, func(j StartedJob) int64 { return j.RunID })
	return out, nil
}

func startJobs(tx *gorm.DB, claimant string, ttl time.Duration, ids []int64) ([]StartedJob, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	var jobs []Job
	if err := tx.Raw(sqlStartJobs, claimant, ttl.Seconds(), Int64s(ids)).Scan(&jobs).Error; err != nil {
		return nil, err
	}
	runIDs := make([]int64, 0, len(jobs))
	for _, j := range jobs {
		runIDs = append(runIDs, j.RunID)
	}
	// Lock the runs in id order (a separate statement, so the next one sees
	// every commit that happened while waiting), then mark them running.
	if _, err := lockRuns(tx, runIDs); err != nil {
		return nil, err
	}
	var startedRuns []int64
	if err := tx.Raw(`UPDATE runs SET status = 'running', started_at = coalesce(started_at, now())
		WHERE id = ANY(?) AND status = 'pending' RETURNING id`, Int64s(runIDs)).Scan(&startedRuns).Error; err != nil {
		return nil, err
	}
	started := map[int64]bool{}
	for _, id := range startedRuns {
		started[id] = true
	}
	out := make([]StartedJob, len(jobs))
	for i, j := range jobs {
		out[i] = StartedJob{Job: j, RunStarted: started[j.RunID]}
		if started[j.RunID] {
			started[j.RunID] = false // report the run start once
		}
	}
	return out, nil
}

// lockRuns takes the row locks of runs in id order, so concurrent batches
// never deadlock on each other, and returns the locked rows.
func lockRuns(tx *gorm.DB, runIDs []int64) ([]Run, error) {
	if len(runIDs) == 0 {
		return nil, nil
	}
	var locked []Run
	err := tx.Raw(`SELECT * FROM runs WHERE id = ANY(?) ORDER BY id FOR UPDATE`, Int64s(runIDs)).Scan(&locked).Error
	return locked, err
}
