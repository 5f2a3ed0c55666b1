package store

import (
	"context"
	"fmt"

	"gorm.io/gorm"
)

// LaunchRequest is a validated POST /api/runs/launch/ body.
type LaunchRequest struct {
	DirectiveID  *int64
	Tasks        []string // task keys; empty = every enabled task
	TaskIDs      []int64  // alternative to Tasks
	TargetHostID *int64
}

// LaunchFunc is the one launch path handed to whoever creates launches (the
// API's and the dashboard's forms): pkg/launcher's batcher, or Store.Launch.
type LaunchFunc func(ctx context.Context, req LaunchRequest) (*RunDetail, error)

// LaunchResult is one launch's outcome in a batch: the run, or why not.
type LaunchResult struct {
	Run *RunDetail
	Err error
}

// Launch creates, in one transaction, the run, one job per task, one one-shot
// schedule `launch-run-{run}-{task}` per job and one pending ScheduledRun per
// schedule, then wakes the schedulers (NOTIFY after the commit).
func (s *Store) Launch(ctx context.Context, req LaunchRequest) (*RunDetail, error) {
	res := s.LaunchBatch(ctx, []LaunchRequest{req})[0]
	return res.Run, res.Err
}

// LaunchBatch creates several launches with one read of the directives, task
// definitions and hosts and one insert statement; each launch stays atomic
// and fails alone (a bad request, or an insert that fails by itself). This
// is what lets the API group-commit concurrent launches (pkg/launcher).
func (s *Store) LaunchBatch(ctx context.Context, reqs []LaunchRequest) []LaunchResult {
	results := make([]LaunchResult, len(reqs))
	specs := make([]runSpec, len(reqs))
	for i, r := range reqs {
		specs[i] = runSpec{Req: r}
	}
	in, err := loadRunInputs(ctx, s.db, specs)
	var rows []newRun
	for i := range specs {
		if err != nil {
			results[i].Err = err
			continue
		}
		row, perr := in.plan(i, specs[i])
		if perr != nil {
			results[i].Err = perr
			continue
		}
		rows = append(rows, *row)
	}
	if len(rows) > 0 {
		s.insertLaunches(ctx, rows, results)
	}
	return results
}

// insertLaunches inserts rows in one statement (atomic by itself, so sent
// without BEGIN and COMMIT: two round trips fewer in the batch's cycle); if
// that fails, each launch is tried alone so one bad launch cannot fail the
// others.
func (s *Store) insertLaunches(ctx context.Context, rows []newRun, results []LaunchResult) {
	var created map[int]*RunDetail
	err := s.statementWithRetry(ctx, func(db *gorm.DB) (err error) {
		created, err = createRuns(db, rows)
		return err
	})
	if err != nil && len(rows) > 1 {
		for _, r := range rows {
			s.insertLaunches(ctx, []newRun{r}, results)
		}
		return
	}
	for _, r := range rows {
		if err != nil {
			results[r.Idx].Err = fmt.Errorf("launch run: %w", err)
		} else {
			results[r.Idx].Run = created[r.Idx]
			s.RunsChanged(created[r.Idx].ID)
		}
	}
	if err == nil {
		s.Wake()
	}
}
