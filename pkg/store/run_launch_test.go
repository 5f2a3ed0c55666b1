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
	testenv.SQL(t, st).Raw(`SELECT name FROM schedules WHERE enabled AND due_at <= now() AND schedule_type = 'one_shot' ORDER BY id`).Scan(&names)
	if len(names) != 2 || names[0] != "launch-run-"+fmtInt(d.ID)+"-service_map" {
		t.Fatalf("schedules = %v", names)
	}
	var pending int
	testenv.SQL(t, st).Raw(`SELECT count(*) FROM scheduled_runs WHERE run_id = ? AND status = 'pending' AND job_id IS NOT NULL`, d.ID).Scan(&pending)
	if pending != 2 {
		t.Fatalf("pending scheduled runs = %d, want 2", pending)
	}
	var def int
	testenv.SQL(t, st).Raw(`SELECT count(*) FROM directives WHERE name = 'default'`).Scan(&def)
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
	testenv.SQL(t, st).Raw(`SELECT count(*) FROM runs`).Scan(&runs)
	if runs != 0 {
		t.Fatalf("%d runs written by rejected launches", runs)
	}
}

// Concurrent launches are group-committed; each still gets exactly its own
// run, jobs, schedules and ScheduledRuns, and a refused launch in the same
// batch refuses only itself.
func TestConcurrentLaunchesAreEachWhole(t *testing.T) {
	t.Parallel()
	st := testenv.NewStore(t)
	ctx := context.Background()
	const n = 200
	type res struct {
		d   *store.RunDetail
		err error
		bad bool
	}
	out := make(chan res, n)
	for i := 0; i < n; i++ {
		go func(i int) {
			req := store.LaunchRequest{Tasks: []string{"log_triage", "service_map"}}
			bad := i%10 == 0
			if bad {
				req.Tasks = []string{"log_triage", "no_such_task"}
			}
			d, err := st.Launch(ctx, req)
			out <- res{d, err, bad}
		}(i)
	}
	seen := map[int64]bool{}
	for i := 0; i < n; i++ {
		r := <-out
		if r.bad {
			if !errors.Is(r.err, domain.ErrInvalid) {
				t.Fatalf("bad launch: err = %v", r.err)
			}
			continue
		}
		if r.err != nil {
			t.Fatal(r.err)
		}
		if seen[r.d.ID] || len(r.d.Jobs) != 2 || r.d.Jobs[0].RunID != r.d.ID || r.d.Jobs[1].TaskType != "service_map" {
			t.Fatalf("launch detail mixed up: %+v", r.d)
		}
		seen[r.d.ID] = true
	}
	var bad int
	testenv.SQL(t, st).Raw(`SELECT count(*) FROM jobs j JOIN schedules s ON s.id = j.schedule_id
		JOIN scheduled_runs sr ON sr.job_id = j.id AND sr.schedule_id = s.id AND sr.run_id = j.run_id
		WHERE s.name <> 'launch-run-' || j.run_id || '-' || j.task_type`).Scan(&bad)
	var jobs, runs int
	testenv.SQL(t, st).Raw(`SELECT count(*) FROM jobs`).Scan(&jobs)
	testenv.SQL(t, st).Raw(`SELECT count(*) FROM runs`).Scan(&runs)
	if bad != 0 || runs != n-n/10 || jobs != 2*runs {
		t.Fatalf("rows: %d runs, %d jobs, %d mislinked", runs, jobs, bad)
	}
}

// A launch right after another may be planned on the inputs that one read,
// but is created, or refused, only on inputs that hold when it is: a task
// disabled in between refuses the next launch (the insert's fingerprint
// check fails and the launch is planned again on a fresh read), and one
// enabled in between lets it through (a refusal is only made on a fresh
// read).
func TestLaunchSeesDefinitionChangesMadeJustBefore(t *testing.T) {
	t.Parallel()
	st := testenv.NewStore(t)
	ctx := context.Background()
	setNoop := func(enabled bool) {
		t.Helper()
		if err := testenv.SQL(t, st).Exec(`UPDATE task_definitions SET enabled = ? WHERE key = 'noop'`, enabled).Error; err != nil {
			t.Fatal(err)
		}
	}
	noop := store.LaunchRequest{Tasks: []string{"noop"}}
	setNoop(true)
	for i := 0; i < 2; i++ { // the first creates the default directive
		if _, err := st.Launch(ctx, noop); err != nil {
			t.Fatal(err)
		}
	}
	setNoop(false)
	if _, err := st.Launch(ctx, noop); !errors.Is(err, domain.ErrInvalid) {
		t.Fatalf("launch of a task disabled just before: %v, want refused", err)
	}
	st.ResumeInputReuse() // reused inputs failed that batch: reuse pauses for a second
	setNoop(true)
	if _, err := st.Launch(ctx, noop); err != nil {
		t.Fatalf("launch of a task enabled just before: %v", err)
	}
	var runs int
	testenv.SQL(t, st).Raw(`SELECT count(*) FROM runs`).Scan(&runs)
	if runs != 3 {
		t.Fatalf("%d runs, want 3", runs)
	}
}
