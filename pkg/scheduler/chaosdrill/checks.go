package chaosdrill

import (
	"context"
	"fmt"

	"github.com/cyberbrain/cyberbrain/pkg/store"
	"github.com/cyberbrain/cyberbrain/pkg/testenv"
)

// Check is a named invariant with its violations (none: it holds).
type Check struct {
	Name     string
	Failures []string
}

// Checks reads back from the database what docs/DESIGN.md §6 promises after replicas
// died or were paused, once every run has ended: runs launched in all, noop's
// max_attempts maxAttempts. An error is a query that failed.
func Checks(ctx context.Context, st *store.Store, runs, maxAttempts int) ([]Check, error) {
	db, err := testenv.OpenSQL(st.URL())
	if err != nil {
		return nil, err
	}
	if sqlDB, err := db.DB(); err == nil {
		defer sqlDB.Close()
	}
	var out []Check
	for _, q := range queries(maxAttempts) {
		c := Check{Name: q.name}
		if err := db.WithContext(ctx).Raw(q.sql).Scan(&c.Failures).Error; err != nil {
			return nil, fmt.Errorf("%s: %w", q.name, err)
		}
		out = append(out, c)
	}
	var n int
	if err := db.WithContext(ctx).Raw(`SELECT count(*) FROM runs`).Scan(&n).Error; err != nil {
		return nil, err
	}
	c := Check{Name: "every launched run is there"}
	if n != runs {
		c.Failures = []string{fmt.Sprintf("%d runs, want %d", n, runs)}
	}
	return append(out, c), nil
}

// Bit checks that the chaos did strike: a drill without kills, pauses or lost
// attempts proves nothing.
func (d *Drill) Bit(lost int) Check {
	c := Check{Name: "the chaos bit (kills, pauses and lost attempts)"}
	if d.Kills() == 0 || d.Pauses() == 0 || lost == 0 {
		c.Failures = []string{fmt.Sprintf("%d kills, %d pauses, %d lost attempts", d.Kills(), d.Pauses(), lost)}
	}
	return c
}

// NoDoubles is the tracker's check: no job executed twice at once.
func (o Overlaps) NoDoubles() Check {
	c := Check{Name: "no job executed twice at once (task-level tracker)"}
	for _, x := range o.Doubles {
		c.Failures = append(c.Failures, x.String())
	}
	return c
}

// queries list the violations of each database invariant.
func queries(maxAttempts int) []struct{ name, sql string } {
	return []struct{ name, sql string }{
		{"every run terminal, consistent with its job", `
			SELECT format('run %s is %s, its job %s is %s', r.id, r.status, j.id, j.status)
			FROM runs r LEFT JOIN jobs j ON j.run_id = r.id
			WHERE r.status NOT IN ('completed', 'failed') OR j.id IS NULL OR j.status <> r.status
			   OR r.completed_at IS NULL OR r.started_at IS NULL`},
		{"terminal jobs hold no lease", `
			SELECT format('job %s: claimed_by %L until %s', id, claimed_by, claimed_until) FROM jobs
			WHERE claimed_by <> '' OR claimed_until IS NOT NULL OR completed_at IS NULL`},
		{"a job fails only when out of attempts, naming the lost claimant", fmt.Sprintf(`
			SELECT format('job %%s failed at attempt %%s/%%s: %%s', j.id, j.attempt, j.max_attempts, j.error_message)
			FROM jobs j JOIN job_attempts a ON a.job_id = j.id AND a.attempt = j.attempt
			WHERE j.status = 'failed' AND (j.attempt < j.max_attempts OR j.max_attempts <> %d
			   OR a.outcome <> 'lost' OR position(a.claimant IN j.error_message) = 0)`, maxAttempts)},
		{"attempts numbered 1..n without gaps, n = jobs.attempt", `
			SELECT format('job %s: attempt %s, attempts recorded %s', j.id, j.attempt, array_agg(a.attempt ORDER BY a.attempt))
			FROM jobs j LEFT JOIN job_attempts a ON a.job_id = j.id
			GROUP BY j.id, j.attempt
			HAVING count(a.*) <> j.attempt OR coalesce(min(a.attempt), 0) <> 1 OR coalesce(max(a.attempt), 0) <> j.attempt`},
		{"every attempt ended with an outcome", `
			SELECT format('job %s attempt %s: outcome %s, %s..%s', job_id, attempt, outcome, started_at, ended_at)
			FROM job_attempts WHERE outcome = 'running' OR ended_at IS NULL OR ended_at < started_at`},
		{"last attempt's outcome is the job's; earlier ones lost, naming their claimant", `
			SELECT format('job %s (%s) attempt %s/%s by %s: %s %L', j.id, j.status, a.attempt, j.attempt, a.claimant, a.outcome, a.error)
			FROM jobs j JOIN job_attempts a ON a.job_id = j.id
			WHERE (a.attempt = j.attempt AND NOT (a.outcome = j.status OR j.status = 'failed' AND a.outcome = 'lost'))
			   OR (a.attempt < j.attempt AND a.outcome <> 'lost')
			   OR (a.outcome = 'lost' AND position(a.claimant IN a.error) = 0)`},
		{"no two attempts of a job overlap in time", `
			SELECT format('job %s: attempt %s (%s, %s..%s) overlaps attempt %s (%s, %s..%s)', a.job_id,
			       a.attempt, a.claimant, a.started_at, a.ended_at, b.attempt, b.claimant, b.started_at, b.ended_at)
			FROM job_attempts a JOIN job_attempts b ON b.job_id = a.job_id AND b.attempt > a.attempt
			WHERE b.started_at < a.ended_at`},
		{"each ScheduledRun ended with its job", `
			SELECT format('scheduled run %s (%s) of job %s (%s)', sr.id, sr.status, j.id, j.status)
			FROM jobs j LEFT JOIN scheduled_runs sr ON sr.job_id = j.id
			WHERE sr.id IS NULL OR sr.finished_at IS NULL OR sr.started_at IS NULL
			   OR sr.status <> CASE j.status WHEN 'completed' THEN 'finished' ELSE j.status END`},
		{"no schedule left due or claimed", `
			SELECT format('schedule %s: due %s, claimed by %L', id, due_at, claimed_by) FROM schedules
			WHERE due_at IS NOT NULL OR claimed_by <> '' OR enabled`},
	}
}
