package store

import (
	"context"
	"fmt"
)

// MetricsStats is the queue state /metrics reports. Its fields match
// metrics.DBStats one for one, so the API converts it with
// metrics.DBStats(s) (no import between the two packages).
type MetricsStats struct {
	// JobsByStatus and RunsByStatus count the live statuses only (pending,
	// running): terminal rows grow without bound and would make every scrape
	// a scan of the whole history.
	JobsByStatus map[string]int64
	RunsByStatus map[string]int64
	// DueSchedules counts schedules due now (due_at <= now()), claimed or not.
	DueSchedules int64
	// ScheduleLagSeconds is now() − the oldest due_at, 0 when nothing is due.
	ScheduleLagSeconds float64
	// HostStates maps each worker host name to healthy, unhealthy, unknown
	// (never checked) or disabled.
	HostStates map[string]string
}

type statusCount struct {
	Status string
	N      int64
}

// MetricsStats reads the queue state for a Prometheus scrape. Every query runs
// on an index (jobs_status_idx, runs_status_idx, the partial schedules_due_idx)
// so a scrape stays cheap however long the history grows.
func (s *Store) MetricsStats(ctx context.Context) (MetricsStats, error) {
	out := MetricsStats{
		JobsByStatus: map[string]int64{},
		RunsByStatus: map[string]int64{},
		HostStates:   map[string]string{},
	}
	db := s.db.WithContext(ctx)

	for table, dst := range map[string]map[string]int64{"jobs": out.JobsByStatus, "runs": out.RunsByStatus} {
		var rows []statusCount
		q := `SELECT status, count(*) AS n FROM ` + table + ` WHERE status IN ('pending', 'running') GROUP BY status`
		if err := db.Raw(q).Scan(&rows).Error; err != nil {
			return MetricsStats{}, fmt.Errorf("metrics stats: count %s by status: %w", table, err)
		}
		for _, r := range rows {
			dst[r.Status] = r.N
		}
	}

	var due struct {
		N   int64
		Lag float64
	}
	if err := db.Raw(`SELECT count(*) AS n,
	        coalesce(extract(epoch FROM now() - min(due_at)), 0)::float8 AS lag
	   FROM schedules WHERE due_at IS NOT NULL AND due_at <= now()`).Scan(&due).Error; err != nil {
		return MetricsStats{}, fmt.Errorf("metrics stats: due schedules: %w", err)
	}
	out.DueSchedules, out.ScheduleLagSeconds = due.N, max(due.Lag, 0)

	var hosts []struct {
		Name  string
		State string
	}
	if err := db.Raw(`SELECT name,
	        CASE WHEN NOT enabled THEN 'disabled'
	             WHEN healthy IS NULL THEN 'unknown'
	             WHEN healthy THEN 'healthy'
	             ELSE 'unhealthy' END AS state
	   FROM worker_hosts`).Scan(&hosts).Error; err != nil {
		return MetricsStats{}, fmt.Errorf("metrics stats: worker hosts: %w", err)
	}
	for _, h := range hosts {
		out.HostStates[h.Name] = h.State
	}
	return out, nil
}
