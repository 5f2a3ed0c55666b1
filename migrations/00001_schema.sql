-- +goose Up
-- The whole cyberbrain data model. History is never deleted by a cascade from
-- a definition (directive, schedule, task, host): those references RESTRICT and
-- the API answers 409. Parts of a run (jobs, attempts, artifacts, llm calls,
-- scheduled-run links) go with the run when retention prunes it.

CREATE TABLE directives (
    id          bigserial PRIMARY KEY,
    name        text NOT NULL UNIQUE CHECK (name <> '' AND length(name) <= 200),
    description text NOT NULL DEFAULT '',
    task_config jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(task_config) = 'object'),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE task_definitions (
    id              bigserial PRIMARY KEY,
    key             text NOT NULL UNIQUE CHECK (key ~ '^[a-z][a-z0-9_]{0,63}$'),
    name            text NOT NULL DEFAULT '',
    description     text NOT NULL DEFAULT '',
    enabled         boolean NOT NULL DEFAULT true,
    default_config  jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(default_config) = 'object'),
    max_concurrent  integer CHECK (max_concurrent IS NULL OR max_concurrent > 0),
    timeout_seconds integer NOT NULL DEFAULT 300 CHECK (timeout_seconds > 0),
    max_attempts    integer NOT NULL DEFAULT 3 CHECK (max_attempts BETWEEN 1 AND 100),
    needs_docker    boolean NOT NULL DEFAULT true,
    needs_gpu       boolean NOT NULL DEFAULT false,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE worker_hosts (
    id             bigserial PRIMARY KEY,
    name           text NOT NULL UNIQUE CHECK (name <> '' AND length(name) <= 200),
    type           text NOT NULL DEFAULT 'docker_socket'
                   CHECK (type IN ('docker_socket', 'docker_tcp', 'docker_ssh')),
    -- Empty base_url means "the engine local to the scheduler" (DOCKER_HOST or the default socket).
    base_url       text NOT NULL DEFAULT '',
    tls_ca         text NOT NULL DEFAULT '',
    tls_cert       text NOT NULL DEFAULT '',
    tls_key        text NOT NULL DEFAULT '',
    tls_verify     boolean NOT NULL DEFAULT true,
    capabilities   jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(capabilities) = 'object'),
    enabled        boolean NOT NULL DEFAULT true,
    -- NULL until the first health check reached (or failed to reach) the engine.
    healthy        boolean,
    last_seen_at   timestamptz,
    last_checked_at timestamptz,
    last_error     text NOT NULL DEFAULT '',
    engine_version text NOT NULL DEFAULT '',
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE runs (
    id                 bigserial PRIMARY KEY,
    directive_id       bigint REFERENCES directives (id) ON DELETE RESTRICT,
    status             text NOT NULL DEFAULT 'pending'
                       CHECK (status IN ('pending', 'running', 'completed', 'failed', 'cancelled')),
    directive_snapshot jsonb NOT NULL DEFAULT '{}',
    worker_host_id     bigint REFERENCES worker_hosts (id) ON DELETE RESTRICT,
    created_at         timestamptz NOT NULL DEFAULT now(),
    started_at         timestamptz,
    completed_at       timestamptz,
    error_message      text NOT NULL DEFAULT '',
    report_markdown    text NOT NULL DEFAULT '',
    report_json        jsonb
);
-- No plain index on runs.status or jobs.status: the pending share of a queue
-- swings between nothing and everything faster than statistics follow, and
-- the planner would then scan every pending row to find a few by id.
CREATE INDEX runs_directive_idx ON runs (directive_id, id);
-- Retention finds finished runs by completed_at (NULL until a run ends); no
-- index involves status, so a run's start is a HOT update.
CREATE INDEX runs_completed_idx ON runs (completed_at);

