package store

import (
	"context"
	"fmt"

	"github.com/cyberbrain/cyberbrain/pkg/domain"
)

// ListAllowlist returns one page of container allow-list entries.
func (s *Store) ListAllowlist(ctx context.Context, p ListParams) (*PageRows[ContainerAllowlistEntry], error) {
	return listRows[ContainerAllowlistEntry](ctx, s.db.Model(&ContainerAllowlistEntry{}), s.db.Model(&ContainerAllowlistEntry{}), p, false, "container allow-list")
}

// GetAllowlistEntry loads one allow-list entry.
func (s *Store) GetAllowlistEntry(ctx context.Context, id int64) (*ContainerAllowlistEntry, error) {
	return getRow[ContainerAllowlistEntry](ctx, s.db, id, "allow-list entry", "Allow-list entry not found")
}

// SaveAllowlistEntry inserts (ID 0) or updates an allow-list entry.
func (s *Store) SaveAllowlistEntry(ctx context.Context, e *ContainerAllowlistEntry) error {
	db := s.db.WithContext(ctx)
	if e.WorkerHostID != nil {
		var n int64
		if err := db.Raw(`SELECT count(*) FROM worker_hosts WHERE id = ?`, *e.WorkerHostID).Scan(&n).Error; err != nil {
			return fmt.Errorf("look up worker host: %w", err)
		}
		if n == 0 {
			return domain.Invalid(map[string][]string{"worker_host_id": {"worker host not found"}}, "worker host not found")
		}
	}
	args := []any{e.WorkerHostID, e.ContainerName, e.ContainerID, e.Description, e.Enabled, string(e.Tags)}
	var res = db
	if e.ID == 0 {
		res = db.Raw(`INSERT INTO container_allowlist (worker_host_id, container_name, container_id, description,
			enabled, tags) VALUES (?, ?, ?, ?, ?, ?::jsonb) RETURNING *`, args...).Scan(e)
	} else {
		res = db.Raw(`UPDATE container_allowlist SET worker_host_id = ?, container_name = ?, container_id = ?,
			description = ?, enabled = ?, tags = ?::jsonb, updated_at = now() WHERE id = ? RETURNING *`,
			append(args, e.ID)...).Scan(e)
		if res.Error == nil && res.RowsAffected == 0 {
			return domain.NotFound("Allow-list entry not found")
		}
	}
	return clientDBError(res.Error, "write allow-list entry", "duplicate allow-list entry", "worker host not found")
}

// DeleteAllowlistEntry deletes an allow-list entry (nothing references one).
func (s *Store) DeleteAllowlistEntry(ctx context.Context, id int64) error {
	return deleteRow(ctx, s.db, "container_allowlist", id, "Allow-list entry not found", func(err error) error {
		return fmt.Errorf("delete allow-list entry %d: %w", id, err)
	})
}

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
