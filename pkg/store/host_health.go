package store

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// HostHealth is the outcome of one health check of a worker host's engine.
type HostHealth struct {
	Healthy       bool
	EngineVersion string
	Error         string // what is stored and shown: an error class, never raw
	// Detail is the raw error, for the log; it is not stored.
	Detail string
	// GPUs is the number of NVIDIA GPUs found, nil when the check could not tell.
	GPUs *int
}

// RecordHostHealth stores the result of a health check. last_seen_at moves
// only when the engine was reached, so a host is never made to look fresh by
// a check that failed. A GPU count the check discovered fills
// capabilities.gpus only while the operator has not set it themselves.
func (s *Store) RecordHostHealth(ctx context.Context, hostID int64, h HostHealth) error {
	var gpus any
	if h.GPUs != nil {
		gpus = *h.GPUs
	}
	// The previous verdict is read under the row lock, so of two checks
	// racing, only the one that changes it enqueues a transition event.
	err := s.withRetry(ctx, func(tx *gorm.DB) error {
		var prev struct {
			Name    string
			Healthy *bool
		}
		if err := tx.Raw(`SELECT name, healthy FROM worker_hosts WHERE id = ? FOR UPDATE`, hostID).Scan(&prev).Error; err != nil {
			return err
		}
		if err := tx.Exec(`
UPDATE worker_hosts SET
    healthy = ?,
    last_checked_at = now(),
    last_seen_at = CASE WHEN ? THEN now() ELSE last_seen_at END,
    last_error = ?,
    engine_version = CASE WHEN ? <> '' THEN ? ELSE engine_version END,
    capabilities = CASE WHEN ?::int IS NOT NULL AND capabilities->'gpus' IS NULL
                        THEN jsonb_set(capabilities, '{gpus}', to_jsonb(?::int)) ELSE capabilities END
WHERE id = ?`,
			h.Healthy, h.Healthy, h.Error, h.EngineVersion, h.EngineVersion, gpus, gpus, hostID).Error; err != nil {
			return err
		}
		return notifyHostTransition(tx, hostID, prev.Name, prev.Healthy, h)
	})
	if err != nil {
		return fmt.Errorf("record health of worker host %d: %w", hostID, err)
	}
	return nil
}

// HostsDueForCheck returns the enabled worker hosts whose last health check is
// older than every (or that were never checked), oldest first.
func (s *Store) HostsDueForCheck(ctx context.Context, every time.Duration) ([]WorkerHost, error) {
	var hosts []WorkerHost
	err := s.db.WithContext(ctx).Raw(`
SELECT * FROM worker_hosts
WHERE enabled AND (last_checked_at IS NULL OR last_checked_at <= now() - make_interval(secs => ?))
ORDER BY last_checked_at NULLS FIRST, id`, every.Seconds()).Scan(&hosts).Error
	if err != nil {
		return nil, fmt.Errorf("load worker hosts due for a health check: %w", err)
	}
	return hosts, nil
}
