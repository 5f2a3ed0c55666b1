package store

import (
	"context"
	"fmt"
)

// AllowlistForHost returns the enabled allow-list entries that apply to a
// worker host: its own entries and the global ones (worker_host_id NULL).
func (s *Store) AllowlistForHost(ctx context.Context, hostID int64) ([]ContainerAllowlistEntry, error) {
	var entries []ContainerAllowlistEntry
	err := s.db.WithContext(ctx).
		Where("enabled AND (worker_host_id IS NULL OR worker_host_id = ?)", hostID).
		Order("id").Find(&entries).Error
	if err != nil {
		return nil, fmt.Errorf("load container allow-list of worker host %d: %w", hostID, err)
	}
	return entries, nil
}
