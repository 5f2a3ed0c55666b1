package store

import (
	"context"
	"fmt"

	"gorm.io/gorm"
)

// LaunchWithKey is Launch under an idempotency key: the first request with
// k creates the run and records k in the same transaction; a retry with k
// and the same request answers that run (replayed), one with another
// request ErrKeyReused. It does not join the launch batcher's group commit:
// a keyed launch must see a concurrent one with its key, which the key's
// lock inside its own transaction gives.
func (s *Store) LaunchWithKey(ctx context.Context, req LaunchRequest, k IdempotencyKey) (*RunDetail, bool, error) {
	var out *RunDetail
	var replayed bool
	err := s.withRetry(ctx, func(tx *gorm.DB) error {
		var created *RunDetail
		runID, again, err := withKey(tx, &k, func() (int64, error) {
			row, err := planOne(ctx, tx, runSpec{Req: req})
			if err != nil {
				return 0, err
			}
			runs, err := createRuns(tx, []newRun{*row})
			if err != nil {
				return 0, fmt.Errorf("launch run: %w", err)
			}
			created = runs[0]
			return created.ID, nil
		})
		if err != nil {
			return err
		}
		if again {
			// The run as it is now: it may have started or finished since.
			if created, err = getRunDetail(tx, runID); err != nil {
				return err
			}
		}
		out, replayed = created, again
		return nil
	})
	if err != nil {
		return nil, false, err
	}
	if !replayed {
		s.Wake()
		s.RunsChanged(out.ID)
	}
	return out, replayed, nil
}