CREATE TABLE schedules (
    id                    bigserial PRIMARY KEY,
    name                  text NOT NULL UNIQUE CHECK (name <> '' AND length(name) <= 200),
    task                  text NOT NULL REFERENCES task_definitions (key) ON UPDATE CASCADE ON DELETE RESTRICT,
    directive_id          bigint REFERENCES directives (id) ON DELETE RESTRICT,
    custom_directive_text text NOT NULL DEFAULT '',
    target_host_id        bigint REFERENCES worker_hosts (id) ON DELETE RESTRICT,
    enabled               boolean NOT NULL DEFAULT true,
    schedule_type         text NOT NULL CHECK (schedule_type IN ('one_shot', 'interval', 'cron')),
    interval_minutes      integer CHECK (interval_minutes IS NULL OR interval_minutes > 0),
    cron_expr             text NOT NULL DEFAULT '',
    timezone              text NOT NULL DEFAULT 'UTC',
    max_global            integer CHECK (max_global IS NULL OR max_global > 0),
    max_per_job           integer CHECK (max_per_job IS NULL OR max_per_job > 0),
    last_run_at           timestamptz,
    next_run_at           timestamptz,
    -- When the scheduler must look at this schedule: the earliest of next_run_at
    -- (while enabled) and a pending ScheduledRun (launch, run-now). NULL = nothing due.
    due_at                timestamptz,
    claimed_by            text NOT NULL DEFAULT '',
    claimed_until         timestamptz,
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now(),
    CHECK (schedule_type <> 'interval' OR interval_minutes IS NOT NULL),
    CHECK (schedule_type <> 'cron' OR cron_expr <> '')
);
-- The due-schedule claim scans only this index, however many finished
-- (disabled, due_at NULL) launch schedules pile up.
CREATE INDEX schedules_due_idx ON schedules (due_at, id) WHERE due_at IS NOT NULL;
CREATE INDEX schedules_task_idx ON schedules (task);
-- The scheduler reads which schedules carry concurrency limits on every pass.
CREATE INDEX schedules_max_per_job_idx ON schedules (task) WHERE max_per_job IS NOT NULL;
CREATE INDEX schedules_max_global_idx ON schedules (id) WHERE max_global IS NOT NULL;

CREATE TABLE jobs (
    id              bigserial PRIMARY KEY,
    run_id          bigint NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    schedule_id     bigint REFERENCES schedules (id) ON DELETE SET NULL,
    task_type       text NOT NULL REFERENCES task_definitions (key) ON UPDATE CASCADE ON DELETE RESTRICT,
    position        integer NOT NULL DEFAULT 0,
    status          text NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'running', 'completed', 'failed', 'cancelled')),
    config          jsonb NOT NULL DEFAULT '{}',
    worker_host_id  bigint REFERENCES worker_hosts (id) ON DELETE RESTRICT,
    attempt         integer NOT NULL DEFAULT 0 CHECK (attempt >= 0),
    max_attempts    integer NOT NULL DEFAULT 3 CHECK (max_attempts >= 1),
    timeout_seconds integer NOT NULL DEFAULT 300 CHECK (timeout_seconds > 0),
    -- NULL until the scheduler hands the job to execution; later the earliest
    -- time it may (re)start (retry backoff).
    available_at    timestamptz,
    claimed_by      text NOT NULL DEFAULT '',
    claimed_until   timestamptz,
    cancel_requested boolean NOT NULL DEFAULT false,
    created_at      timestamptz NOT NULL DEFAULT now(),
    started_at      timestamptz,
    completed_at    timestamptz,
    result          jsonb,
    error_message   text NOT NULL DEFAULT ''
);
CREATE INDEX jobs_run_idx ON jobs (run_id, position);
CREATE INDEX jobs_ready_idx ON jobs (available_at, id) WHERE status = 'pending' AND available_at IS NOT NULL;
-- Running jobs are few (bounded by the replicas' concurrency): counting them
-- per task or host reads this index; more indexes would tax every start and
-- finish, which move a job between these partial indexes.
CREATE INDEX jobs_lease_idx ON jobs (claimed_until) WHERE status = 'running';
CREATE INDEX jobs_schedule_idx ON jobs (schedule_id) WHERE schedule_id IS NOT NULL;

CREATE TABLE job_attempts (
    id         bigserial PRIMARY KEY,
    job_id     bigint NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    attempt    integer NOT NULL CHECK (attempt >= 1),
    claimant   text NOT NULL,
    started_at timestamptz NOT NULL DEFAULT now(),
    ended_at   timestamptz,
    outcome    text NOT NULL DEFAULT 'running'
               CHECK (outcome IN ('running', 'completed', 'failed', 'lost', 'cancelled')),
    error      text NOT NULL DEFAULT '',
    UNIQUE (job_id, attempt)
);

CREATE TABLE scheduled_runs (
    id            bigserial PRIMARY KEY,
    schedule_id   bigint NOT NULL REFERENCES schedules (id) ON DELETE RESTRICT,
    run_id        bigint NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    job_id        bigint REFERENCES jobs (id) ON DELETE CASCADE,
    scheduled_for timestamptz NOT NULL,
    status        text NOT NULL DEFAULT 'pending'
                  CHECK (status IN ('pending', 'started', 'finished', 'failed', 'cancelled')),
    created_at    timestamptz NOT NULL DEFAULT now(),
    started_at    timestamptz,
    finished_at   timestamptz,
    error_summary text NOT NULL DEFAULT '',
    UNIQUE (schedule_id, scheduled_for)
);
CREATE INDEX scheduled_runs_run_idx ON scheduled_runs (run_id);
CREATE INDEX scheduled_runs_job_idx ON scheduled_runs (job_id);

CREATE TABLE container_allowlist (
    id             bigserial PRIMARY KEY,
    worker_host_id bigint REFERENCES worker_hosts (id) ON DELETE RESTRICT,
    container_name text NOT NULL DEFAULT '',
    container_id   text NOT NULL DEFAULT '' CHECK (container_id ~ '^[0-9a-f]{0,64}$'),
    description    text NOT NULL DEFAULT '',
    enabled        boolean NOT NULL DEFAULT true,
    tags           jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(tags) = 'array'),
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    CHECK (container_name <> '' OR container_id <> '')
);

