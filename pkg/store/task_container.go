package store

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/cyberbrain/cyberbrain/pkg/domain"
)

// ContainerTask is what a replica reads to run a container task's job: the
// definition's spec and its write-only env.
type ContainerTask struct {
	Key           string
	DefaultConfig json.RawMessage
	Env           json.RawMessage
}

// TaskKind returns the kind of the task definition with this key.
func (s *Store) TaskKind(ctx context.Context, key string) (domain.TaskKind, error) {
	var kinds []domain.TaskKind
	if err := s.db.WithContext(ctx).Raw(`SELECT kind FROM task_definitions WHERE key = ?`, key).Scan(&kinds).Error; err != nil {
		return "", fmt.Errorf("kind of task %q: %w", key, err)
	}
	if len(kinds) == 0 {
		return "", domain.NotFound("Task not found")
	}
	return kinds[0], nil
}

// ContainerTaskSpec loads the spec and env of a container task definition.
func (s *Store) ContainerTaskSpec(ctx context.Context, key string) (*ContainerTask, error) {
	var rows []struct {
		DefaultConfig string
		ContainerEnv  string
	}
	err := s.db.WithContext(ctx).Raw(`SELECT default_config::text AS default_config, container_env::text AS container_env
		FROM task_definitions WHERE key = ? AND kind = 'container'`, key).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("container task %q: %w", key, err)
	}
	if len(rows) == 0 {
		return nil, domain.NotFound("container task %q not found", key)
	}
	return &ContainerTask{Key: key, DefaultConfig: json.RawMessage(rows[0].DefaultConfig),
		Env: json.RawMessage(rows[0].ContainerEnv)}, nil
}
