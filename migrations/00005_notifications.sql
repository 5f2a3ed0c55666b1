-- +goose Up
-- Notifications: channels (where messages go), rules (which events go to
-- which channel), and an outbox of deliveries written in the same
-- transaction as the event that causes them, so an event is never lost
-- between its commit and its message. Scheduler replicas claim outbox rows
-- as they claim jobs (SKIP LOCKED, a lease, writes fenced on claimant and
-- attempt) and record every attempt.
CREATE TABLE notification_channels (
    id         bigserial PRIMARY KEY,
    name       text NOT NULL UNIQUE CHECK (name <> ''),
    kind       text NOT NULL CHECK (kind IN ('webhook', 'slack', 'discord', 'ntfy', 'email')),
    enabled    boolean NOT NULL DEFAULT true,
    settings   jsonb NOT NULL DEFAULT '{}',
    -- Write-only: URLs with tokens, HMAC secrets, passwords. The API never
    -- returns them, only the names of the ones that are set.
    secrets    jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE notification_rules (
    id               bigserial PRIMARY KEY,
    name             text NOT NULL UNIQUE CHECK (name <> ''),
    enabled          boolean NOT NULL DEFAULT true,
    event            text NOT NULL CHECK (event IN ('run_failed', 'job_attempt_lost', 'host_unhealthy',
                         'host_recovered', 'gpu_hotspot', 'finding')),
    channel_id       bigint NOT NULL REFERENCES notification_channels (id) ON DELETE CASCADE,
    worker_host_id   bigint REFERENCES worker_hosts (id) ON DELETE CASCADE,
    task_type        text NOT NULL DEFAULT '',
    schedule_id      bigint REFERENCES schedules (id) ON DELETE CASCADE,
    min_severity     text NOT NULL DEFAULT 'high' CHECK (min_severity IN ('critical', 'high', 'medium', 'low')),
    cooldown_seconds integer NOT NULL DEFAULT 0 CHECK (cooldown_seconds >= 0),
    digest           text NOT NULL DEFAULT '' CHECK (digest IN ('', 'hourly', 'daily')),
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX notification_rules_event ON notification_rules (event) WHERE enabled;

-- One row per rule and subject while its cooldown runs: taking it is one
-- upsert, so concurrent events of one subject let exactly one message out.
CREATE TABLE notification_cooldowns (
    rule_id bigint NOT NULL REFERENCES notification_rules (id) ON DELETE CASCADE,
    subject text NOT NULL,
    until   timestamptz NOT NULL,
    PRIMARY KEY (rule_id, subject)
);

CREATE TABLE notification_outbox (
    id              bigserial PRIMARY KEY,
    channel_id      bigint NOT NULL REFERENCES notification_channels (id) ON DELETE CASCADE,
    rule_id         bigint REFERENCES notification_rules (id) ON DELETE SET NULL,
    event           text NOT NULL,
    -- What happened, unique per channel: one delivery per event and channel
    -- however many rules match it. Digests use one key per rule and window.
    event_key       text NOT NULL,
    subject         text NOT NULL DEFAULT '',
    idempotency_key text NOT NULL UNIQUE,
    payload         jsonb NOT NULL,
    status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sending', 'sent', 'failed')),
    attempt         integer NOT NULL DEFAULT 0 CHECK (attempt >= 0),
    max_attempts    integer NOT NULL DEFAULT 8 CHECK (max_attempts >= 1),
    available_at    timestamptz NOT NULL DEFAULT now(),
    claimed_by      text NOT NULL DEFAULT '',
    claimed_until   timestamptz,
    last_error      text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL DEFAULT now(),
    sent_at         timestamptz,
    UNIQUE (channel_id, event_key)
);
CREATE INDEX notification_outbox_due ON notification_outbox (available_at, id) WHERE status = 'pending';
CREATE INDEX notification_outbox_lease ON notification_outbox (claimed_until) WHERE status = 'sending';
CREATE INDEX notification_outbox_created ON notification_outbox (created_at DESC, id DESC);

CREATE TABLE notification_attempts (
    id          bigserial PRIMARY KEY,
    outbox_id   bigint NOT NULL REFERENCES notification_outbox (id) ON DELETE CASCADE,
    attempt     integer NOT NULL CHECK (attempt >= 1),
    claimant    text NOT NULL,
    started_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    ended_at    timestamptz,
    outcome     text NOT NULL DEFAULT 'sending' CHECK (outcome IN ('sending', 'sent', 'failed', 'lost')),
    status_code integer NOT NULL DEFAULT 0,
    error       text NOT NULL DEFAULT '',
    duration_ms bigint NOT NULL DEFAULT 0,
    UNIQUE (outbox_id, attempt)
);

-- +goose Down
DROP TABLE notification_attempts;
DROP TABLE notification_outbox;
DROP TABLE notification_cooldowns;
DROP TABLE notification_rules;
DROP TABLE notification_channels;
