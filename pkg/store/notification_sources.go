package store

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/cyberbrain/cyberbrain/pkg/domain"
)

// The events below are enqueued by the transactions that cause them:
// a run's aggregation to failed, a lease rescue, a health check's
// transition, a job's accepted findings.

// FailedJob is one failed job in a run_failed event.
type FailedJob struct {
	JobID    int64  `json:"job_id"`
	TaskType string `json:"task_type"`
	Attempts int    `json:"attempts"`
	Error    string `json:"error"`
}

// RunFailedData is the data of a run_failed event.
type RunFailedData struct {
	RunID        int64       `json:"run_id"`
	Status       string      `json:"status"`
	Directive    string      `json:"directive,omitempty"`
	WorkerHostID *int64      `json:"worker_host_id"`
	ScheduleID   *int64      `json:"schedule_id"`
	Error        string      `json:"error"`
	FailedJobs   []FailedJob `json:"failed_jobs"`
}

// notifyRunsFailed enqueues run_failed for the runs of changed that moved
// to failed. The subject is the failed tasks, so a cooldown keeps one task
// failing again and again to one message.
func notifyRunsFailed(tx *gorm.DB, runs []reportRun, changed []RunTransition, byRun map[int64][]reportJob) error {
	for _, c := range changed {
		if c.Status != domain.StatusFailed {
			continue
		}
		i := slices.IndexFunc(runs, func(r reportRun) bool { return r.ID == c.ID })
		if i < 0 {
			continue
		}
		ev := runFailedEvent(runs[i], byRun[c.ID])
		if err := enqueueEvent(tx, ev); err != nil {
			return err
		}
	}
	return nil
}

func runFailedEvent(r reportRun, jobs []reportJob) NotifyEvent {
	d := RunFailedData{RunID: r.ID, Status: string(domain.StatusFailed), WorkerHostID: r.WorkerHostID,
		FailedJobs: []FailedJob{}, Directive: r.Directive}
	var tasks, errs []string
	for _, j := range jobs {
		if d.ScheduleID == nil {
			d.ScheduleID = j.ScheduleID
		}
		if d.WorkerHostID == nil {
			d.WorkerHostID = j.WorkerHostID
		}
		if j.Status != domain.StatusFailed {
			continue
		}
		d.FailedJobs = append(d.FailedJobs, FailedJob{JobID: j.ID, TaskType: j.TaskType, Attempts: j.Attempt, Error: j.ErrorMessage})
		errs = append(errs, j.TaskType+": "+j.ErrorMessage)
		if !slices.Contains(tasks, j.TaskType) {
			tasks = append(tasks, j.TaskType)
		}
	}
	slices.Sort(tasks)
	d.Error = strings.Join(errs, "; ")
	return NotifyEvent{Kind: domain.EventRunFailed, Key: fmt.Sprintf("run_failed:run:%d", r.ID),
		Subject: "task:" + strings.Join(tasks, ","), HostID: d.WorkerHostID, Tasks: tasks, ScheduleID: d.ScheduleID, Payload: d}
}

// AttemptLostData is the data of a job_attempt_lost event.
type AttemptLostData struct {
	JobID        int64  `json:"job_id"`
	RunID        int64  `json:"run_id"`
	TaskType     string `json:"task_type"`
	Attempt      int    `json:"attempt"`
	MaxAttempts  int    `json:"max_attempts"`
	LostBy       string `json:"lost_by"`
	Retried      bool   `json:"retried"`
	WorkerHostID *int64 `json:"worker_host_id"`
}

// notifyAttemptsLost enqueues job_attempt_lost for rescued attempts.
func notifyAttemptsLost(tx *gorm.DB, rescued []Rescued) error {
	for _, r := range rescued {
		ev := NotifyEvent{Kind: domain.EventJobAttemptLost,
			Key:     fmt.Sprintf("job_attempt_lost:job:%d:attempt:%d", r.ID, r.Attempt),
			Subject: "task:" + r.TaskType, HostID: r.HostID, Tasks: []string{r.TaskType}, ScheduleID: r.ScheduleID,
			Payload: AttemptLostData{JobID: r.ID, RunID: r.RunID, TaskType: r.TaskType, Attempt: r.Attempt,
				MaxAttempts: r.MaxAttempts, LostBy: r.LostBy, Retried: r.Status == domain.StatusPending, WorkerHostID: r.HostID}}
		if err := enqueueEvent(tx, ev); err != nil {
			return err
		}
	}
	return nil
}

// HostEventData is the data of host_unhealthy and host_recovered events.
type HostEventData struct {
	WorkerHostID  int64  `json:"worker_host_id"`
	Host          string `json:"host"`
	Healthy       bool   `json:"healthy"`
	Error         string `json:"error"`
	EngineVersion string `json:"engine_version,omitempty"`
}

