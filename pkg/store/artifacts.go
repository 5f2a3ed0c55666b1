package store

import (
	"context"
	"fmt"
)

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
