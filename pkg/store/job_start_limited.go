package store

import (
	"context"
	"fmt"
	"hash/fnv"
	"sort"
	"time"

	"gorm.io/gorm"
)

// limitedCandidate is a ready job one or more limits concern.
type limitedCandidate struct {
	ID           int64
	TaskType     string
	WorkerHostID *int64
	ScheduleID   *int64
	MaxPerJob    *int
	MaxGlobal    *int
	TaskMax      *int
}

// StartLimitedJobs starts, in FIFO order, the ready jobs that concurrency
// limits concern, as far as capacity allows. The limits hold exactly across
// replicas: every start of a limited key happens under a transaction-level
// advisory lock on that key, and the running counts are read after the lock.
func (s *Store) StartLimitedJobs(ctx context.Context, claimant string, ttl time.Duration, max int, l Limits) ([]StartedJob, error) {
	if !l.Any() || max <= 0 {
		return nil, nil
	}
	var out []StartedJob
	err := s.withRetry(ctx, func(tx *gorm.DB) error {
		out = nil
		var cands []limitedCandidate
		if err := tx.Raw(`
			SELECT j.id, j.task_type, j.worker_host_id, j.schedule_id, s.max_per_job, s.max_global, t.max_concurrent AS task_max
			FROM jobs j
			JOIN task_definitions t ON t.key = j.task_type
			LEFT JOIN schedules s ON s.id = j.schedule_id
			WHERE j.status = 'pending' AND j.available_at <= now()
			  AND (j.task_type = ANY(?::text[]) OR j.worker_host_id = ANY(?) OR j.schedule_id = ANY(?))
			ORDER BY j.available_at, j.id
			LIMIT 1000`, textArray(l.taskKeys()), Int64s(l.hostIDs()), Int64s(l.scheduleIDs())).Scan(&cands).Error; err != nil {
			return err
		}
		if len(cands) == 0 {
			return nil
		}
		keys := lockKeys(cands, l)
		if err := tx.Exec(`SELECT pg_advisory_xact_lock(k) FROM unnest(?::bigint[]) AS k ORDER BY k`, Int64s(keys)).Error; err != nil {
			return err
		}
		ids, err := pickWithinCapacity(tx, cands, l, max)
		if err != nil {
			return err
		}
		out, err = startJobs(tx, claimant, ttl, ids)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("start limited jobs: %w", err)
	}
	announce(s, out, func(j StartedJob) int64 { return j.RunID })
	return out, nil
}

func lockKey(kind, key string) int64 {
	h := fnv.New64a()
	h.Write([]byte("cyberbrain:" + kind + ":" + key))
	return int64(h.Sum64())
}

func lockKeys(cands []limitedCandidate, l Limits) []int64 {
	set := map[int64]bool{}
	for _, c := range cands {
		if l.Tasks[c.TaskType] {
			set[lockKey("task", c.TaskType)] = true
		}
		if c.WorkerHostID != nil {
			if _, ok := l.Hosts[*c.WorkerHostID]; ok {
				set[lockKey("host", fmt.Sprint(*c.WorkerHostID))] = true
			}
		}
		if c.ScheduleID != nil && l.Schedules[*c.ScheduleID] {
			set[lockKey("schedule", fmt.Sprint(*c.ScheduleID))] = true
		}
	}
	out := make([]int64, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// pickWithinCapacity re-reads the candidates under the locks (skipping rows
// another replica is starting) and the running counts, then admits jobs in
// FIFO order while every limit that concerns them has room.
func pickWithinCapacity(tx *gorm.DB, cands []limitedCandidate, l Limits, max int) ([]int64, error) {
	ids := make([]int64, len(cands))
	for i, c := range cands {
		ids[i] = c.ID
	}
	var lockable []int64
	if err := tx.Raw(`SELECT id FROM jobs WHERE id = ANY(?) AND status = 'pending' ORDER BY available_at, id FOR UPDATE SKIP LOCKED`,
		Int64s(ids)).Scan(&lockable).Error; err != nil {
		return nil, err
	}
	var counts []struct {
		Kind string
		Key  string
		N    int
	}
	if err := tx.Raw(`
		SELECT 'task' AS kind, task_type AS key, count(*) AS n FROM jobs WHERE status = 'running' GROUP BY task_type
		UNION ALL SELECT 'host', worker_host_id::text, count(*) FROM jobs WHERE status = 'running' AND worker_host_id IS NOT NULL GROUP BY worker_host_id
		UNION ALL SELECT 'schedule', schedule_id::text, count(DISTINCT run_id) FROM jobs WHERE status = 'running' AND schedule_id = ANY(?) GROUP BY schedule_id`,
		Int64s(l.scheduleIDs())).Scan(&counts).Error; err != nil {
		return nil, err
	}
	running := map[string]int{}
	for _, c := range counts {
		running[c.Kind+":"+c.Key] = c.N
	}
	byID := map[int64]limitedCandidate{}
	for _, c := range cands {
		byID[c.ID] = c
	}
	var picked []int64
	for _, id := range lockable {
		if len(picked) >= max {
			break
		}
		c := byID[id]
		checks := admissionChecks(c, l)
		ok := true
		for _, ch := range checks {
			if running[ch.key] >= ch.limit {
				ok = false
				break
			}
		}
		if !ok {
			continue
		}
		for _, ch := range checks {
			running[ch.key]++
		}
		picked = append(picked, id)
	}
	return picked, nil
}

type admission struct {
	key   string
	limit int
}

// admissionChecks lists the limits a candidate must fit under.
func admissionChecks(c limitedCandidate, l Limits) []admission {
	var out []admission
	taskKey := "task:" + c.TaskType
	if c.TaskMax != nil {
		out = append(out, admission{taskKey, *c.TaskMax})
	}
	if c.MaxPerJob != nil {
		out = append(out, admission{taskKey, *c.MaxPerJob})
	}
	if c.WorkerHostID != nil {
		if n, ok := l.Hosts[*c.WorkerHostID]; ok {
			out = append(out, admission{fmt.Sprintf("host:%d", *c.WorkerHostID), n})
		}
	}
	if c.ScheduleID != nil && c.MaxGlobal != nil {
		out = append(out, admission{fmt.Sprintf("schedule:%d", *c.ScheduleID), *c.MaxGlobal})
	}
	return out
}
