package client

import (
	"encoding/json"
	"time"
)

// The types below hold the fields the CLI shows or manages; `-o json` prints
// the API's own bytes, so nothing is lost by leaving fields out here.

// Directive is a named set of task settings runs are launched with.
type Directive struct {
	ID          int64           `json:"id"`
	Name        string          `json:"name"`
	Description string          `json:"description"`
	TaskConfig  json.RawMessage `json:"task_config"`
}

// Task is a task definition.
type Task struct {
	ID             int64           `json:"id"`
	Key            string          `json:"key"`
	Name           string          `json:"name"`
	Enabled        bool            `json:"enabled"`
	DefaultConfig  json.RawMessage `json:"default_config"`
	MaxConcurrent  *int            `json:"max_concurrent"`
	TimeoutSeconds int             `json:"timeout_seconds"`
	MaxAttempts    int             `json:"max_attempts"`
}

// Run is a run with its jobs (the detail answer; lists leave Jobs empty).
type Run struct {
	ID           int64      `json:"id"`
	DirectiveID  *int64     `json:"directive_id"`
	Status       string     `json:"status"`
	WorkerHostID *int64     `json:"worker_host_id"`
	CreatedAt    time.Time  `json:"created_at"`
	StartedAt    *time.Time `json:"started_at"`
	CompletedAt  *time.Time `json:"completed_at"`
	ErrorMessage string     `json:"error_message"`
	Jobs         []Job      `json:"jobs"`
}

// Job is one task of a run.
type Job struct {
	ID           int64  `json:"id"`
	TaskType     string `json:"task_type"`
	Status       string `json:"status"`
	Attempt      int    `json:"attempt"`
	ErrorMessage string `json:"error_message"`
}

// Report is a run's report and its artifacts.
type Report struct {
	RunID          int64           `json:"run_id"`
	Status         string          `json:"status"`
	ReportMarkdown string          `json:"report_markdown"`
	ReportJSON     json.RawMessage `json:"report_json"`
	Artifacts      []Artifact      `json:"artifacts"`
}

// Artifact is a file a task produced.
type Artifact struct {
	ID          int64     `json:"id"`
	RunID       int64     `json:"run_id"`
	JobID       *int64    `json:"job_id"`
	Name        string    `json:"name"`
	ContentType string    `json:"content_type"`
	Size        int64     `json:"size"`
	CreatedAt   time.Time `json:"created_at"`
}

// Schedule fires a task once, on an interval or on a cron expression.
type Schedule struct {
	ID                  int64      `json:"id"`
	Name                string     `json:"name"`
	TaskKey             string     `json:"task_key"`
	DirectiveID         *int64     `json:"directive_id"`
	CustomDirectiveText string     `json:"custom_directive_text"`
	TargetHostID        *int64     `json:"target_host_id"`
	Enabled             bool       `json:"enabled"`
	ScheduleType        string     `json:"schedule_type"`
	IntervalMinutes     *int       `json:"interval_minutes"`
	CronExpr            string     `json:"cron_expr"`
	Timezone            string     `json:"timezone"`
	MaxGlobal           *int       `json:"max_global"`
	MaxPerJob           *int       `json:"max_per_job"`
	LastRunAt           *time.Time `json:"last_run_at"`
	NextRunAt           *time.Time `json:"next_run_at"`
}

// HistoryItem is one slot of a schedule's history.
type HistoryItem struct {
	ID           int64      `json:"id"`
	RunID        int64      `json:"run_id"`
	Status       string     `json:"status"`
	ScheduledFor time.Time  `json:"scheduled_for"`
	FinishedAt   *time.Time `json:"finished_at"`
	ErrorSummary string     `json:"error_summary"`
}

// WorkerHost is a Docker engine tasks run against.
type WorkerHost struct {
	ID            int64           `json:"id"`
	Name          string          `json:"name"`
	Type          string          `json:"type"`
	BaseURL       string          `json:"base_url"`
	Enabled       bool            `json:"enabled"`
	Healthy       *bool           `json:"healthy"`
	LastCheckedAt *time.Time      `json:"last_checked_at"`
	LastError     string          `json:"last_error"`
	EngineVersion string          `json:"engine_version"`
	Capabilities  json.RawMessage `json:"capabilities"`
}

// HostHealth is the answer of a host health check.
type HostHealth struct {
	ID            int64      `json:"id"`
	Name          string     `json:"name"`
	Healthy       *bool      `json:"healthy"`
	LastCheckedAt *time.Time `json:"last_checked_at"`
	LastError     string     `json:"last_error"`
	EngineVersion string     `json:"engine_version"`
}

// Page is one page of a paginated collection.
type Page[T any] struct {
	Count   int64   `json:"count"`
	Next    *string `json:"next"`
	Results []T     `json:"results"`
}
