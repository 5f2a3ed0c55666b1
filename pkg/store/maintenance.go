package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"gorm.io/gorm"
)

func jsonArg(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("encode query argument: %v", err)) // only our own plain structs are passed
	}
	return string(b)
}

// WakeAt is when a replica should look again without being notified.
type WakeAt struct {
	// In is how long until the next future event: a schedule's due_at or
	// the expiry of a schedule's lease, a deferred job's available_at, a
	// running job's lease expiry. ok=false means none.
	In time.Duration
	OK bool
	// ExpiredLeases: a running job's lease has expired and awaits rescue.
	ExpiredLeases bool
	// DBNow is the database clock of this look: the next look's `since`.
	DBNow time.Time
}

// NextWake returns when something becomes due after `since` (the database
// clock of the caller's previous look, before its last pass). What was due
// before then was seen by that pass: handled, or waiting on capacity (woken
// by NOTIFY) or on another replica's lease (whose expiry is a later time). In
// may be negative: something became due while the pass ran.
func (s *Store) NextWake(ctx context.Context, since time.Time) (WakeAt, error) {
	var row struct {
		Secs    *float64
		Expired bool
		DBNow   time.Time
	}
	// since is read through sub-selects, opaque to the planner (see opaque):
	// as a plain parameter each call was planned afresh (1.2 ms on the bench
	// machine, for every replica after every pass).
	err := s.db.WithContext(ctx).Raw(`SELECT extract(epoch FROM least(
			(SELECT min(due_at) FROM schedules WHERE due_at > (SELECT CAST(@since AS timestamptz))),
			(SELECT min(claimed_until) FROM schedules WHERE due_at IS NOT NULL AND claimed_until > (SELECT CAST(@since AS timestamptz))),
			(SELECT min(available_at) FROM jobs WHERE status = 'pending' AND available_at > (SELECT CAST(@since AS timestamptz))),
			(SELECT min(claimed_until) FROM jobs WHERE status = 'running' AND claimed_until > (SELECT CAST(@since AS timestamptz)))) - now()) AS secs,
		EXISTS (SELECT 1 FROM jobs WHERE status = 'running' AND claimed_until <= now()) AS expired, now() AS db_now`,
		map[string]any{"since": since}).Scan(&row).Error
	if err != nil {
		return WakeAt{}, fmt.Errorf("next wake: %w", err)
	}
	w := WakeAt{ExpiredLeases: row.Expired, DBNow: row.DBNow}
	if row.Secs != nil {
		w.In, w.OK = time.Duration(*row.Secs*float64(time.Second)), true
	}
	return w, nil
}

// TryMaintenanceLock runs fn only if no other replica holds the named
// maintenance lock (a session advisory lock on a dedicated connection).
func (s *Store) TryMaintenanceLock(ctx context.Context, name string, fn func(ctx context.Context) error) (bool, error) {
	lctx, cancel := s.withDeadline(ctx)
	defer cancel()
	conn, err := s.sql.Conn(lctx)
	if err != nil {
		return false, fmt.Errorf("maintenance lock %s: %w", name, err)
	}
	defer conn.Close()
	key := lockKey("maintenance", name)
	var got bool
	if err := conn.QueryRowContext(lctx, "SELECT pg_try_advisory_lock($1)", key).Scan(&got); err != nil {
		return false, fmt.Errorf("maintenance lock %s: %w", name, err)
	}
	if !got {
		return false, nil
	}
	defer func() {
		// Bounded too: closing the connection releases the lock anyway.
		uctx, cancel := s.withDeadline(context.Background())
		defer cancel()
		_, _ = conn.ExecContext(uctx, "SELECT pg_advisory_unlock($1)", key)
	}()
	return true, fn(ctx)
}

// maintenanceHold bounds how long WaitMaintenanceLock holds its lock once
// taken (fn's own work bounds itself: an ANALYZE, analyzeTimeout).
const maintenanceHold = time.Minute

