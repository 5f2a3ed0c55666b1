package store

import (
	"context"
	"fmt"
)

// artifactMeta is every artifact column but the content, so listing never
// reads the (possibly large) bytes.
const artifactMeta = "id, run_id, job_id, name, content_type, size, created_at"

// ListRunArtifacts returns the metadata of a run's artifacts, oldest first,
// limit (0 = all) from offset (404 for an unknown run).
func (s *Store) ListRunArtifacts(ctx context.Context, runID int64, limit, offset int) ([]Artifact, error) {
	if err := s.runExists(ctx, runID); err != nil {
		return nil, err
	}
	out := []Artifact{}
	q := s.db.WithContext(ctx).Select(artifactMeta).Where("run_id = ?", runID).Order("id").Offset(offset)
	if limit > 0 {
		q = q.Limit(limit)
	}
	err := q.Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("list artifacts of run %d: %w", runID, err)
	}
	return out, nil
}

// GetArtifact loads an artifact, with its content when withContent is set.
func (s *Store) GetArtifact(ctx context.Context, id int64, withContent bool) (*Artifact, error) {
	q := s.db.WithContext(ctx)
	if !withContent {
		q = q.Select(artifactMeta)
	}
	var a Artifact
	if err := q.Take(&a, id).Error; err != nil {
		return nil, notFound(fmt.Errorf("load artifact %d: %w", id, err), "Artifact not found")
	}
	return &a, nil
}

// NewArtifact is a file to store with a job's completion.
type NewArtifact struct {
	Name        string
	ContentType string
	Content     []byte
}

// SaveArtifacts inserts a job's artifacts in one statement. Call it inside the
// fenced completion transaction so a replica that lost its lease stores none.
func (tx *Tx) SaveArtifacts(ctx context.Context, runID, jobID int64, arts []NewArtifact) error {
	if len(arts) == 0 {
		return nil
	}
	rows := make([]Artifact, 0, len(arts))
	for _, a := range arts {
		ct := a.ContentType
		if ct == "" {
			ct = "application/octet-stream"
		}
		content := a.Content
		if content == nil {
			content = []byte{}
		}
		jid := jobID
		rows = append(rows, Artifact{RunID: runID, JobID: &jid, Name: a.Name, ContentType: ct, Size: int64(len(content)), Content: content})
	}
	if err := tx.db.WithContext(ctx).Create(&rows).Error; err != nil {
		return fmt.Errorf("save %d artifacts of job %d: %w", len(rows), jobID, err)
	}
	return nil
}
