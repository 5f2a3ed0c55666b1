package web_test

import (
	"context"
	"testing"

	"github.com/cyberbrain/cyberbrain/pkg/domain"
	"github.com/cyberbrain/cyberbrain/pkg/store"
	"github.com/cyberbrain/cyberbrain/pkg/testenv"
)

// countSchedules counts every schedule in the database.
func countSchedules(t *testing.T, e *env) int64 {
	t.Helper()
	var n int64
	if err := testenv.SQL(t, e.st).Raw(`SELECT count(*) FROM schedules`).Scan(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

// enableNoop enables the noop task (seeded disabled), so its schedules can
// run.
func enableNoop(t *testing.T, e *env) {
	t.Helper()
	if err := testenv.SQL(t, e.st).Exec(`UPDATE task_definitions SET enabled = true WHERE key = 'noop'`).Error; err != nil {
		t.Fatal(err)
	}
}

// newCronSchedule stores a cron schedule of the noop task.
func newCronSchedule(t *testing.T, e *env, name, expr, tz string, enabled bool) *store.Schedule {
	t.Helper()
	sc, err := e.st.CreateSchedule(context.Background(), &store.ScheduleWrite{Schedule: store.Schedule{
		Name: name, Task: "noop", ScheduleType: domain.ScheduleCron, CronExpr: expr, Timezone: tz, Enabled: enabled}})
	if err != nil {
		t.Fatalf("create schedule %q: %v", name, err)
	}
	return sc
}
