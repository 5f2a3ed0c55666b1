package store

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/cyberbrain/cyberbrain/pkg/domain"
)

// sqlClaimDue is a replica's whole claim step in one statement (one round
// trip, one commit), the launch's wake-up path:
//
//   - it takes up to $max due schedules (FOR UPDATE SKIP LOCKED, oldest due
//     first) through schedules_due_idx, however many finished launch
//     schedules exist;
//   - a schedule whose own slot is due (sqlSlotDue) gets the caller's lease,
//     committed and visible, for FireSlot to create the slot's run;
//   - the jobs of every taken schedule's pending ScheduledRuns are handed to
//     execution (available_at = now()); of those of the other schedules
//     (launches, run-nows), the ones no concurrency limit concerns start here
//     under the caller's lease, up to $free — the rest wait, handed off, for
//     StartLimitedJobs or StartFreeJobs;
//   - a schedule whose slot is not due is released at once: one-shot ones
//     end (disabled, next_run_at NULL), due_at points at the next slot.
//
// Parameters, in order: limited task keys, host ids and schedule ids; free;
// claimant and lease seconds (jobs); claimant and lease seconds (schedules).
// The batch size is written into the text (claimDueSQL), not bound: with a
// bound LIMIT the generic plan's estimate (a tenth of the due schedules)
// plans joins for thousands of rows, so PostgreSQL re-planned the statement
// at every call (1–2.5 ms of planning per claim); with the literal the
// cached generic plan is as good as a custom one and is kept. The limits
// (sqlNotLimited) and free are opaque to the planner for the same reason.
var sqlClaimDue = `
WITH locked AS MATERIALIZED (
    SELECT s.id, s.enabled, s.next_run_at, s.schedule_type FROM schedules s
    WHERE s.due_at IS NOT NULL AND s.due_at <= now()
      AND (s.claimed_until IS NULL OR s.claimed_until < now())
    ORDER BY s.due_at, s.id
    LIMIT %d
    FOR UPDATE OF s SKIP LOCKED
), due AS (
    SELECT s.id, ` + sqlSlotDue + ` AS slot FROM locked s
), pick AS MATERIALIZED (
    SELECT sr.schedule_id, sr.job_id, NOT due.slot AND ` + sqlNotLimited("j.") + ` AS free
    FROM due JOIN scheduled_runs sr ON sr.schedule_id = due.id AND sr.status = 'pending'
    JOIN jobs j ON j.id = sr.job_id AND j.status = 'pending' AND j.available_at IS NULL
), chosen AS (
    SELECT schedule_id, job_id, free AND count(*) FILTER (WHERE free) OVER (ORDER BY job_id) <= ` + opaque("int") + ` AS start FROM pick
), upd AS (
    UPDATE jobs j SET available_at = now(),
        status        = CASE WHEN chosen.start THEN 'running' ELSE j.status END,
        attempt       = CASE WHEN chosen.start THEN j.attempt + 1 ELSE j.attempt END,
        claimed_by    = CASE WHEN chosen.start THEN ? ELSE j.claimed_by END,
        claimed_until = CASE WHEN chosen.start THEN now() + make_interval(secs => ?) ELSE j.claimed_until END,
        started_at    = CASE WHEN chosen.start THEN coalesce(j.started_at, now()) ELSE j.started_at END
    FROM chosen WHERE j.id = chosen.job_id AND j.status = 'pending' AND j.available_at IS NULL
    RETURNING j.*, chosen.start AS chosen_start, chosen.schedule_id AS chosen_schedule
), att AS (
    INSERT INTO job_attempts (job_id, attempt, claimant, started_at)
    SELECT id, attempt, claimed_by, clock_timestamp() FROM upd WHERE chosen_start
), srs AS (
    UPDATE scheduled_runs sr SET status = 'started', started_at = now()
    FROM upd WHERE upd.chosen_start AND sr.job_id = upd.id AND sr.started_at IS NULL AND sr.status = 'pending'
), claim AS (
    UPDATE schedules s SET
        claimed_by    = CASE WHEN due.slot THEN ? ELSE '' END,
        claimed_until = CASE WHEN due.slot THEN now() + make_interval(secs => ?) END,
        enabled       = CASE WHEN NOT due.slot AND s.schedule_type = 'one_shot' THEN false ELSE s.enabled END,
        next_run_at   = CASE WHEN NOT due.slot AND s.schedule_type = 'one_shot' THEN NULL ELSE s.next_run_at END,
        due_at        = CASE WHEN due.slot THEN s.due_at
                        ELSE ` + dueAtExcept("EXISTS (SELECT 1 FROM pick WHERE pick.job_id = sr.job_id)") + ` END,
        updated_at    = CASE WHEN due.slot THEN s.updated_at ELSE now() END
    FROM due WHERE s.id = due.id
    RETURNING s.*, due.slot
), lr AS (
    SELECT r.id FROM runs r WHERE r.id IN (SELECT run_id FROM upd WHERE chosen_start) ORDER BY r.id FOR UPDATE OF r
), rs AS (
    UPDATE runs SET status = 'running', started_at = coalesce(runs.started_at, now())
    FROM lr WHERE runs.id = lr.id AND runs.status = 'pending'
    RETURNING runs.id
)
SELECT ` + modelColumns(&Schedule{}, "c") + `, c.slot, now(), ` + outerJoinedColumns(&Job{}, "u") + `,
       coalesce(u.chosen_start, false), coalesce(u.run_id IN (SELECT id FROM rs), false)
FROM claim c LEFT JOIN upd u ON u.chosen_schedule = c.id
ORDER BY c.id, u.id`

