package store

import (
	"context"
	"fmt"
	"slices"
	"time"

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
//
// A batch that follows another within reuseInputsFor plans on the inputs
// that one read instead of reading them again (a round trip and their
// decoding in each batch's cycle): the insert then checks their fingerprint
// and inserts nothing when any of them changed, and the batch is planned
// again on a fresh read, as it is when a reused plan refuses a launch — so
// every launch is created, and every refusal made, on inputs that held when
// it was.
func (s *Store) LaunchBatch(ctx context.Context, reqs []LaunchRequest) []LaunchResult {
	specs := make([]runSpec, len(reqs))
	for i, r := range reqs {
		specs[i] = runSpec{Req: r}
	}
	if in := s.reusableInputs(specs); in != nil {
		if results, ok := s.launchOn(ctx, in, specs, true); ok {
			return results
		}
		// Inputs that change under a stream of launches (a host's running
		// jobs while tasks come and go) would cost each batch a wasted
		// insert: read them afresh for a while.
		s.reuseInputsAfter.Store(time.Now().Add(reuseInputsPause).UnixNano())
	}
	in, err := loadRunInputs(ctx, s.db, specs)
	if err != nil {
		results := make([]LaunchResult, len(reqs))
		for i := range results {
			results[i].Err = err
		}
		return results
	}
	s.launchInputs.Store(in)
	results, _ := s.launchOn(ctx, in, specs, false)
	return results
}

// reuseInputsFor is how long a launch batch's inputs serve the next ones;
// reuseInputsPause, how long reuse stops after reused inputs failed a batch.
const (
	reuseInputsFor   = 2 * time.Second
	reuseInputsPause = time.Second
)

// reusableInputs returns the last batch's inputs when they may serve specs:
// recent, fingerprinted, holding every directive specs ask for.
func (s *Store) reusableInputs(specs []runSpec) *runInputs {
	in := s.launchInputs.Load()
	if in == nil || in.Fingerprint == "" || in.Default == nil || time.Since(in.readAt) > reuseInputsFor ||
		time.Now().UnixNano() < s.reuseInputsAfter.Load() {
		return nil
	}
	for _, sp := range specs {
		if id := sp.Req.DirectiveID; id != nil && !slices.Contains(in.DirectiveIDs, *id) {
			return nil
		}
	}
	aged := *in
	aged.Now = in.Now.Add(time.Since(in.readAt)) // the database clock, moved on
	return &aged
}

// launchOn plans specs on in and inserts them. With reused inputs it
// writes nothing and reports false when a launch would be refused or the
// insert fails (the inputs' fingerprint no longer holds, or another error):
// the caller plans the batch again on a fresh read.
func (s *Store) launchOn(ctx context.Context, in *runInputs, specs []runSpec, reused bool) ([]LaunchResult, bool) {
	results := make([]LaunchResult, len(specs))
	var rows []newRun
	for i := range specs {
		row, err := in.plan(i, specs[i])
		if err != nil {
			if reused {
				return nil, false
			}
			results[i].Err = err
			continue
		}
		rows = append(rows, *row)
	}
	if len(rows) == 0 {
		return results, true
	}
	if !reused {
		s.insertLaunches(ctx, rows, results)
		return results, true
	}
	created, err := s.createLaunches(ctx, rows, in)
	if err != nil {
		return nil, false
	}
	s.created(rows, created, results)
	return results, true
}

// insertLaunches inserts rows planned on a fresh read in one statement; if
// that fails, each launch is tried alone so one bad launch cannot fail the
// others.
func (s *Store) insertLaunches(ctx context.Context, rows []newRun, results []LaunchResult) {
	created, err := s.createLaunches(ctx, rows, nil)
	if err != nil && len(rows) > 1 {
		for _, r := range rows {
			s.insertLaunches(ctx, []newRun{r}, results)
		}
		return
	}
	if err != nil {
		for _, r := range rows {
			results[r.Idx].Err = fmt.Errorf("launch run: %w", err)
		}
		return
	}
	s.created(rows, created, results)
}

// createLaunches inserts rows in one statement, atomic by itself, so sent
// without BEGIN and COMMIT (two round trips fewer in the batch's cycle);
// checked against in's fingerprint when in is not nil.
func (s *Store) createLaunches(ctx context.Context, rows []newRun, in *runInputs) (map[int]*RunDetail, error) {
	var created map[int]*RunDetail
	err := s.statementWithRetry(ctx, func(db *gorm.DB) (err error) {
		created, err = createRunsOn(db, rows, in)
		return err
	})
	return created, err
}

// created hands the created runs to their launches and wakes the
// schedulers.
func (s *Store) created(rows []newRun, created map[int]*RunDetail, results []LaunchResult) {
	for _, r := range rows {
		results[r.Idx].Run = created[r.Idx]
		s.RunsChanged(created[r.Idx].ID)
	}
	s.Wake()
}
