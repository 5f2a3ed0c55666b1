-- +goose Up
-- Idempotency-Key of launches and run-nows (docs/API.md): a request retried
-- with the same key within 24 hours answers the run the first one created
-- instead of creating another. Written in the transaction that creates the
-- run, so a key never names a run that was rolled back, nor a committed run
-- lacks its key.
CREATE TABLE idempotency_keys (
    scope       text NOT NULL CHECK (scope IN ('launch', 'run-now')),
    key         text NOT NULL CHECK (length(key) BETWEEN 1 AND 200),
    -- sha256 of the request the key was first used with: the same key with
    -- another request is refused (422), not answered with an unrelated run.
    fingerprint text NOT NULL,
    run_id      bigint NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (scope, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
CREATE INDEX idempotency_keys_run ON idempotency_keys (run_id);

-- +goose Down
DROP TABLE idempotency_keys;
