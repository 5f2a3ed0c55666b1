package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// LogStates returns the log_triage cursors of a worker host keyed by
// container name.
func (s *Store) LogStates(ctx context.Context, hostID int64) (map[string]ContainerLogState, error) {
	var rows []ContainerLogState
	if err := s.db.WithContext(ctx).Where("worker_host_id = ?", hostID).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("load log cursors of worker host %d: %w", hostID, err)
	}
	out := make(map[string]ContainerLogState, len(rows))
	for _, r := range rows {
		out[r.ContainerName] = r
	}
	return out, nil
}

// SaveLogState advances a container's log_triage cursor. It is meant to run in
// the job's fenced completion transaction, so only an accepted triage moves
// the cursor; a cursor never moves backwards (a slower, older attempt cannot
// undo a newer one).
func (tx *Tx) SaveLogState(ctx context.Context, hostID int64, container string, lastSuccess time.Time, knownTemplates []string) error {
	if knownTemplates == nil {
		knownTemplates = []string{}
	}
	known, err := json.Marshal(knownTemplates)
	if err != nil {
		return fmt.Errorf("encode known templates: %w", err)
	}
	err = tx.db.WithContext(ctx).Exec(`
INSERT INTO container_log_state (worker_host_id, container_name, last_success_at, known_templates)
VALUES (?, ?, ?, ?::jsonb)
ON CONFLICT (worker_host_id, container_name) DO UPDATE SET
    last_success_at = GREATEST(container_log_state.last_success_at, EXCLUDED.last_success_at),
    known_templates = EXCLUDED.known_templates`,
		hostID, container, lastSuccess, string(known)).Error
	if err != nil {
		return fmt.Errorf("save log cursor of container %q on worker host %d: %w", container, hostID, err)
	}
	return nil
}
