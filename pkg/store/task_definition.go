package store

import (
	"context"
	"fmt"

	"gorm.io/gorm"

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

// UpdateTask writes every editable field of d. The key of a task that jobs
// or schedules refer to cannot change: the foreign keys would cascade the
// rename into finished jobs' history and leave pending work naming a task no
// worker implements, so such a rename is a conflict, like a delete.
func (s *Store) UpdateTask(ctx context.Context, d *TaskDefinition) error {
	err := s.db.WithContext(ctx).Transaction(func(db *gorm.DB) error {
		// FOR UPDATE conflicts with the KEY SHARE lock a job or schedule
		// insert takes on the row it references: once held, no new
		// reference can appear before this transaction ends, and the check
		// below sees every committed one.
		var cur []string
		if err := db.Raw(`SELECT key FROM task_definitions WHERE id = ? FOR UPDATE`, d.ID).Scan(&cur).Error; err != nil {
			return fmt.Errorf("lock task definition %d: %w", d.ID, err)
		}
		if len(cur) == 0 {
			return domain.NotFound("Task not found")
		}
		if old := cur[0]; old != d.Key {
			var used bool
			if err := db.Raw(`SELECT EXISTS (SELECT 1 FROM jobs WHERE task_type = ?)
				OR EXISTS (SELECT 1 FROM schedules WHERE task = ?)`, old, old).Scan(&used).Error; err != nil {
				return fmt.Errorf("check references to task %q: %w", old, err)
			}
			if used {
				return domain.Conflict("task %q is referenced by jobs or schedules (history is kept); its key "+
					"cannot be renamed: create a task with the new key instead", old)
			}
		}
		res := db.Raw(`UPDATE task_definitions SET key = ?, name = ?, description = ?, enabled = ?,
			default_config = ?::jsonb, max_concurrent = ?, timeout_seconds = ?, max_attempts = ?, needs_docker = ?,
			needs_gpu = ?, updated_at = now() WHERE id = ? RETURNING *`,
			d.Key, d.Name, d.Description, d.Enabled, string(d.DefaultConfig), d.MaxConcurrent, d.TimeoutSeconds,
			d.MaxAttempts, d.NeedsDocker, d.NeedsGPU, d.ID).Scan(d)
		if res.Error == nil && res.RowsAffected == 0 {
			return domain.NotFound("Task not found")
		}
		return res.Error
	})
	return taskErr(err, d.Key)
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