CREATE TABLE artifacts (
    id           bigserial PRIMARY KEY,
    run_id       bigint NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    job_id       bigint REFERENCES jobs (id) ON DELETE CASCADE,
    name         text NOT NULL,
    content_type text NOT NULL DEFAULT 'application/octet-stream',
    size         bigint NOT NULL DEFAULT 0,
    content      bytea NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX artifacts_run_idx ON artifacts (run_id, id);

CREATE TABLE llm_calls (
    id                bigserial PRIMARY KEY,
    job_id            bigint REFERENCES jobs (id) ON DELETE CASCADE,
    endpoint          text NOT NULL DEFAULT '',
    model             text NOT NULL DEFAULT '',
    prompt_tokens     integer NOT NULL DEFAULT 0,
    completion_tokens integer NOT NULL DEFAULT 0,
    total_tokens      integer NOT NULL DEFAULT 0,
    duration_ms       integer NOT NULL DEFAULT 0,
    created_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX llm_calls_job_idx ON llm_calls (job_id);

-- Where the last successful log_triage of a container stopped reading, and
-- which templates it already knew (to report new ones).
CREATE TABLE container_log_state (
    worker_host_id  bigint NOT NULL REFERENCES worker_hosts (id) ON DELETE CASCADE,
    container_name  text NOT NULL,
    last_success_at timestamptz NOT NULL,
    known_templates jsonb NOT NULL DEFAULT '[]',
    PRIMARY KEY (worker_host_id, container_name)
);

-- Queue tables churn: keep their statistics and visibility maps fresh, and
-- leave room in each page for HOT updates (a status change that touches no
-- indexed column writes no index entry).
ALTER TABLE runs SET (fillfactor = 80);
ALTER TABLE jobs SET (fillfactor = 80);
ALTER TABLE schedules SET (fillfactor = 80);
ALTER TABLE scheduled_runs SET (fillfactor = 80);
ALTER TABLE jobs SET (autovacuum_analyze_scale_factor = 0.02, autovacuum_vacuum_scale_factor = 0.05);
ALTER TABLE schedules SET (autovacuum_analyze_scale_factor = 0.02, autovacuum_vacuum_scale_factor = 0.05);
ALTER TABLE scheduled_runs SET (autovacuum_analyze_scale_factor = 0.02, autovacuum_vacuum_scale_factor = 0.05);
ALTER TABLE runs SET (autovacuum_analyze_scale_factor = 0.02, autovacuum_vacuum_scale_factor = 0.05);

INSERT INTO task_definitions (key, name, description, enabled, timeout_seconds, max_attempts, needs_docker, needs_gpu) VALUES
    ('log_triage', 'Log triage', 'Reads the logs of allow-listed containers and groups what is going wrong.', true, 300, 3, true, false),
    ('gpu_report', 'GPU report', 'GPU utilisation, memory, temperature and which containers hold which GPUs.', true, 300, 3, true, true),
    ('service_map', 'Service map', 'Containers, networks and published ports as a service graph.', true, 300, 3, true, false),
    ('noop', 'No-op', 'Touches nothing; checks and benchmarks the pipeline (config: sleep_ms).', false, 60, 3, false, false);

INSERT INTO worker_hosts (name, type, base_url, capabilities)
VALUES ('local', 'docker_socket', '', '{"labels": ["local"]}');

-- +goose Down
DROP TABLE container_log_state;
DROP TABLE llm_calls;
DROP TABLE artifacts;
DROP TABLE container_allowlist;
DROP TABLE scheduled_runs;
DROP TABLE job_attempts;
DROP TABLE jobs;
DROP TABLE schedules;
DROP TABLE runs;
DROP TABLE worker_hosts;
DROP TABLE task_definitions;
DROP TABLE directives;
