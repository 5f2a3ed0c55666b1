package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/cyberbrain/cyberbrain/pkg/domain"
	"github.com/cyberbrain/cyberbrain/pkg/store"
	"github.com/cyberbrain/cyberbrain/pkg/testenv"
)

// createdRun is what a test reads back of a run, whichever path created it.
type createdRun struct {
	DirectiveID *int64
	Snapshot    map[string]any
	Config      map[string]any
	Available   bool
	Status      string
	JobStatus   string
	SRStatus    string
}

func readRun(t *testing.T, st *store.Store, runID int64) createdRun {
	t.Helper()
	var row struct {
		DirectiveID *int64
		Snapshot    []byte
		Config      []byte
		Available   bool
		Status      string
		JobStatus   string
		SRStatus    string
	}
	err := testenv.SQL(t, st).Raw(`SELECT r.directive_id, r.directive_snapshot AS snapshot, j.config,
		j.available_at IS NOT NULL AS available, r.status, j.status AS job_status, sr.status AS sr_status
		FROM runs r JOIN jobs j ON j.run_id = r.id JOIN scheduled_runs sr ON sr.job_id = j.id WHERE r.id = ?`, runID).
		Scan(&row).Error
	if err != nil {
		t.Fatal(err)
	}
	out := createdRun{DirectiveID: row.DirectiveID, Available: row.Available, Status: row.Status,
		JobStatus: row.JobStatus, SRStatus: row.SRStatus}
	if err := json.Unmarshal(row.Snapshot, &out.Snapshot); err != nil {
		t.Fatalf("snapshot of run %d: %v", runID, err)
	}
	if err := json.Unmarshal(row.Config, &out.Config); err != nil {
		t.Fatalf("config of run %d: %v", runID, err)
	}
	return out
}

