package store

import (
	"context"
	"fmt"
)

// artifactMeta is every artifact column but the content, so listing never
// reads the (possibly large) bytes.
const artifactMeta = "id, run_id, job_id, name, content_type, size, created_at"

// ListRunArtifacts returns the metadata of a run's artifacts (404 for an
// unknown run).
func (s *Store) ListRunArtifacts(ctx context.Context, runID int64) ([]Artifact, error) {
	if err := s.runExists(ctx, runID); err != nil {
		return nil, err
	}
	out := []Artifact{}
	err := s.db.WithContext(ctx).Select(artifactMeta).Where("run_id = ?", runID).Order("id").Find(&out).Error
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

// TokenSums adds up llm_calls rows.
type TokenSums struct {
	Calls            int64 `json:"calls"`
	PromptTokens     int64 `json:"prompt_tokens"`
	CompletionTokens int64 `json:"completion_tokens"`
	TotalTokens      int64 `json:"total_tokens"`
	DurationMS       int64 `json:"duration_ms" gorm:"column:duration_ms"`
}

// ModelTokens sums llm_calls of one model.
type ModelTokens struct {
	Model string `json:"model"`
	TokenSums
}

// TokenStats is GET /api/token-stats/: counts only, never text.
type TokenStats struct {
	TokenSums
	Models []ModelTokens `json:"models"`
}

const sqlTokenSums = `count(*) AS calls, coalesce(sum(prompt_tokens), 0) AS prompt_tokens,
	coalesce(sum(completion_tokens), 0) AS completion_tokens, coalesce(sum(total_tokens), 0) AS total_tokens,
	coalesce(sum(duration_ms), 0) AS duration_ms`

// GetTokenStats sums every llm_calls row, overall and per model.
func (s *Store) GetTokenStats(ctx context.Context) (*TokenStats, error) {
	db := s.db.WithContext(ctx)
	out := &TokenStats{Models: []ModelTokens{}}
	if err := db.Raw(`SELECT ` + sqlTokenSums + ` FROM llm_calls`).Scan(&out.TokenSums).Error; err != nil {
		return nil, fmt.Errorf("token totals: %w", err)
	}
	if err := db.Raw(`SELECT model, ` + sqlTokenSums + ` FROM llm_calls GROUP BY model ORDER BY model`).Scan(&out.Models).Error; err != nil {
		return nil, fmt.Errorf("token totals per model: %w", err)
	}
	return out, nil
}