// claimDueSQL is sqlClaimDue for batches of max schedules.
func claimDueSQL(max int) string {
	return strings.Replace(sqlClaimDue, "LIMIT %d", "LIMIT "+strconv.Itoa(max), 1)
}

// sqlSlotDue says whether schedule s's own slot is due: enabled, next_run_at
// reached, and recurring or a one-shot schedule with no pending ScheduledRun
// (one created through the API; a launch's holds its run). The scalar
// sub-select is looked up per row through the schedule's index; an EXISTS
// here may be planned as a hash of every pending ScheduledRun.
const sqlSlotDue = `coalesce(s.enabled AND s.next_run_at <= now() AND (s.schedule_type <> 'one_shot'
    OR (SELECT p.id FROM scheduled_runs p WHERE p.schedule_id = s.id AND p.status = 'pending' LIMIT 1) IS NULL), false)`

// Claim is what one ClaimDue took.
type Claim struct {
	// Names of every schedule taken, in claim order (for the claim's log line).
	Names []string
	// Slots are the schedules whose own slot is due, leased to the caller:
	// FireSlot creates the slot's run and releases each.
	Slots []ClaimedSchedule
	// Handoffs are the jobs of pending ScheduledRuns handed to execution.
	Handoffs []Handoff
	// Started are those of the Handoffs that now run under the caller's lease.
	Started []StartedJob
}

// ClaimedSchedule is a schedule leased to this replica because its slot is
// due, with the database clock at the claim.
type ClaimedSchedule struct {
	Schedule
	DBNow time.Time
}

// Handoff is a launched (or run-now) job handed to execution by a claim.
type Handoff struct {
	ScheduleID   int64
	ScheduleName string
	RunID        int64
	JobID        int64
	TaskType     string
}

// claimRow is one row of sqlClaimDue: a taken schedule and one of its
// handed-off jobs (zero when it had none).
type claimRow struct {
	Schedule   Schedule
	Slot       bool
	DBNow      time.Time
	Job        Job
	Start      bool
	RunStarted bool
}

// scan reads a row of sqlClaimDue.
func (r *claimRow) scan(rows *sql.Rows) error {
	dest := append(scheduleFields(&r.Schedule), &r.Slot, &r.DBNow)
	dest = append(dest, jobFields(&r.Job)...)
	return rows.Scan(append(dest, &r.Start, &r.RunStarted)...)
}

// ClaimDue runs sqlClaimDue for claimant: up to max due schedules, up to
// free jobs started under a lease of ttl (none that a limit of l concerns).
func (s *Store) ClaimDue(ctx context.Context, claimant string, ttl time.Duration, max, free int, l Limits) (*Claim, error) {
	var rows []claimRow
	err := s.statementWithRetry(ctx, func(db *gorm.DB) error {
		rows = rows[:0]
		return queryRows(db, func(sr *sql.Rows) error {
			var r claimRow
			err := r.scan(sr)
			rows = append(rows, r)
			return err
		}, claimDueSQL(max), textArray(l.taskKeys()), Int64s(l.hostIDs()), Int64s(l.scheduleIDs()),
			free, claimant, ttl.Seconds(), claimant, ttl.Seconds())
	})
	if err != nil {
		return nil, fmt.Errorf("claim due schedules: %w", err)
	}
	out := &Claim{}
	reported := map[int64]bool{}
	for i, r := range rows {
		if i == 0 || rows[i-1].Schedule.ID != r.Schedule.ID {
			out.Names = append(out.Names, r.Schedule.Name)
			if r.Slot {
				out.Slots = append(out.Slots, ClaimedSchedule{Schedule: r.Schedule, DBNow: r.DBNow})
			}
		}
		if r.Job.ID == 0 {
			continue // nothing pending to hand off
		}
		out.Handoffs = append(out.Handoffs, Handoff{ScheduleID: r.Schedule.ID, ScheduleName: r.Schedule.Name,
			RunID: r.Job.RunID, JobID: r.Job.ID, TaskType: r.Job.TaskType})
		if r.Start {
			// A run's start is reported once, with its first started job.
			out.Started = append(out.Started, StartedJob{Job: r.Job, RunStarted: r.RunStarted && !reported[r.Job.RunID]})
			reported[r.Job.RunID] = reported[r.Job.RunID] || r.RunStarted
		}
	}
	announce(s, out.Started, func(j StartedJob) int64 { return j.RunID })
	return out, nil
}

// Timing returns the fields that decide when the schedule fires.
func (s Schedule) Timing() domain.Timing {
	t := domain.Timing{Type: s.ScheduleType, CronExpr: s.CronExpr, Timezone: s.Timezone}
	if s.IntervalMinutes != nil {
		t.IntervalMinutes = *s.IntervalMinutes
	}
	return t
}

// ReleaseSchedules gives up claimant's claim on the schedules ids without
// changing anything else: they stay due and the next claim takes them.
func (s *Store) ReleaseSchedules(ctx context.Context, claimant string, ids []int64) error {
	err := s.db.WithContext(ctx).Exec(`UPDATE schedules SET claimed_by = '', claimed_until = NULL
		WHERE claimed_by = ? AND id = ANY(?)`, claimant, Int64s(ids)).Error
	if err != nil {
		return fmt.Errorf("release schedules: %w", err)
	}
	return nil
}
