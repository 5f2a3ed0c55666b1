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
