package store

import (
	"context"
	"fmt"
)

// RecordLLMCall stores the token counts of one LLM request. The table has no
// column for prompt or response text on purpose.
func (s *Store) RecordLLMCall(ctx context.Context, c *LLMCall) error {
	if err := s.db.WithContext(ctx).Create(c).Error; err != nil {
		return fmt.Errorf("record llm call: %w", err)
	}
	return nil
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
