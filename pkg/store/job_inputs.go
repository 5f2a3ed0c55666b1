package store

import (
	"context"
	"encoding/json"
	"fmt"
)

// WorkerHost loads one worker host.
func (s *Store) WorkerHost(ctx context.Context, id int64) (*WorkerHost, error) {
	var h WorkerHost
	if err := s.db.WithContext(ctx).Take(&h, id).Error; err != nil {
		return nil, fmt.Errorf("load worker host %d: %w", id, err)
	}
	return &h, nil
}

// RunDirectiveSnapshot returns the directive snapshot a run was launched with.
func (s *Store) RunDirectiveSnapshot(ctx context.Context, runID int64) (json.RawMessage, error) {
	var snap []byte
	if err := s.db.WithContext(ctx).Raw(`SELECT directive_snapshot FROM runs WHERE id = ?`, runID).Row().Scan(&snap); err != nil {
		return nil, fmt.Errorf("load directive snapshot of run %d: %w", runID, err)
	}
	return snap, nil
}
