-- +goose NO TRANSACTION
-- +goose Up
-- After every pass each replica asks when the next lease on a due schedule
-- expires (NextWake). The due schedules are few, but with statistics taken
-- during a burst of launches the planner expected thousands and read the
-- whole schedules table instead (6 ms and 680 buffers a call on the bench
-- machine, for every replica after every pass, until autovacuum analysed
-- schedules again). Only a recurring schedule's slot claim sets a lease, so
-- this index is small and launches never touch it.
CREATE INDEX CONCURRENTLY IF NOT EXISTS schedules_lease_idx ON schedules (claimed_until)
    WHERE due_at IS NOT NULL AND claimed_until IS NOT NULL;

-- +goose Down
DROP INDEX CONCURRENTLY IF EXISTS schedules_lease_idx;
