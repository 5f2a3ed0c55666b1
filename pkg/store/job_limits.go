package store

import (
	"context"
	"fmt"
)

// Limits is the set of concurrency limits in force, loaded once per pass.
type Limits struct {
	// Task keys whose starts are limited (task max_concurrent, or a schedule
	// with max_per_job on that task).
	Tasks map[string]bool
	// Hosts with capabilities.max_concurrency.
	Hosts map[int64]int
	// Schedules with max_global.
	Schedules map[int64]bool
}

// Any reports whether any limit is in force.
func (l Limits) Any() bool { return len(l.Tasks)+len(l.Hosts)+len(l.Schedules) > 0 }

// LoadLimits reads which tasks, hosts and schedules have concurrency limits.
func (s *Store) LoadLimits(ctx context.Context) (Limits, error) {
	l := Limits{Tasks: map[string]bool{}, Hosts: map[int64]int{}, Schedules: map[int64]bool{}}
	var rows []struct {
		Kind string
		Key  string
		ID   int64
		N    int
	}
	err := s.db.WithContext(ctx).Raw(`
		SELECT 'task' AS kind, key, 0 AS id, 0 AS n FROM task_definitions WHERE max_concurrent IS NOT NULL
		UNION ALL SELECT DISTINCT 'task', task, 0, 0 FROM schedules WHERE max_per_job IS NOT NULL
		UNION ALL SELECT 'host', '', id, (capabilities->>'max_concurrency')::int FROM worker_hosts
		          WHERE jsonb_typeof(capabilities->'max_concurrency') = 'number'
		UNION ALL SELECT 'schedule', '', id, 0 FROM schedules WHERE max_global IS NOT NULL`).Scan(&rows).Error
	if err != nil {
		return l, fmt.Errorf("load limits: %w", err)
	}
	for _, r := range rows {
		switch r.Kind {
		case "task":
			l.Tasks[r.Key] = true
		case "host":
			l.Hosts[r.ID] = r.N
		case "schedule":
			l.Schedules[r.ID] = true
		}
	}
	return l, nil
}

func (l Limits) taskKeys() []string {
	out := make([]string, 0, len(l.Tasks))
	for k := range l.Tasks {
		out = append(out, k)
	}
	return out
}

func (l Limits) hostIDs() []int64 {
	out := make([]int64, 0, len(l.Hosts))
	for k := range l.Hosts {
		out = append(out, k)
	}
	return out
}

func (l Limits) scheduleIDs() []int64 {
	out := make([]int64, 0, len(l.Schedules))
	for k := range l.Schedules {
		out = append(out, k)
	}
	return out
}

// sqlNotLimited is the condition that none of the keys of the job aliased
// a (with its dot, or "") is limited; parameters: the limited task keys, host
// ids and schedule ids (Limits), opaque to the planner.
func sqlNotLimited(a string) string {
	return `NOT (` + a + `task_type = ANY(` + opaque("text[]") + `))
    AND (` + a + `worker_host_id IS NULL OR NOT (` + a + `worker_host_id = ANY(` + opaque("bigint[]") + `)))
    AND (` + a + `schedule_id IS NULL OR NOT (` + a + `schedule_id = ANY(` + opaque("bigint[]") + `)))`
}