// newSchedule creates an enabled interval schedule of service_map (no
// Docker needed by the test, but routed like every task that needs it).
func newSchedule(t *testing.T, st *store.Store, name string, directiveID *int64, custom string) *store.Schedule {
	t.Helper()
	every := 60
	sc, err := st.CreateSchedule(context.Background(), &store.ScheduleWrite{Schedule: store.Schedule{
		Name: name, Task: "service_map", DirectiveID: directiveID, CustomDirectiveText: custom,
		Enabled: true, ScheduleType: "interval", IntervalMinutes: &every, Timezone: "UTC"}})
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

// fire claims sc for claimant "t" and fires its slot at slot.
func fire(t *testing.T, st *store.Store, sc *store.Schedule, slot time.Time) *store.Fired {
	t.Helper()
	if err := testenv.SQL(t, st).Exec(`UPDATE schedules SET claimed_by = 't', claimed_until = now() + interval '1 minute'
		WHERE id = ?`, sc.ID).Error; err != nil {
		t.Fatal(err)
	}
	next := slot.Add(time.Hour)
	f, err := st.FireSlot(context.Background(), "t", *sc, slot, &next)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// The directive rule holds on the three paths that create runs: without a
// directive of their own they use the `default` directive (its id, its
// snapshot, its task_config merged into the job's config); a schedule's run
// also keeps the schedule and its custom directive text in the snapshot.
func TestEveryPathUsesTheDefaultDirectiveWhenGivenNone(t *testing.T) {
	t.Parallel()
	st := testenv.NewStore(t)
	ctx := context.Background()
	def := &store.Directive{Name: store.DefaultDirectiveName, TaskConfig: json.RawMessage(`{"service_map": {"from_default": true}}`)}
	if err := st.CreateDirective(ctx, def); err != nil {
		t.Fatal(err)
	}
	sc := newSchedule(t, st, "nightly-map", nil, "look at the proxies")

	launched, err := st.Launch(ctx, store.LaunchRequest{Tasks: []string{"service_map"}})
	if err != nil {
		t.Fatal(err)
	}
	fired := fire(t, st, sc, time.Now().UTC().Truncate(time.Second))
	nowID, err := st.RunScheduleNow(ctx, sc.ID)
	if err != nil {
		t.Fatal(err)
	}
	for path, runID := range map[string]int64{"launch": launched.ID, "slot": fired.RunID, "run-now": nowID} {
		r := readRun(t, st, runID)
		if r.DirectiveID == nil || *r.DirectiveID != def.ID || r.Snapshot["name"] != store.DefaultDirectiveName {
			t.Errorf("%s: directive %v, snapshot %v; want the default directive %d", path, r.DirectiveID, r.Snapshot, def.ID)
		}
		if r.Config["from_default"] != true {
			t.Errorf("%s: config %v lacks the default directive's task_config", path, r.Config)
		}
		if path == "launch" {
			if _, ok := r.Snapshot["schedule_id"]; ok {
				t.Errorf("launch: snapshot names a schedule: %v", r.Snapshot)
			}
			continue
		}
		if r.Snapshot["custom_directive_text"] != "look at the proxies" || r.Snapshot["schedule"] != "nightly-map" {
			t.Errorf("%s: snapshot %v lacks the schedule and its custom text", path, r.Snapshot)
		}
	}
}

// A schedule's own directive wins on both schedule paths, as directive_id
// does on a launch.
func TestEveryPathUsesTheGivenDirective(t *testing.T) {
	t.Parallel()
	st := testenv.NewStore(t)
	ctx := context.Background()
	dir := &store.Directive{Name: "proxies", Description: "reverse proxies",
		TaskConfig: json.RawMessage(`{"service_map": {"depth": 3}}`)}
	if err := st.CreateDirective(ctx, dir); err != nil {
		t.Fatal(err)
	}
	sc := newSchedule(t, st, "proxy-map", &dir.ID, "")
	launched, err := st.Launch(ctx, store.LaunchRequest{DirectiveID: &dir.ID, Tasks: []string{"service_map"}})
	if err != nil {
		t.Fatal(err)
	}
	fired := fire(t, st, sc, time.Now().UTC().Truncate(time.Second))
	nowID, err := st.RunScheduleNow(ctx, sc.ID)
	if err != nil {
		t.Fatal(err)
	}
	for path, runID := range map[string]int64{"launch": launched.ID, "slot": fired.RunID, "run-now": nowID} {
		r := readRun(t, st, runID)
		if r.DirectiveID == nil || *r.DirectiveID != dir.ID || r.Snapshot["description"] != "reverse proxies" {
			t.Errorf("%s: directive %v, snapshot %v; want directive %d", path, r.DirectiveID, r.Snapshot, dir.ID)
		}
		if r.Config["depth"] != float64(3) {
			t.Errorf("%s: config %v, want the directive's depth 3", path, r.Config)
		}
	}
	var defaults int64
	testenv.SQL(t, st).Raw(`SELECT count(*) FROM directives WHERE name = 'default'`).Scan(&defaults)
	if defaults != 0 {
		t.Errorf("default directive created although every run had a directive")
	}
}

// A fired slot's job is handed to execution at once; a launch's and a
// run-now's wait for the scheduler that claims their schedule.
func TestOnlyAFiredSlotIsAvailableAtOnce(t *testing.T) {
	t.Parallel()
	st := testenv.NewStore(t)
	ctx := context.Background()
	sc := newSchedule(t, st, "hourly", nil, "")
	launched, err := st.Launch(ctx, store.LaunchRequest{Tasks: []string{"service_map"}})
	if err != nil {
		t.Fatal(err)
	}
	fired := fire(t, st, sc, time.Now().UTC().Truncate(time.Second))
	nowID, err := st.RunScheduleNow(ctx, sc.ID)
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[int64]bool{launched.ID: false, fired.RunID: true, nowID: false} {
		if r := readRun(t, st, path); r.Available != want || r.Status != "pending" || r.SRStatus != "pending" {
			t.Errorf("run %d: available %v status %s/%s, want available %v, pending", path, r.Available, r.Status, r.SRStatus, want)
		}
	}
}

// Firing the same slot twice (two replicas, or a retry after a lost reply)
// creates one run.
func TestFiringASlotTwiceCreatesOneRun(t *testing.T) {
	t.Parallel()
	st := testenv.NewStore(t)
	sc := newSchedule(t, st, "twice", nil, "")
	slot := time.Now().UTC().Truncate(time.Second)
	first := fire(t, st, sc, slot)
	second := fire(t, st, sc, slot)
	if first.Duplicate || !second.Duplicate || second.RunID != 0 {
		t.Fatalf("first %+v, second %+v: want one run, then a duplicate", first, second)
	}
	var runs int64
	testenv.SQL(t, st).Raw(`SELECT count(*) FROM scheduled_runs WHERE schedule_id = ?`, sc.ID).Scan(&runs)
	if runs != 1 {
		t.Fatalf("%d scheduled runs for one slot", runs)
	}
}

// A slot whose task has no usable host is kept as history: its run, job and
// ScheduledRun are created failed with the reason, and the schedule moves on.
// Run-now of the same schedule is refused instead (the user is there to read
// why).
func TestSlotWithoutAUsableHostFailsButRunNowIsRefused(t *testing.T) {
	t.Parallel()
	st := testenv.NewStore(t)
	ctx := context.Background()
	sc := newSchedule(t, st, "no-host", nil, "")
	testenv.SQL(t, st).Exec(`UPDATE worker_hosts SET enabled = false`)
	slot := time.Now().UTC().Truncate(time.Second)
	f := fire(t, st, sc, slot)
	r := readRun(t, st, f.RunID)
	if r.Status != "failed" || r.JobStatus != "failed" || r.SRStatus != "failed" || r.Available {
		t.Fatalf("unroutable slot: %+v, want run, job and ScheduledRun failed, not available", r)
	}
	var msg string
	testenv.SQL(t, st).Raw(`SELECT error_message FROM runs WHERE id = ?`, f.RunID).Scan(&msg)
	if msg == "" {
		t.Error("failed run has no error message")
	}
	var next time.Time
	testenv.SQL(t, st).Raw(`SELECT next_run_at FROM schedules WHERE id = ?`, sc.ID).Scan(&next)
	if !next.Equal(slot.Add(time.Hour)) {
		t.Errorf("next_run_at = %v, want %v", next, slot.Add(time.Hour))
	}
	before := countRows(t, st, "runs")
	_, err := st.RunScheduleNow(ctx, sc.ID)
	if !errors.Is(err, domain.ErrInvalid) {
		t.Fatalf("run-now without a usable host: err = %v, want invalid", err)
	}
	if after := countRows(t, st, "runs"); after != before {
		t.Fatalf("refused run-now wrote %d runs", after-before)
	}
}

// Run-now refuses a schedule whose task is disabled and writes nothing.
func TestRunNowRefusesADisabledTask(t *testing.T) {
	t.Parallel()
	st := testenv.NewStore(t)
	sc := newSchedule(t, st, "disabled-task", nil, "")
	testenv.SQL(t, st).Exec(`UPDATE task_definitions SET enabled = false WHERE key = 'service_map'`)
	_, err := st.RunScheduleNow(context.Background(), sc.ID)
	var derr *domain.Error
	if !errors.As(err, &derr) || derr.Fields["task_key"] == nil {
		t.Fatalf("err = %v, want a task_key field error", err)
	}
	if n := countRows(t, st, "runs"); n != 0 {
		t.Fatalf("%d runs written", n)
	}
}

// A batch of launches answers each in order; a bad one fails alone.
func TestLaunchBatchFailsBadLaunchesAlone(t *testing.T) {
	t.Parallel()
	st := testenv.NewStore(t)
	missing := int64(4242)
	res := st.LaunchBatch(context.Background(), []store.LaunchRequest{
		{Tasks: []string{"service_map"}},
		{DirectiveID: &missing},
		{Tasks: []string{"log_triage", "service_map"}},
		{Tasks: []string{"no_such_task"}},
	})
	if len(res) != 4 {
		t.Fatalf("%d results for 4 launches", len(res))
	}
	if res[0].Err != nil || len(res[0].Run.Jobs) != 1 || res[2].Err != nil || len(res[2].Run.Jobs) != 2 {
		t.Fatalf("good launches: %+v / %+v", res[0], res[2])
	}
	if !errors.Is(res[1].Err, domain.ErrNotFound) || !errors.Is(res[3].Err, domain.ErrInvalid) {
		t.Fatalf("bad launches: %v / %v", res[1].Err, res[3].Err)
	}
	if n := countRows(t, st, "runs"); n != 2 {
		t.Fatalf("%d runs, want 2", n)
	}
}

func countRows(t *testing.T, st *store.Store, table string) int64 {
	t.Helper()
	var n int64
	if err := testenv.SQL(t, st).Raw(`SELECT count(*) FROM ` + table).Scan(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}
