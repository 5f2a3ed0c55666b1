-- +goose Up
-- Task definitions get a kind: the built-in tasks run inside the scheduler,
-- container tasks run as a short-lived container on the job's worker host.
-- A container task's env is kept apart from default_config because it may
-- hold secrets: default_config is returned by the API and copied into every
-- job's config, container_env is read only by the replica that runs the job.
ALTER TABLE task_definitions
    ADD COLUMN kind          text NOT NULL DEFAULT 'builtin' CHECK (kind IN ('builtin', 'container')),
    ADD COLUMN container_env jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(container_env) = 'object');

-- +goose Down
ALTER TABLE task_definitions DROP COLUMN container_env, DROP COLUMN kind;
