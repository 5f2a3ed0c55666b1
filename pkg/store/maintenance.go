package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
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
	err := s.db.WithContext(ctx).Raw(`SELECT extract(epoch FROM least(
			(SELECT min(due_at) FROM schedules WHERE due_at > @since),
			(SELECT min(claimed_until) FROM schedules WHERE due_at IS NOT NULL AND claimed_until > @since),
			(SELECT min(available_at) FROM jobs WHERE status = 'pending' AND available_at > @since),
			(SELECT min(claimed_until) FROM jobs WHERE status = 'running' AND claimed_until > @since)) - now()) AS secs,
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

// PruneFinishedRuns deletes runs that finished more than `age` ago (with their
// jobs, attempts, artifacts and ScheduledRun links), then the one-shot launch
// schedules left without history. Returns the number of runs deleted.
func (s *Store) PruneFinishedRuns(ctx context.Context, age time.Duration, batch int) (int64, error) {
	res := s.db.WithContext(ctx).Exec(`DELETE FROM runs WHERE id IN (
		SELECT id FROM runs WHERE status IN ('completed', 'failed', 'cancelled')
		AND completed_at < now() - make_interval(secs => ?) ORDER BY completed_at LIMIT ? FOR UPDATE SKIP LOCKED)`,
		age.Seconds(), batch)
	if res.Error != nil {
		return 0, fmt.Errorf("prune runs: %w", res.Error)
	}
	err := s.db.WithContext(ctx).Exec(`DELETE FROM schedules s WHERE s.schedule_type = 'one_shot' AND NOT s.enabled
		AND s.due_at IS NULL AND s.name LIKE 'launch-run-%'
		AND NOT EXISTS (SELECT 1 FROM scheduled_runs sr WHERE sr.schedule_id = s.id)`).Error
	if err != nil {
		return res.RowsAffected, fmt.Errorf("prune launch schedules: %w", err)
	}
	return res.RowsAffected, nil
}
