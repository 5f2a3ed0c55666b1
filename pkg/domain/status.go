// Package domain holds cyberbrain's core types and the rules of their state
// machines. It imports nothing else of cyberbrain.
package domain

// Run and job statuses.
const (
	StatusPending   = "pending"
	StatusRunning   = "running"
	StatusCompleted = "completed"
	StatusFailed    = "failed"
	StatusCancelled = "cancelled"
)

// ScheduledRun statuses.
const (
	SRPending   = "pending"
	SRStarted   = "started"
	SRFinished  = "finished"
	SRFailed    = "failed"
	SRCancelled = "cancelled"
)

// Job attempt outcomes.
const (
	OutcomeRunning   = "running"
	OutcomeCompleted = "completed"
	OutcomeFailed    = "failed"
	OutcomeLost      = "lost"
	OutcomeCancelled = "cancelled"
)

// Schedule types.
const (
	ScheduleOneShot  = "one_shot"
	ScheduleInterval = "interval"
	ScheduleCron     = "cron"
)

// Worker host types.
const (
	HostDockerSocket = "docker_socket"
	HostDockerTCP    = "docker_tcp"
	HostDockerSSH    = "docker_ssh"
)

// Task keys seeded by the first migration.
const (
	TaskLogTriage  = "log_triage"
	TaskGPUReport  = "gpu_report"
	TaskServiceMap = "service_map"
	TaskNoop       = "noop"
)

// WakeChannel is the Postgres NOTIFY channel that wakes schedulers.
const WakeChannel = "cyberbrain_wake"

// RunStatuses lists every valid run (and job) status.
var RunStatuses = []string{StatusPending, StatusRunning, StatusCompleted, StatusFailed, StatusCancelled}

// ScheduledRunStatuses lists every valid ScheduledRun status.
var ScheduledRunStatuses = []string{SRPending, SRStarted, SRFinished, SRFailed, SRCancelled}

// HostTypes lists every valid worker host type.
var HostTypes = []string{HostDockerSocket, HostDockerTCP, HostDockerSSH}

// IsTerminal reports whether a run or job status is final.
func IsTerminal(status string) bool {
	return status == StatusCompleted || status == StatusFailed || status == StatusCancelled
}

// Contains reports whether s is one of set.
func Contains(set []string, s string) bool {
	for _, v := range set {
		if v == s {
			return true
		}
	}
	return false
}

// RunStatus derives a run's status from its jobs' statuses (docs/DESIGN.md §3): any
// running → running; else any pending → running once a job has started,
// else pending; else any failed → failed; else any cancelled → cancelled;
// else completed.
func RunStatus(jobStatuses []string, anyStarted bool) string {
	has := map[string]bool{}
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
