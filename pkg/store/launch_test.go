package store_test

import (
	"context"
	"errors"
	"testing"

	"github.com/cyberbrain/cyberbrain/pkg/domain"
	"github.com/cyberbrain/cyberbrain/pkg/store"
	"github.com/cyberbrain/cyberbrain/pkg/testenv"
)

func TestLaunchCreatesRunJobsSchedulesAndScheduledRuns(t *testing.T) {
	t.Parallel()
	st := testenv.NewStore(t)
	ctx := context.Background()
	d, err := st.Launch(ctx, store.LaunchRequest{Tasks: []string{"service_map", "log_triage", "service_map"}})
	if err != nil {
		t.Fatal(err)
	}
	if d.Status != domain.StatusPending || len(d.Jobs) != 2 || d.Jobs[0].TaskType != "service_map" || d.Jobs[1].TaskType != "log_triage" {
		t.Fatalf("unexpected run detail: %+v", d)
	}
	if d.WorkerHostID == nil || d.CreatedAt.Location().String() != "UTC" {
		t.Fatalf("run not routed to a host or time not UTC: %+v", d.Run)
	}
	var names []string
	st.DB.Raw(`SELECT name FROM schedules WHERE enabled AND due_at <= now() AND schedule_type = 'one_shot' ORDER BY id`).Scan(&names)
	if len(names) != 2 || names[0] != "launch-run-"+fmtInt(d.ID)+"-service_map" {
		t.Fatalf("schedules = %v", names)
	}
	var pending int
	st.DB.Raw(`SELECT count(*) FROM scheduled_runs WHERE run_id = ? AND status = 'pending' AND job_id IS NOT NULL`, d.ID).Scan(&pending)
	if pending != 2 {
		t.Fatalf("pending scheduled runs = %d, want 2", pending)
	}
	var def int
	st.DB.Raw(`SELECT count(*) FROM directives WHERE name = 'default'`).Scan(&def)
	if def != 1 {
		t.Fatal("default directive not created")
	}
}

func TestLaunchRejectsBadInputAndWritesNothing(t *testing.T) {
	t.Parallel()
	st := testenv.NewStore(t)
	ctx := context.Background()
	missing := int64(999)
	cases := []struct {
		name string
		req  store.LaunchRequest
		kind error
	}{
		{"unknown directive", store.LaunchRequest{DirectiveID: &missing}, domain.ErrNotFound},
		{"unknown task", store.LaunchRequest{Tasks: []string{"log_triage", "nope"}}, domain.ErrInvalid},
		{"disabled task", store.LaunchRequest{Tasks: []string{"noop"}}, domain.ErrInvalid},
		{"tasks and ids", store.LaunchRequest{Tasks: []string{"noop"}, TaskIDs: []int64{1}}, domain.ErrInvalid},
		{"unknown host", store.LaunchRequest{TargetHostID: &missing}, domain.ErrInvalid},
	}
	for _, tc := range cases {
		_, err := st.Launch(ctx, tc.req)
		if !errors.Is(err, tc.kind) {
			t.Errorf("%s: err = %v, want %v", tc.name, err, tc.kind)
		}
	}
	var runs int
	st.DB.Raw(`SELECT count(*) FROM runs`).Scan(&runs)
	if runs != 0 {
		t.Fatalf("%d runs written by rejected launches", runs)
	}
}
