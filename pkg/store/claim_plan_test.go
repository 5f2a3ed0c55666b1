package store_test

import (
	"context"
	"strings"
	"testing"

	"github.com/cyberbrain/cyberbrain/pkg/store"
	"github.com/cyberbrain/cyberbrain/pkg/testenv"
)

// The due-schedule claim must stay an index scan on the partial index however
// many finished (disabled, due_at NULL) launch schedules pile up.
func TestClaimQueryUsesPartialIndexWithManyFinishedSchedules(t *testing.T) {
	t.Parallel()
	st := testenv.NewStore(t)
	ctx := context.Background()
	err := testenv.SQL(t, st).Exec(`INSERT INTO schedules (name, task, enabled, schedule_type, next_run_at, due_at)
		SELECT 'launch-run-' || g || '-noop', 'noop', false, 'one_shot', NULL, NULL FROM generate_series(1, 100000) g`).Error
	if err != nil {
		t.Fatal(err)
	}
	err = testenv.SQL(t, st).Exec(`INSERT INTO schedules (name, task, schedule_type, next_run_at, due_at)
		SELECT 'due-' || g, 'noop', 'one_shot', now(), now() FROM generate_series(1, 20) g`).Error
	if err != nil {
		t.Fatal(err)
	}
	if err := testenv.SQL(t, st).Exec("ANALYZE schedules").Error; err != nil {
		t.Fatal(err)
	}
	tx := testenv.SQL(t, st).WithContext(ctx).Begin()
	defer tx.Rollback()
	var lines []string
	if err := tx.Raw("EXPLAIN (ANALYZE, BUFFERS) "+store.SQLClaimDue(10), "{}", "{}", "{}", 10, "me", 60.0, "me", 60.0).Scan(&lines).Error; err != nil {
		t.Fatal(err)
	}
	plan := strings.Join(lines, "\n")
	if !strings.Contains(plan, "schedules_due_idx") {
		t.Fatalf("claim does not use schedules_due_idx:\n%s", plan)
	}
	if strings.Contains(plan, "Seq Scan on schedules") {
		t.Fatalf("claim scans the whole schedules table:\n%s", plan)
	}
	t.Logf("claim plan:\n%s", plan)
}
