// Package tasks holds cyberbrain's diagnostic tasks (log_triage, gpu_report,
// service_map, noop) behind one interface the scheduler executes.
package tasks

import (
	"context"
	"encoding/json"

	"go.uber.org/zap"

	"github.com/cyberbrain/cyberbrain/pkg/store"
)

// Env is what a task gets to do its work.
type Env struct {
	// Job is the job being executed (ID, RunID, TaskType, Config: the merged
	// task definition default config + directive task_config for this task).
	Job store.Job
	// Host is the run's worker host; nil for tasks that need no Docker.
	Host *store.WorkerHost
	// Directive is the run's directive snapshot (name, description, task_config).
	Directive json.RawMessage
	// AllowList bounds the Docker tasks' default scope; needed unless the
	// job's scope is "all".
	AllowList AllowList
	// LogCursors are log_triage's read positions; only log_triage uses them.
	LogCursors LogCursors
	// LLMCalls records the token counts of log_triage's optional summary.
	LLMCalls LLMCallRecorder
	Logger   *zap.Logger
}

// Artifact is a file a task produced; the scheduler stores it with the job's
// completion, so a replica that lost its lease writes none.
type Artifact struct {
	Name        string
	ContentType string
	Content     []byte
}

// Result is what a successful task returns.
type Result struct {
	// Summary is one human line for the job result and the run report.
	Summary string
	// Data is the short result stored on the job (summary + key numbers).
	Data map[string]any
	// ReportMarkdown is the task's section of the run report.
	ReportMarkdown string
	// Artifacts are stored in Postgres (report.md and <task>.json at least).
	Artifacts []Artifact
	// OnCommit runs inside the fenced completion transaction, only when this
	// attempt's result is accepted; all it may do there is advance log
	// cursors and store findings and triage state.
	OnCommit func(ctx context.Context, tx CommitTx) error
}

// Task is one kind of diagnostic work. Errors should be classified with
// domain.Retryable / domain.Permanent; ctx is cancelled when the job's lease
// is lost, the run is cancelled, or the task's timeout passes.
type Task interface {
	Run(ctx context.Context, env Env) (*Result, error)
}

// TaskFunc adapts a function to Task.
type TaskFunc func(ctx context.Context, env Env) (*Result, error)

// Run calls f.
func (f TaskFunc) Run(ctx context.Context, env Env) (*Result, error) { return f(ctx, env) }

// Registry maps task keys to implementations.
type Registry map[string]Task
