package store

import (
	"encoding/json"
	"time"

	"github.com/cyberbrain/cyberbrain/pkg/domain"
)

// JSON is a raw jsonb column value.
type JSON = json.RawMessage

// Directive is a named set of instructions and task configuration.
type Directive struct {
	ID          int64     `gorm:"primaryKey" json:"id"`
	Name        string    `json:"name"`
	Description string    `json:"description"`
	TaskConfig  JSON      `gorm:"type:jsonb;default:'{}'" json:"task_config"`
	CreatedAt   time.Time `gorm:"default:now()" json:"created_at"`
	UpdatedAt   time.Time `gorm:"default:now()" json:"updated_at"`
}

// TaskDefinition describes one kind of diagnostic task.
type TaskDefinition struct {
	ID             int64  `gorm:"primaryKey" json:"id"`
	Key            string `json:"key"`
	Name           string `json:"name"`
	Description    string `json:"description"`
	Enabled        bool   `json:"enabled"`
	DefaultConfig  JSON   `gorm:"type:jsonb;default:'{}'" json:"default_config"`
	MaxConcurrent  *int   `json:"max_concurrent"`
	TimeoutSeconds int    `json:"timeout_seconds"`
	MaxAttempts    int    `json:"max_attempts"`
	NeedsDocker    bool   `json:"needs_docker"`
	NeedsGPU       bool   `gorm:"column:needs_gpu" json:"needs_gpu"`
	// Kind is builtin (Go code in the scheduler) or container.
	Kind domain.TaskKind `gorm:"default:builtin" json:"kind"`
	// ContainerEnv is a container task's env, kept out of DefaultConfig and
	// out of every answer because it may hold secrets (write-only).
	ContainerEnv JSON      `gorm:"type:jsonb;default:'{}'" json:"-"`
	CreatedAt    time.Time `gorm:"default:now()" json:"created_at"`
	UpdatedAt    time.Time `gorm:"default:now()" json:"updated_at"`
}

// Run is one execution of a directive: a set of jobs.
type Run struct {
	ID                int64            `gorm:"primaryKey" json:"id"`
	DirectiveID       *int64           `json:"directive_id"`
	Status            domain.RunStatus `gorm:"default:pending" json:"status"`
	DirectiveSnapshot JSON             `gorm:"type:jsonb;default:'{}'" json:"directive_snapshot"`
	WorkerHostID      *int64           `json:"worker_host_id"`
	CreatedAt         time.Time        `gorm:"default:now()" json:"created_at"`
	StartedAt         *time.Time       `json:"started_at"`
	CompletedAt       *time.Time       `json:"completed_at"`
	ErrorMessage      string           `json:"error_message"`
	ReportMarkdown    string           `json:"report_markdown"`
	ReportJSON        JSON             `gorm:"type:jsonb" json:"report_json"`
}

// Job is one task of a run.
type Job struct {
	ID              int64            `gorm:"primaryKey" json:"id"`
	RunID           int64            `json:"run_id"`
	ScheduleID      *int64           `json:"schedule_id"`
	TaskType        string           `json:"task_type"`
	Position        int              `json:"position"`
	Status          domain.JobStatus `gorm:"default:pending" json:"status"`
	Config          JSON             `gorm:"type:jsonb;default:'{}'" json:"config"`
	WorkerHostID    *int64           `json:"worker_host_id"`
	Attempt         int              `json:"attempt"`
	MaxAttempts     int              `json:"max_attempts"`
	TimeoutSeconds  int              `json:"timeout_seconds"`
	AvailableAt     *time.Time       `json:"available_at"`
	ClaimedBy       string           `json:"claimed_by"`
	ClaimedUntil    *time.Time       `json:"claimed_until"`
	CancelRequested bool             `json:"cancel_requested"`
	CreatedAt       time.Time        `gorm:"default:now()" json:"created_at"`
	StartedAt       *time.Time       `json:"started_at"`
	CompletedAt     *time.Time       `json:"completed_at"`
	Result          JSON             `gorm:"type:jsonb" json:"result"`
	ErrorMessage    string           `json:"error_message"`
}

// JobAttempt is one execution attempt of a job.
type JobAttempt struct {
	ID        int64                 `gorm:"primaryKey" json:"id"`
	JobID     int64                 `json:"job_id"`
	Attempt   int                   `json:"attempt"`
	Claimant  string                `json:"claimant"`
	StartedAt time.Time             `json:"started_at"`
	EndedAt   *time.Time            `json:"ended_at"`
	Outcome   domain.AttemptOutcome `json:"outcome"`
	Error     string                `json:"error"`
}

// Schedule fires a task once, on an interval or on a cron expression.
type Schedule struct {
	ID                  int64               `gorm:"primaryKey" json:"id"`
	Name                string              `json:"name"`
	Task                string              `json:"task_key"`
	DirectiveID         *int64              `json:"directive_id"`
	CustomDirectiveText string              `json:"custom_directive_text"`
	TargetHostID        *int64              `json:"target_host_id"`
	Enabled             bool                `json:"enabled"`
	ScheduleType        domain.ScheduleType `json:"schedule_type"`
	IntervalMinutes     *int                `json:"interval_minutes"`
	CronExpr            string              `json:"cron_expr"`
	Timezone            string              `json:"timezone"`
	MaxGlobal           *int                `json:"max_global"`
	MaxPerJob           *int                `json:"max_per_job"`
	LastRunAt           *time.Time          `json:"last_run_at"`
	NextRunAt           *time.Time          `json:"next_run_at"`
	DueAt               *time.Time          `json:"-"`
	ClaimedBy           string              `json:"claimed_by"`
	ClaimedUntil        *time.Time          `json:"claimed_until"`
	CreatedAt           time.Time           `gorm:"default:now()" json:"created_at"`
	UpdatedAt           time.Time           `gorm:"default:now()" json:"updated_at"`
}

