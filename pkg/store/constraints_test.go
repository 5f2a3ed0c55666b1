package store_test

import (
	"context"
	"strings"
	"testing"

	"github.com/cyberbrain/cyberbrain/pkg/store"
	"github.com/cyberbrain/cyberbrain/pkg/testenv"
)

func TestDatabaseRejectsBadRows(t *testing.T) {
	t.Parallel()
	st := testenv.NewStore(t)
	db := testenv.SQL(t, st)
	mustExec := func(q string, args ...any) {
		t.Helper()
		if err := db.Exec(q, args...).Error; err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	mustExec(`INSERT INTO directives (id, name) VALUES (1, 'd1')`)
	if err := db.Create(&store.Run{ID: 1, DirectiveID: &[]int64{1}[0]}).Error; err != nil {
		t.Fatal(err)
	}
	mustExec(`INSERT INTO schedules (id, name, task, schedule_type) VALUES (1, 's1', 'noop', 'one_shot')`)
	mustExec(`INSERT INTO scheduled_runs (schedule_id, run_id, scheduled_for) VALUES (1, 1, '2026-01-01T00:00:00Z')`)

	cases := []struct {
		name, sql, want string
	}{
		{"bad run status", `UPDATE runs SET status = 'stuck'`, "check"},
		{"bad job status", `INSERT INTO jobs (run_id, task_type, status) VALUES (1, 'noop', 'done')`, "check"},
		{"bad scheduled run status", `UPDATE scheduled_runs SET status = 'ok'`, "check"},
		{"bad attempt outcome", `INSERT INTO jobs (id, run_id, task_type) VALUES (50, 1, 'noop');
			INSERT INTO job_attempts (job_id, attempt, claimant, outcome) VALUES (50, 1, 'x', 'vanished')`, "check"},
		{"bad schedule type", `INSERT INTO schedules (name, task, schedule_type) VALUES ('s2', 'noop', 'weekly')`, "check"},
		{"interval without minutes", `INSERT INTO schedules (name, task, schedule_type) VALUES ('s3', 'noop', 'interval')`, "check"},
		{"bad host type", `INSERT INTO worker_hosts (name, type) VALUES ('h', 'kubernetes')`, "check"},
		{"duplicate schedule name", `INSERT INTO schedules (name, task, schedule_type) VALUES ('s1', 'noop', 'one_shot')`, "duplicate"},
		{"duplicate directive name", `INSERT INTO directives (name) VALUES ('d1')`, "duplicate"},
		{"duplicate task key", `INSERT INTO task_definitions (key) VALUES ('noop')`, "duplicate"},
		{"duplicate scheduled slot", `INSERT INTO scheduled_runs (schedule_id, run_id, scheduled_for) VALUES (1, 1, '2026-01-01T00:00:00Z')`, "duplicate"},
		{"delete directive with runs", `DELETE FROM directives WHERE id = 1`, "foreign key"},
		{"delete schedule with history", `DELETE FROM schedules WHERE id = 1`, "foreign key"},
		{"delete task with schedules", `DELETE FROM task_definitions WHERE key = 'noop'`, "foreign key"},
		{"unknown task on a job", `INSERT INTO jobs (run_id, task_type) VALUES (1, 'mine_bitcoin')`, "foreign key"},
	}
	for _, tc := range cases {
		tc := tc
		t.Run(tc.name, func(t *testing.T) {
			tx := db.WithContext(context.Background()).Begin()
			defer tx.Rollback()
			err := tx.Exec(tc.sql).Error
			if err == nil {
				t.Fatalf("database accepted: %s", tc.sql)
			}
			if !strings.Contains(strings.ToLower(err.Error()), tc.want) {
				t.Fatalf("error %q does not mention %q", err, tc.want)
			}
		})
	}
	var runs int
	db.Raw("SELECT count(*) FROM runs").Scan(&runs)
	if runs != 1 {
		t.Fatalf("runs = %d after refused delete, want 1", runs)
	}
}
