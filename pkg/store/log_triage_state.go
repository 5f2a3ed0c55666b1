package store

import (
	"context"
	"fmt"
)

// SaveTriageState stores a container's miner state, template baselines and
// image next to its cursor (SaveLogState writes the row first). It runs in
// the job's fenced completion transaction.
func (tx *Tx) SaveTriageState(ctx context.Context, hostID int64, container string, miner, baselines []byte, imageID string) error {
	err := tx.db.WithContext(ctx).Exec(`
UPDATE container_log_state SET miner_state = ?::jsonb, baselines = ?::jsonb, image_id = ?
WHERE worker_host_id = ? AND container_name = ?`,
		string(miner), string(baselines), imageID, hostID, container).Error
	if err != nil {
		return fmt.Errorf("save triage state of container %q on worker host %d: %w", container, hostID, err)
	}
	return nil
}
