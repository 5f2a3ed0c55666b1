// Package domain holds cyberbrain's core types and the rules of their state
// machines. It imports nothing else of cyberbrain.
package domain

import "slices"

// RunStatus is the state of a run and of a job. Runs and jobs share one type
// on purpose: they move through the same five states, a run's status is
// derived from its jobs' (AggregateRunStatus), and the API filters both with
// the same list. Values are stored as text in Postgres and serialised as
// plain JSON strings, exactly as before.
type RunStatus string

// JobStatus names a job's status; it is RunStatus (an alias, not a new type)
// so job statuses feed AggregateRunStatus without conversions.
type JobStatus = RunStatus

// Run and job statuses.
const (
	StatusPending   RunStatus = "pending"
	StatusRunning   RunStatus = "running"
	StatusCompleted RunStatus = "completed"
	StatusFailed    RunStatus = "failed"
	StatusCancelled RunStatus = "cancelled"
)

// RunStatuses lists every valid run (and job) status.
var RunStatuses = []RunStatus{StatusPending, StatusRunning, StatusCompleted, StatusFailed, StatusCancelled}

// Valid reports whether s is one of RunStatuses.
func (s RunStatus) Valid() bool { return slices.Contains(RunStatuses, s) }

// Terminal reports whether s is final: completed, failed or cancelled.
func (s RunStatus) Terminal() bool {
	return s == StatusCompleted || s == StatusFailed || s == StatusCancelled
}

// ScheduledRunStatus is the state of one schedule slot (a ScheduledRun). It
// differs from RunStatus: a slot is "started" and "finished", never "running".
type ScheduledRunStatus string

// ScheduledRun statuses.
const (
	SRPending   ScheduledRunStatus = "pending"
	SRStarted   ScheduledRunStatus = "started"
	SRFinished  ScheduledRunStatus = "finished"
	SRFailed    ScheduledRunStatus = "failed"
	SRCancelled ScheduledRunStatus = "cancelled"
)

// ScheduledRunStatuses lists every valid ScheduledRun status.
var ScheduledRunStatuses = []ScheduledRunStatus{SRPending, SRStarted, SRFinished, SRFailed, SRCancelled}

// Valid reports whether s is one of ScheduledRunStatuses.
func (s ScheduledRunStatus) Valid() bool { return slices.Contains(ScheduledRunStatuses, s) }

// Terminal reports whether the slot is final: finished, failed or cancelled.
func (s ScheduledRunStatus) Terminal() bool {
	return s == SRFinished || s == SRFailed || s == SRCancelled
}

// AttemptOutcome is how one job attempt ended ("running" while it has not).
type AttemptOutcome string

// Job attempt outcomes.
const (
	OutcomeRunning   AttemptOutcome = "running"
	OutcomeCompleted AttemptOutcome = "completed"
	OutcomeFailed    AttemptOutcome = "failed"
	OutcomeLost      AttemptOutcome = "lost"
	OutcomeCancelled AttemptOutcome = "cancelled"
)

// AttemptOutcomes lists every valid attempt outcome.
var AttemptOutcomes = []AttemptOutcome{OutcomeRunning, OutcomeCompleted, OutcomeFailed, OutcomeLost, OutcomeCancelled}

// Valid reports whether o is one of AttemptOutcomes.
func (o AttemptOutcome) Valid() bool { return slices.Contains(AttemptOutcomes, o) }

// Terminal reports whether the attempt has ended (anything but running).
func (o AttemptOutcome) Terminal() bool { return o.Valid() && o != OutcomeRunning }

// ScheduleType is how a schedule fires.
type ScheduleType string

// Schedule types.
const (
	ScheduleOneShot  ScheduleType = "one_shot"
	ScheduleInterval ScheduleType = "interval"
	ScheduleCron     ScheduleType = "cron"
)

// ScheduleTypes lists every valid schedule type.
var ScheduleTypes = []ScheduleType{ScheduleOneShot, ScheduleInterval, ScheduleCron}

// Valid reports whether t is one of ScheduleTypes.
func (t ScheduleType) Valid() bool { return slices.Contains(ScheduleTypes, t) }

// HostType is how cyberbrain reaches a worker host's Docker engine.
type HostType string

// Worker host types.
const (
	HostDockerSocket HostType = "docker_socket"
	HostDockerTCP    HostType = "docker_tcp"
	HostDockerSSH    HostType = "docker_ssh"
)

// HostTypes lists every valid worker host type.
var HostTypes = []HostType{HostDockerSocket, HostDockerTCP, HostDockerSSH}

// Valid reports whether t is one of HostTypes.
func (t HostType) Valid() bool { return slices.Contains(HostTypes, t) }

// Task keys seeded by the first migration.
const (
	TaskLogTriage  = "log_triage"
	TaskGPUReport  = "gpu_report"
	TaskServiceMap = "service_map"
	TaskNoop       = "noop"
)

// WakeChannel is the Postgres NOTIFY channel that wakes schedulers.
const WakeChannel = "cyberbrain_wake"

// RunsChannel is the Postgres NOTIFY channel on which every process that
// changes a run or one of its jobs says which runs changed: a payload of
// comma-separated run ids, or "*" when too many changed at once to list.
// The dashboard's live updates listen to it.
const RunsChannel = "cyberbrain_runs"

// Strings converts a list of typed values (RunStatuses, HostTypes, …) to
// plain strings, for messages and SQL arguments.
func Strings[T ~string](set []T) []string {
	out := make([]string, len(set))
	for i, v := range set {
		out[i] = string(v)
	}
	return out
}

// AggregateRunStatus derives a run's status from its jobs' statuses
// (docs/DESIGN.md §3): any running → running; else any pending → running
// once a job has started, else pending; else any failed → failed; else any
// cancelled → cancelled; else completed.
func AggregateRunStatus(jobStatuses []JobStatus, anyStarted bool) RunStatus {
	has := map[RunStatus]bool{}
	for _, s := range jobStatuses {
		has[s] = true
	}
	switch {
	case has[StatusRunning], has[StatusPending] && anyStarted:
		return StatusRunning
	case has[StatusPending]:
		return StatusPending
	case has[StatusFailed]:
		return StatusFailed
	case has[StatusCancelled]:
		return StatusCancelled
	default:
		return StatusCompleted
	}
}
