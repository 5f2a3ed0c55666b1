package scheduler

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/cyberbrain/cyberbrain/pkg/domain"
	"github.com/cyberbrain/cyberbrain/pkg/metrics"
	"github.com/cyberbrain/cyberbrain/pkg/store"
	"github.com/cyberbrain/cyberbrain/pkg/tasks"
)

// execution is one job attempt this replica runs.
type execution struct {
	job     store.StartedJob
	cancel  context.CancelCauseFunc
	started time.Time
	log     *zap.Logger // carries run_id, job_id, task, schedule_id
}

// launch runs a started job in its own goroutine: jobs of one pass run
// concurrently, not one after another.
func (s *Scheduler) launch(j store.StartedJob) {
	ctx, cancel := context.WithCancelCause(s.execCtx)
	ex := &execution{job: j, cancel: cancel, started: s.cfg.Clock.Now(), log: s.jobLog(j.Job)}
	s.mu.Lock()
	if stale := s.running[j.ID]; stale != nil {
		// This replica was paused, lost the lease of an earlier attempt and
		// has now been granted a new one: the old attempt is rescued, so its
		// execution stops as its next heartbeat would have stopped it.
		stale.cancel(errLeaseLost)
	}
	s.running[j.ID] = ex
	s.mu.Unlock()
	metrics.JobStarted(j.TaskType)
	if j.RunStarted {
		ex.log.Info(fmt.Sprintf("Starting run %d", j.RunID))
	}
	ex.log.Info(fmt.Sprintf("Starting job %d - %s", j.ID, j.TaskType), zap.Int("attempt", j.Attempt))
	s.execWG.Add(1)
	go func() {
		defer s.execWG.Done()
		defer cancel(nil)
		s.execute(ctx, ex)
	}()
}

func (s *Scheduler) jobLog(j store.Job) *zap.Logger {
	fields := []zap.Field{zap.Int64("run_id", j.RunID), zap.Int64("job_id", j.ID), zap.String("task", j.TaskType)}
	if j.ScheduleID != nil {
		fields = append(fields, zap.Int64("schedule_id", *j.ScheduleID))
	}
	return s.log.With(fields...)
}

// execute runs the task and queues its finish for the completer.
func (s *Scheduler) execute(ctx context.Context, ex *execution) {
	j := ex.job
	timeout := time.Duration(j.TimeoutSeconds) * time.Second
	tctx, cancel := context.WithTimeoutCause(ctx, timeout, fmt.Errorf("task %s timed out after %s", j.TaskType, timeout))
	defer cancel()
	res, err := s.runTask(tctx, j.Job, ex.log)
	if s.killed.Load() {
		return // a killed replica writes nothing
	}
	switch cause := context.Cause(ctx); {
	case errors.Is(cause, errLeaseLost), errors.Is(cause, errShutdown):
		s.drop(ex, cause)
		return
	case errors.Is(cause, errCancelled):
		s.finish(ex, store.Finish{Outcome: store.FinishCancelled, Error: "cancelled by user"}, nil)
		return
	}
	if err == nil && res == nil {
		err = domain.Permanentf("task %s returned no result", j.TaskType)
	}
	if err != nil {
		if errors.Is(context.Cause(tctx), context.DeadlineExceeded) || tctx.Err() != nil && ctx.Err() == nil {
			err = domain.Retryable(context.Cause(tctx))
		}
		f := s.failure(j.Job, err)
		var fr *tasks.FailedWithResult
		if errors.As(err, &fr) && fr.Result != nil {
			// Kept with the failure: a failed container's output is what
			// explains it.
			ok := success(j.Job, fr.Result)
			f.Result, f.Save = ok.Result, ok.Save
		}
		s.finish(ex, f, nil)
		return
	}
	s.finish(ex, success(j.Job, res), res)
}

