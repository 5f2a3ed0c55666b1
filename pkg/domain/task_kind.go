package domain

import "slices"

// TaskKind says how a task definition's jobs execute.
type TaskKind string

// Task kinds.
const (
	// TaskBuiltin tasks are Go code in the scheduler (log_triage, gpu_report,
	// service_map, noop).
	TaskBuiltin TaskKind = "builtin"
	// TaskContainer tasks run as a short-lived container on the job's worker
	// host, described by the definition's default_config.
	TaskContainer TaskKind = "container"
)

// TaskKinds lists every kind.
var TaskKinds = []TaskKind{TaskBuiltin, TaskContainer}

// Valid reports whether k is one of TaskKinds.
func (k TaskKind) Valid() bool { return slices.Contains(TaskKinds, k) }

// BuiltinTaskKeys are the keys of the built-in tasks; no container task may
// take one, or the scheduler would run the built-in code instead.
var BuiltinTaskKeys = []string{TaskLogTriage, TaskGPUReport, TaskServiceMap, TaskNoop}