// WaitMaintenanceLock runs fn under the named maintenance lock (the one
// TryMaintenanceLock takes), waiting up to wait for another replica to
// release it; it reports false without running fn when the wait ran out.
// The lock is a transaction lock on a dedicated connection, held while fn
// runs and released with that transaction, so a wait cut short never
// leaves a lock behind in the pool. The transaction lasts at most wait
// plus maintenanceHold: an unreachable server cannot hold the caller longer.
func (s *Store) WaitMaintenanceLock(ctx context.Context, name string, wait time.Duration, fn func(ctx context.Context) error) (bool, error) {
	txCtx, cancel := context.WithTimeout(ctx, wait+maintenanceHold)
	defer cancel()
	conn, err := s.sql.Conn(txCtx)
	if err != nil {
		return false, fmt.Errorf("maintenance lock %s: %w", name, err)
	}
	defer conn.Close()
	tx, err := conn.BeginTx(txCtx, nil)
	if err != nil {
		return false, fmt.Errorf("maintenance lock %s: %w", name, err)
	}
	defer func() { _ = tx.Rollback() }()
	if _, err := tx.ExecContext(txCtx, fmt.Sprintf("SET LOCAL lock_timeout = %d", wait.Milliseconds())); err != nil {
		return false, fmt.Errorf("maintenance lock %s: %w", name, err)
	}
	if _, err := tx.ExecContext(txCtx, "SELECT pg_advisory_xact_lock($1)", lockKey("maintenance", name)); err != nil {
		if isLockTimeout(err) {
			return false, nil
		}
		return false, fmt.Errorf("maintenance lock %s: %w", name, err)
	}
	return true, fn(ctx)
}

// sqlPruneRuns deletes one batch of runs that finished more than @age seconds
// ago, oldest first (runs_completed_idx), skipping rows another transaction
// holds. The cascade takes their jobs, attempts, artifacts, LLM call counts,
// findings, idempotency keys and ScheduledRuns. It returns how many runs went
// and the schedules of their ScheduledRuns, read from the statement's
// snapshot — that is, before the cascade removed the links.
const sqlPruneRuns = `
WITH doomed AS MATERIALIZED (
    SELECT id FROM runs
    WHERE status IN ('completed', 'failed', 'cancelled') AND completed_at < now() - make_interval(secs => @age)
    ORDER BY completed_at LIMIT @batch FOR UPDATE SKIP LOCKED
), gone AS (
    DELETE FROM runs WHERE id IN (SELECT id FROM doomed) RETURNING id
)
SELECT (SELECT count(*) FROM gone) AS runs,
       ARRAY(SELECT DISTINCT schedule_id FROM scheduled_runs WHERE run_id IN (SELECT id FROM doomed))::text AS schedules`

// sqlPruneLaunchSchedules deletes, of the schedules the pruned runs' slots
// belonged to, the ended launch schedules (one-shot, `launch-run-…`) that no
// ScheduledRun references any more. A launch schedule belongs to one run, so
// this finds every launch schedule retention leaves behind without scanning
// the others; schedules people made are never touched.
const sqlPruneLaunchSchedules = `
DELETE FROM schedules s
WHERE s.id = ANY(?::bigint[]) AND s.schedule_type = 'one_shot' AND starts_with(s.name, 'launch-run-')
  AND NOT s.enabled AND s.due_at IS NULL
  AND NOT EXISTS (SELECT 1 FROM scheduled_runs sr WHERE sr.schedule_id = s.id)`

// PruneFinishedRuns deletes one batch of at most `batch` runs that finished
// more than `age` ago, oldest first, with everything that is part of them and
// their launch schedules, in one short transaction. It returns the number of
// runs deleted: fewer than batch means none older is left (but rows other
// transactions held). Callers loop over batches (the scheduler's retention).
func (s *Store) PruneFinishedRuns(ctx context.Context, age time.Duration, batch int) (int64, error) {
	var pruned struct {
		Runs      int64
		Schedules string // bigint[] as text
	}
	err := s.transaction(ctx, func(tx *gorm.DB) error {
		if err := tx.Raw(sqlPruneRuns, map[string]any{"age": age.Seconds(), "batch": batch}).Scan(&pruned).Error; err != nil {
			return fmt.Errorf("prune runs: %w", err)
		}
		if pruned.Schedules == "" || pruned.Schedules == "{}" {
			return nil
		}
		if err := tx.Exec(sqlPruneLaunchSchedules, pruned.Schedules).Error; err != nil {
			return fmt.Errorf("prune launch schedules: %w", err)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return pruned.Runs, nil
}
