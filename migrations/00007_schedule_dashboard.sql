-- +goose Up
-- The dashboard lists the schedules people made (cron, interval, one-shot),
-- newest first or by name, without the one-shot schedule every launch
-- creates per job (launch-run-…), which outnumber them by far. Both partial
-- indexes hold only those schedules, so the page and its count read a few
-- rows however many launches there were. The predicate is the one the
-- store's query repeats (schedule_dashboard.go).
CREATE INDEX schedules_user_id_idx ON schedules (id)
    WHERE NOT (schedule_type = 'one_shot' AND starts_with(name, 'launch-run-'));
CREATE INDEX schedules_user_name_idx ON schedules (name, id)
    WHERE NOT (schedule_type = 'one_shot' AND starts_with(name, 'launch-run-'));

-- +goose Down
DROP INDEX schedules_user_name_idx;
DROP INDEX schedules_user_id_idx;