// ScheduledRun links a schedule slot to the run that executes it.
type ScheduledRun struct {
	ID           int64                     `gorm:"primaryKey" json:"id"`
	ScheduleID   int64                     `json:"schedule_id"`
	RunID        int64                     `json:"run_id"`
	JobID        *int64                    `json:"job_id"`
	ScheduledFor time.Time                 `json:"scheduled_for"`
	Status       domain.ScheduledRunStatus `gorm:"default:pending" json:"status"`
	CreatedAt    time.Time                 `gorm:"default:now()" json:"created_at"`
	StartedAt    *time.Time                `json:"started_at"`
	FinishedAt   *time.Time                `json:"finished_at"`
	ErrorSummary string                    `json:"error_summary"`
}

// WorkerHost is a Docker engine cyberbrain runs tasks against. TLS material is
// never serialised.
type WorkerHost struct {
	ID            int64           `gorm:"primaryKey" json:"id"`
	Name          string          `json:"name"`
	Type          domain.HostType `json:"type"`
	BaseURL       string          `json:"base_url"`
	TLSCA         string          `gorm:"column:tls_ca" json:"-"`
	TLSCert       string          `gorm:"column:tls_cert" json:"-"`
	TLSKey        string          `gorm:"column:tls_key" json:"-"`
	TLSVerify     bool            `gorm:"column:tls_verify" json:"tls_verify"`
	Capabilities  JSON            `gorm:"type:jsonb;default:'{}'" json:"capabilities"`
	Enabled       bool            `json:"enabled"`
	Healthy       *bool           `json:"healthy"`
	LastSeenAt    *time.Time      `json:"last_seen_at"`
	LastCheckedAt *time.Time      `json:"last_checked_at"`
	LastError     string          `json:"last_error"`
	EngineVersion string          `json:"engine_version"`
	CreatedAt     time.Time       `gorm:"default:now()" json:"created_at"`
	UpdatedAt     time.Time       `gorm:"default:now()" json:"updated_at"`
}

// HostCapabilities is the decoded capabilities document of a worker host.
type HostCapabilities struct {
	// GPUs is the number of GPUs; nil means unknown (not yet detected).
	GPUs           *int     `json:"gpus,omitempty"`
	MaxConcurrency *int     `json:"max_concurrency,omitempty"`
	Labels         []string `json:"labels,omitempty"`
	GPUImage       string   `json:"gpu_image,omitempty"`
}

// ContainerAllowlistEntry permits tasks to read one container's logs.
type ContainerAllowlistEntry struct {
	ID            int64     `gorm:"primaryKey" json:"id"`
	WorkerHostID  *int64    `json:"worker_host_id"`
	ContainerName string    `json:"container_name"`
	ContainerID   string    `json:"container_id"`
	Description   string    `json:"description"`
	Enabled       bool      `json:"enabled"`
	Tags          JSON      `gorm:"type:jsonb;default:'[]'" json:"tags"`
	CreatedAt     time.Time `gorm:"default:now()" json:"created_at"`
	UpdatedAt     time.Time `gorm:"default:now()" json:"updated_at"`
}

// TableName keeps the table name of docs/DESIGN.md §2.
func (ContainerAllowlistEntry) TableName() string { return "container_allowlist" }

// Artifact is a file a task produced, stored in Postgres.
type Artifact struct {
	ID          int64     `gorm:"primaryKey" json:"id"`
	RunID       int64     `json:"run_id"`
	JobID       *int64    `json:"job_id"`
	Name        string    `json:"name"`
	ContentType string    `json:"content_type"`
	Size        int64     `json:"size"`
	Content     []byte    `gorm:"type:bytea" json:"-"`
	CreatedAt   time.Time `gorm:"default:now()" json:"created_at"`
}

// LLMCall records token counts of one LLM request; never its text.
type LLMCall struct {
	ID               int64     `gorm:"primaryKey" json:"id"`
	JobID            *int64    `json:"job_id"`
	Endpoint         string    `json:"endpoint"`
	Model            string    `json:"model"`
	PromptTokens     int       `json:"prompt_tokens"`
	CompletionTokens int       `json:"completion_tokens"`
	TotalTokens      int       `json:"total_tokens"`
	DurationMS       int       `gorm:"column:duration_ms" json:"duration_ms"`
	CreatedAt        time.Time `gorm:"default:now()" json:"created_at"`
}

// ContainerLogState remembers where log_triage last stopped for a container.
type ContainerLogState struct {
	WorkerHostID   int64  `gorm:"primaryKey"`
	ContainerName  string `gorm:"primaryKey"`
	LastSuccessAt  time.Time
	KnownTemplates JSON `gorm:"type:jsonb"`
	// MinerState is the container's template miner (logtriage.MinerState).
	MinerState JSON `gorm:"type:jsonb"`
	// Baselines are the templates' usual rates, keyed by template key.
	Baselines JSON `gorm:"type:jsonb"`
	// ImageID is the image the container ran at its last triage.
	ImageID string
}

// TableName keeps the table name singular as in the migration.
func (ContainerLogState) TableName() string { return "container_log_state" }
