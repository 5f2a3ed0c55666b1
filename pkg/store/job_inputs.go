package store

import (
	"context"
	"encoding/json"
	"fmt"
)

// WorkerHost loads one worker host.
func (s *Store) WorkerHost(ctx context.Context, id int64) (*WorkerHost, error) {
	var h WorkerHost
	if err := s.DB.WithContext(ctx).Take(&h, id).Error; err != nil {
		return nil, fmt.Errorf("load worker host %d: %w", id, err)
	}
	return &h, nil
}

// RunDirectiveSnapshot returns the directive snapshot a run was launched with.
func (s *Store) RunDirectiveSnapshot(ctx context.Context, runID int64) (json.RawMessage, error) {
	var snap []byte
	if err := s.DB.WithContext(ctx).Raw(`SELECT directive_snapshot FROM runs WHERE id = ?`, runID).Row().Scan(&snap); err != nil {
		return nil, fmt.Errorf("load directive snapshot of run %d: %w", runID, err)
	}
	return snap, nil
}

// SaveArtifact stores a file a task produced, inside the job's completion
// transaction.
func (tx *Tx) SaveArtifact(ctx context.Context, runID, jobID int64, name, contentType string, content []byte) error {
	if contentType == "" {
		contentType = "application/octet-stream"
	}
	a := Artifact{RunID: runID, JobID: &jobID, Name: name, ContentType: contentType, Size: int64(len(content)), Content: content}
	if err := tx.DB.WithContext(ctx).Create(&a).Error; err != nil {
		return fmt.Errorf("save artifact %s of job %d: %w", name, jobID, err)
	}
	return nil
}
