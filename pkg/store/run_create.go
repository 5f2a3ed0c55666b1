package store

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// newRun is a planned run: one row of sqlCreateRuns.
type newRun struct {
	Idx          int             `json:"idx"`
	DirectiveID  int64           `json:"directive_id"`
	Snapshot     json.RawMessage `json:"snapshot"`
	HostID       *int64          `json:"host_id"`
	ScheduledFor *time.Time      `json:"scheduled_for"` // the slot; nil = now()
	HandOff      bool            `json:"hand_off"`      // jobs available at once (a fired slot)
	Error        *string         `json:"error"`         // created failed (a slot with no usable host)
	Jobs         []newJob        `json:"jobs"`
}

// newJob is one job of a planned run.
type newJob struct {
	Task        string          `json:"task"`
	Pos         int             `json:"pos"`
	Config      json.RawMessage `json:"config"`
	MaxAttempts int             `json:"max_attempts"`
	Timeout     int             `json:"timeout"`
	// ScheduleID is the schedule the job belongs to; nil creates the job's
	// one-shot launch schedule `launch-run-{run}-{task}`.
	ScheduleID *int64 `json:"schedule_id"`
}

// sqlCreateRuns is the only statement that inserts runs: for each planned run
// the run, its jobs, a one-shot schedule per job of a launch, and one
// ScheduledRun per job. Ids come from the sequences up front so every row can
// reference its run, schedule and job; foreign keys are checked at the end
// of the statement. A run planned with an error is created failed.
//
// Planned on inputs read earlier (a launch batch reusing the previous one's),
// it inserts nothing unless those inputs' fingerprint still holds (v, read
// only then): parameters directive ids, default directive name, payload,
// fingerprint twice ("" skips the check; the switch is opaque to the
// planner, which would fold the check away, see opaque).
var sqlCreateRuns = `
WITH v AS (
    SELECT ` + sqlInputsFingerprint + ` AS fingerprint
), l AS MATERIALIZED (
    SELECT l.*, nextval('runs_id_seq') AS run_id, coalesce(l.scheduled_for, now()) AS due,
           CASE WHEN l.error IS NULL THEN 'pending' ELSE 'failed' END AS status,
           CASE WHEN l.error IS NOT NULL THEN now() END AS ended
    FROM jsonb_to_recordset(?::jsonb) AS l(idx int, directive_id bigint, snapshot jsonb, host_id bigint,
         scheduled_for timestamptz, hand_off bool, error text, jobs jsonb)
    WHERE ` + opaque("text") + ` = '' OR ?::text = (SELECT fingerprint FROM v)
), t AS MATERIALIZED (
    SELECT l.run_id, l.host_id, l.due, l.status, l.ended, l.error, x.task, x.pos, x.config, x.max_attempts, x.timeout,
           x.schedule_id IS NULL AS new_schedule,
           CASE WHEN x.schedule_id IS NULL THEN nextval('schedules_id_seq') ELSE x.schedule_id END AS schedule_id,
           nextval('jobs_id_seq') AS job_id,
           CASE WHEN l.hand_off AND l.error IS NULL THEN now() END AS available_at
    FROM l, jsonb_to_recordset(l.jobs) AS x(task text, pos int, config jsonb, max_attempts int, timeout int, schedule_id bigint)
), r AS (
    INSERT INTO runs (id, directive_id, directive_snapshot, worker_host_id, status, completed_at, error_message)
    SELECT run_id, directive_id, snapshot, host_id, status, ended, coalesce(error, '') FROM l
    RETURNING *
), s AS (
    INSERT INTO schedules (id, name, task, enabled, schedule_type, next_run_at, due_at)
    SELECT schedule_id, 'launch-run-' || run_id || '-' || task, task, true, 'one_shot', now(), now()
    FROM t WHERE new_schedule
), j AS (
    INSERT INTO jobs (id, run_id, schedule_id, task_type, position, config, worker_host_id, max_attempts,
                      timeout_seconds, available_at, status, completed_at, error_message)
    SELECT job_id, run_id, schedule_id, task, pos, config, host_id, max_attempts, timeout, available_at,
           status, ended, coalesce(error, '') FROM t
    RETURNING *
), sr AS (
    INSERT INTO scheduled_runs (schedule_id, run_id, job_id, scheduled_for, status, finished_at, error_summary)
    SELECT schedule_id, run_id, job_id, due, status, ended, coalesce(error, '') FROM t
)
SELECT l.idx, ` + modelColumns(&Run{}, "r") + `, ` + modelColumns(&Job{}, "j") + `
FROM l JOIN r ON r.id = l.run_id JOIN j ON j.run_id = l.run_id
ORDER BY l.idx, j.position, j.id`

// errInputsChanged: the run inputs a batch was planned on changed since
// they were read; nothing was inserted.
var errInputsChanged = errors.New("run inputs changed since they were read")

// createRuns inserts planned runs in tx and returns each run with its jobs,
// keyed by the plan's Idx. The statement returns one row per job, the run's
// columns beside the job's, read without reflection or JSON.
func createRuns(tx *gorm.DB, rows []newRun) (map[int]*RunDetail, error) {
	return createRunsOn(tx, rows, nil)
}

// createRunsOn is createRuns for rows planned on in (nil: inputs read in
// this transaction): errInputsChanged when in's fingerprint no longer holds.
func createRunsOn(tx *gorm.DB, rows []newRun, in *runInputs) (map[int]*RunDetail, error) {
	payload, err := json.Marshal(rows)
	if err != nil {
		return nil, fmt.Errorf("encode runs: %w", err)
	}
	out := make(map[int]*RunDetail, len(rows))
	ids, name, fingerprint := fingerprintCheck(in)
	err = queryRows(tx, func(res *sql.Rows) error {
		var idx int
		var run Run
		var job Job
		dest := append(append([]any{&idx}, runFields(&run)...), jobFields(&job)...)
		if err := res.Scan(dest...); err != nil {
			return fmt.Errorf("scan created run: %w", err)
		}
		d := out[idx]
		if d == nil {
			run.toUTC()
			d = &RunDetail{Run: run}
			out[idx] = d
		}
		job.toUTC()
		d.Jobs = append(d.Jobs, job)
		return nil
	}, sqlCreateRuns, ids, name, string(payload), fingerprint, fingerprint)
	if err != nil {
		return nil, fmt.Errorf("create runs: %w", err)
	}
	if len(out) == 0 && in != nil {
		return nil, errInputsChanged
	}
	if len(out) != len(rows) {
		return nil, fmt.Errorf("created %d of %d runs", len(out), len(rows))
	}
	return out, nil
}

// fingerprintCheck is sqlCreateRuns' check of inputs in: the directives
// they were read for, the default directive's name and their fingerprint
// (all empty for nil: no check).
func fingerprintCheck(in *runInputs) (ids Int64s, name, fingerprint string) {
	if in == nil {
		return nil, "", ""
	}
	return Int64s(in.DirectiveIDs), DefaultDirectiveName, in.Fingerprint
}
