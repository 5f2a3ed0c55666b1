package store

import (
	"context"
	"fmt"

	"github.com/cyberbrain/cyberbrain/pkg/domain"
)

// ListTasks returns one page of task definitions and the total count.
func (s *Store) ListTasks(ctx context.Context, p ListParams) (*PageRows[TaskDefinition], error) {
	return listRows[TaskDefinition](ctx, s.db.Model(&TaskDefinition{}), s.db.Model(&TaskDefinition{}), p, true, "task definitions")
}

// GetTask loads one task definition.
func (s *Store) GetTask(ctx context.Context, id int64) (*TaskDefinition, error) {
	return getRow[TaskDefinition](ctx, s.db, id, "task definition", "Task not found")
}

// CreateTask inserts a task definition.
func (s *Store) CreateTask(ctx context.Context, d *TaskDefinition) error {
	err := s.db.WithContext(ctx).Raw(`INSERT INTO task_definitions (key, name, description, enabled, default_config,
		max_concurrent, timeout_seconds, max_attempts, needs_docker, needs_gpu)
		VALUES (?, ?, ?, ?, ?::jsonb, ?, ?, ?, ?, ?) RETURNING *`,
		d.Key, d.Name, d.Description, d.Enabled, string(d.DefaultConfig), d.MaxConcurrent, d.TimeoutSeconds,
		d.MaxAttempts, d.NeedsDocker, d.NeedsGPU).Scan(d).Error
	return taskErr(err, d.Key)
}

// UpdateTask writes every editable field of d. Renaming the key follows
// into schedules and jobs (ON UPDATE CASCADE).
func (s *Store) UpdateTask(ctx context.Context, d *TaskDefinition) error {
	res := s.db.WithContext(ctx).Raw(`UPDATE task_definitions SET key = ?, name = ?, description = ?, enabled = ?,
		default_config = ?::jsonb, max_concurrent = ?, timeout_seconds = ?, max_attempts = ?, needs_docker = ?,
		needs_gpu = ?, updated_at = now() WHERE id = ? RETURNING *`,
		d.Key, d.Name, d.Description, d.Enabled, string(d.DefaultConfig), d.MaxConcurrent, d.TimeoutSeconds,
		d.MaxAttempts, d.NeedsDocker, d.NeedsGPU, d.ID).Scan(d)
	if res.Error == nil && res.RowsAffected == 0 {
		return domain.NotFound("Task not found")
	}
	return taskErr(res.Error, d.Key)
}

// DeleteTask deletes a task definition no job or schedule references.
func (s *Store) DeleteTask(ctx context.Context, id int64) error {
	return deleteRow(ctx, s.db, "task_definitions", id, "Task not found", func(err error) error { return taskErr(err, "") })
}

func taskErr(err error, key string) error {
	return clientDBError(err, "write task definition",
		fmt.Sprintf("a task with key %q already exists", key),
		"task is referenced by jobs or schedules (history is kept); disable it instead of deleting it")
}
