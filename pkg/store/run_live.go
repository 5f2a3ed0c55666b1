package store

import (
	"context"
	"fmt"
	"time"

	"github.com/cyberbrain/cyberbrain/pkg/domain"
)

// RunState is what live views show of a run that changed.
type RunState struct {
	ID          int64            `json:"id"`
	Status      domain.RunStatus `json:"status"`
	StartedAt   *time.Time       `json:"started_at"`
	CompletedAt *time.Time       `json:"completed_at"`
}

// RunStates loads the states of the given runs (those that still exist).
func (s *Store) RunStates(ctx context.Context, ids []int64) ([]RunState, error) {
	ctx, cancel := s.withDeadline(ctx)
	defer cancel()
	var out []RunState
	err := s.db.WithContext(ctx).Raw(`SELECT id, status, started_at, completed_at FROM runs WHERE id = ANY(?) ORDER BY id`,
		Int64s(ids)).Scan(&out).Error
	if err != nil {
		return nil, fmt.Errorf("load run states: %w", err)
	}
	return out, nil
}
