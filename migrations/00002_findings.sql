-- +goose Up
-- log_triage's diagnosis: ranked findings as rows (for dashboards and
-- alerts), and per container the miner state and template baselines that
-- make "new" mean new and "spiking" mean above its own usual rate.
CREATE TABLE findings (
    id             bigserial PRIMARY KEY,
    run_id         bigint NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    job_id         bigint NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    worker_host_id bigint NOT NULL REFERENCES worker_hosts (id) ON DELETE CASCADE,
    container_name text NOT NULL,
    severity       text NOT NULL CHECK (severity IN ('critical', 'high', 'medium', 'low')),
    kind           text NOT NULL,
    rank           integer NOT NULL,
    statement      text NOT NULL,
    evidence       jsonb NOT NULL DEFAULT '{}',
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX findings_host_created ON findings (worker_host_id, created_at DESC);
CREATE INDEX findings_container_created ON findings (container_name, created_at DESC);
CREATE INDEX findings_run ON findings (run_id);

ALTER TABLE container_log_state
    ADD COLUMN miner_state jsonb NOT NULL DEFAULT '{}',
    ADD COLUMN baselines   jsonb NOT NULL DEFAULT '{}',
    ADD COLUMN image_id    text NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE container_log_state DROP COLUMN image_id, DROP COLUMN baselines, DROP COLUMN miner_state;
DROP TABLE findings;