// runTask resolves the task, its host and directive, and runs it.
func (s *Scheduler) runTask(ctx context.Context, j store.Job, log *zap.Logger) (res *tasks.Result, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = domain.Permanentf("task %s panicked: %v", j.TaskType, r)
		}
	}()
	task, err := s.resolve(ctx, j.TaskType)
	if err != nil {
		return nil, err
	}
	env := tasks.Env{Job: j, AllowList: s.st, LogCursors: s.st, LLMCalls: s.st, Logger: log}
	if j.WorkerHostID != nil {
		host, err := s.st.GetWorkerHost(ctx, *j.WorkerHostID)
		if err != nil {
			return nil, domain.Retryable(fmt.Errorf("load worker host %d: %w", *j.WorkerHostID, err))
		}
		env.Host = host
	}
	if j.TaskType != domain.TaskNoop {
		if env.Directive, err = s.st.RunDirectiveSnapshot(ctx, j.RunID); err != nil {
			return nil, domain.Retryable(err)
		}
	}
	return task.Run(ctx, env)
}

// failure decides between retry (retryable, attempts left) and failed.
func (s *Scheduler) failure(j store.Job, err error) store.Finish {
	msg := err.Error()
	if domain.IsRetryable(err) && j.Attempt < j.MaxAttempts {
		delay := s.cfg.RetryBackoff(j.Attempt)
		return store.Finish{Outcome: store.FinishRetry, Error: msg, RetryInMS: delay.Milliseconds()}
	}
	if domain.IsRetryable(err) {
		msg = fmt.Sprintf("%s (attempt %d of %d, no retry left)", msg, j.Attempt, j.MaxAttempts)
	}
	return store.Finish{Outcome: store.FinishFailed, Error: msg}
}

// success builds the finish of a completed attempt: the short result on the
// job, artifacts and the task's commit hook saved with it.
func success(j store.Job, res *tasks.Result) store.Finish {
	data := map[string]any{}
	for k, v := range res.Data {
		data[k] = v
	}
	data["summary"] = res.Summary
	b, err := json.Marshal(data)
	if err != nil {
		b, _ = json.Marshal(map[string]any{"summary": res.Summary})
	}
	f := store.Finish{Outcome: store.FinishCompleted, Result: b}
	if len(res.Artifacts) > 0 || res.OnCommit != nil {
		f.Save = func(ctx context.Context, tx *store.Tx, _ store.FinishedJob) error { return res.SaveInTx(ctx, tx, j) }
	}
	return f
}

// drop forgets an attempt without writing anything (lease lost, or handed
// back at shutdown by ReleaseJobs).
func (s *Scheduler) drop(ex *execution, cause error) {
	outcome := metrics.OutcomeReleased
	if errors.Is(cause, errLeaseLost) {
		outcome = metrics.OutcomeLost
		metrics.LeaseLost(ex.job.TaskType)
		ex.log.Warn(fmt.Sprintf("Job %d lease lost: stopped without writing its result", ex.job.ID))
	}
	metrics.JobFinished(ex.job.TaskType, outcome, s.since(ex.started))
	s.forget(ex)
}

// forget removes an ended attempt from the running set — only that attempt:
// a stale execution must not make the replica forget a newer attempt of the
// same job (which would then go unheartbeated and unstoppable).
func (s *Scheduler) forget(ex *execution) {
	s.mu.Lock()
	if s.running[ex.job.ID] == ex {
		delete(s.running, ex.job.ID)
	}
	s.mu.Unlock()
	s.wakeLoop() // capacity freed
}

// resolve finds the implementation of a task: a built-in one, else the
// container runner when the definition is a container task.
func (s *Scheduler) resolve(ctx context.Context, key string) (tasks.Task, error) {
	if task, ok := s.cfg.Tasks[key]; ok {
		return task, nil
	}
	if s.cfg.Containers != nil {
		kind, err := s.st.TaskKind(ctx, key)
		if err != nil && !errors.Is(err, domain.ErrNotFound) {
			return nil, domain.Retryable(err)
		}
		if kind == domain.TaskContainer {
			return s.cfg.Containers, nil
		}
	}
	return nil, domain.Permanentf("unknown task %q: this scheduler has no implementation for it", key)
}