// notifyHostTransition enqueues host_unhealthy when a host that was
// healthy (or never checked) fails its check, and host_recovered when an
// unhealthy one passes. Unchanged verdicts say nothing.
func notifyHostTransition(tx *gorm.DB, hostID int64, name string, prev *bool, h HostHealth) error {
	var kind domain.EventKind
	switch {
	case !h.Healthy && (prev == nil || *prev):
		kind = domain.EventHostUnhealthy
	case h.Healthy && prev != nil && !*prev:
		kind = domain.EventHostRecovered
	default:
		return nil
	}
	// Each transition is its own event: the check's time tells them apart
	// (a retried transaction rolled its first key back with it).
	return enqueueEvent(tx, NotifyEvent{Kind: kind, Key: fmt.Sprintf("%s:host:%d:%d", kind, hostID, time.Now().UnixNano()),
		Subject: fmt.Sprintf("host:%d", hostID), HostID: &hostID,
		Payload: HostEventData{WorkerHostID: hostID, Host: name, Healthy: h.Healthy, Error: h.Error, EngineVersion: h.EngineVersion}})
}

// FindingData is the data of a finding event.
type FindingData struct {
	FindingID    int64  `json:"finding_id"`
	RunID        int64  `json:"run_id"`
	JobID        int64  `json:"job_id"`
	WorkerHostID int64  `json:"worker_host_id"`
	Container    string `json:"container"`
	Severity     string `json:"severity"`
	Kind         string `json:"kind"`
	Statement    string `json:"statement"`
}

// notifyFindings enqueues one finding event per saved finding. The subject
// is the container and kind: a cooldown is "no more than one message per
// container and kind per N minutes".
func notifyFindings(tx *gorm.DB, fs []Finding) error {
	// Rules may filter on the schedule of the finding's job.
	var jobIDs []int64
	for _, f := range fs {
		if !slices.Contains(jobIDs, f.JobID) {
			jobIDs = append(jobIDs, f.JobID)
		}
	}
	var jobs []struct {
		ID         int64
		ScheduleID *int64
	}
	if err := tx.Raw(`SELECT id, schedule_id FROM jobs WHERE id = ANY(?)`, Int64s(jobIDs)).Scan(&jobs).Error; err != nil {
		return fmt.Errorf("load schedules of findings' jobs: %w", err)
	}
	schedule := map[int64]*int64{}
	for _, j := range jobs {
		schedule[j.ID] = j.ScheduleID
	}
	for _, f := range fs {
		host := f.WorkerHostID
		ev := NotifyEvent{Kind: domain.EventFinding, Key: fmt.Sprintf("finding:%d", f.ID),
			Subject: fmt.Sprintf("host:%d/container:%s/kind:%s", host, f.ContainerName, f.Kind),
			HostID:  &host, Tasks: []string{"log_triage"}, ScheduleID: schedule[f.JobID], Severity: f.Severity,
			Payload: FindingData{FindingID: f.ID, RunID: f.RunID, JobID: f.JobID, WorkerHostID: host,
				Container: f.ContainerName, Severity: f.Severity, Kind: f.Kind, Statement: f.Statement}}
		if err := enqueueEvent(tx, ev); err != nil {
			return err
		}
	}
	return nil
}

// HotspotData is the data of a gpu_hotspot event.
type HotspotData struct {
	JobID        int64  `json:"job_id"`
	RunID        int64  `json:"run_id"`
	WorkerHostID *int64 `json:"worker_host_id"`
	Hotspots     int    `json:"hotspots"`
	Summary      string `json:"summary"`
}

// notifyGPUHotspots enqueues gpu_hotspot for accepted gpu_report jobs whose
// result counts hotspots.
func notifyGPUHotspots(tx *gorm.DB, accepted []FinishedJob) error {
	var ids []int64
	for _, a := range accepted {
		if a.TaskType == "gpu_report" && a.Status == domain.StatusCompleted {
			ids = append(ids, a.ID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	var rows []struct {
		HotspotData
		ScheduleID *int64
	}
	if err := tx.Raw(`SELECT id AS job_id, run_id, worker_host_id, schedule_id, (result->>'hotspots')::numeric::int AS hotspots,
			coalesce(result->>'summary', '') AS summary FROM jobs
		WHERE id = ANY(?) AND jsonb_typeof(result->'hotspots') = 'number' AND (result->>'hotspots')::numeric >= 1`,
		Int64s(ids)).Scan(&rows).Error; err != nil {
		return fmt.Errorf("load gpu hotspots: %w", err)
	}
	for _, r := range rows {
		subject := "host:none"
		if r.WorkerHostID != nil {
			subject = fmt.Sprintf("host:%d", *r.WorkerHostID)
		}
		ev := NotifyEvent{Kind: domain.EventGPUHotspot, Key: fmt.Sprintf("gpu_hotspot:job:%d", r.JobID), Subject: subject,
			HostID: r.WorkerHostID, Tasks: []string{"gpu_report"}, ScheduleID: r.ScheduleID, Payload: r.HotspotData}
		if err := enqueueEvent(tx, ev); err != nil {
			return err
		}
	}
	return nil
}
