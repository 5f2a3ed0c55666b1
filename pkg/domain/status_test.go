package domain

import (
	"encoding/json"
	"testing"
)

func TestAggregateRunStatus(t *testing.T) {
	t.Parallel()
	cases := []struct {
		jobs    []JobStatus
		started bool
		want    RunStatus
	}{
		{[]JobStatus{StatusRunning, StatusFailed}, true, StatusRunning},
		{[]JobStatus{StatusPending, StatusCompleted}, true, StatusRunning},
		{[]JobStatus{StatusPending, StatusPending}, false, StatusPending},
		{[]JobStatus{StatusCompleted, StatusFailed}, true, StatusFailed},
		{[]JobStatus{StatusCompleted, StatusCancelled}, true, StatusCancelled},
		{[]JobStatus{StatusCompleted, StatusCompleted}, true, StatusCompleted},
		{nil, false, StatusCompleted},
	}
	for _, c := range cases {
		if got := AggregateRunStatus(c.jobs, c.started); got != c.want {
			t.Errorf("%v → %s, want %s", c.jobs, got, c.want)
		}
	}
}

func TestRunStatusMethods(t *testing.T) {
	t.Parallel()
	terminal := map[RunStatus]bool{StatusPending: false, StatusRunning: false,
		StatusCompleted: true, StatusFailed: true, StatusCancelled: true}
	for s, want := range terminal {
		if !s.Valid() {
			t.Errorf("%q not valid", s)
		}
		if s.Terminal() != want {
			t.Errorf("%q.Terminal() = %v, want %v", s, !want, want)
		}
	}
	if len(terminal) != len(RunStatuses) {
		t.Errorf("RunStatuses has %d entries, want %d", len(RunStatuses), len(terminal))
	}
	for _, bad := range []RunStatus{"", "Running", "finished", "lost"} {
		if bad.Valid() || bad.Terminal() {
			t.Errorf("%q: Valid %v Terminal %v, want both false", bad, bad.Valid(), bad.Terminal())
		}
	}
}

func TestScheduledRunStatusMethods(t *testing.T) {
	t.Parallel()
	terminal := map[ScheduledRunStatus]bool{SRPending: false, SRStarted: false,
		SRFinished: true, SRFailed: true, SRCancelled: true}
	for s, want := range terminal {
		if !s.Valid() || s.Terminal() != want {
			t.Errorf("%q: Valid %v Terminal %v, want true %v", s, s.Valid(), s.Terminal(), want)
		}
	}
	if len(terminal) != len(ScheduledRunStatuses) {
		t.Errorf("ScheduledRunStatuses has %d entries, want %d", len(ScheduledRunStatuses), len(terminal))
	}
	// "running" and "completed" are run statuses, not slot statuses.
	for _, bad := range []ScheduledRunStatus{"", "running", "completed"} {
		if bad.Valid() || bad.Terminal() {
			t.Errorf("%q: Valid %v Terminal %v, want both false", bad, bad.Valid(), bad.Terminal())
		}
	}
}

func TestAttemptOutcomeMethods(t *testing.T) {
	t.Parallel()
	terminal := map[AttemptOutcome]bool{OutcomeRunning: false, OutcomeCompleted: true,
		OutcomeFailed: true, OutcomeLost: true, OutcomeCancelled: true}
	for o, want := range terminal {
		if !o.Valid() || o.Terminal() != want {
			t.Errorf("%q: Valid %v Terminal %v, want true %v", o, o.Valid(), o.Terminal(), want)
		}
	}
	if len(terminal) != len(AttemptOutcomes) {
		t.Errorf("AttemptOutcomes has %d entries, want %d", len(AttemptOutcomes), len(terminal))
	}
	for _, bad := range []AttemptOutcome{"", "pending", "released"} {
		if bad.Valid() || bad.Terminal() {
			t.Errorf("%q: Valid %v Terminal %v, want both false", bad, bad.Valid(), bad.Terminal())
		}
	}
}

func TestScheduleAndHostTypeValid(t *testing.T) {
	t.Parallel()
	for _, ok := range ScheduleTypes {
		if !ok.Valid() {
			t.Errorf("schedule type %q not valid", ok)
		}
	}
	for _, bad := range []ScheduleType{"", "oneshot", "Cron"} {
		if bad.Valid() {
			t.Errorf("schedule type %q valid", bad)
		}
	}
	for _, ok := range HostTypes {
		if !ok.Valid() {
			t.Errorf("host type %q not valid", ok)
		}
	}
	for _, bad := range []HostType{"", "docker", "kubernetes"} {
		if bad.Valid() {
			t.Errorf("host type %q valid", bad)
		}
	}
}

// TestStatusJSON pins the wire form: typed values marshal as the bare strings
// the API always sent.
func TestStatusJSON(t *testing.T) {
	t.Parallel()
	v := struct {
		S RunStatus          `json:"s"`
		R ScheduledRunStatus `json:"r"`
		H HostType           `json:"h"`
	}{StatusCancelled, SRFinished, HostDockerTCP}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"s":"cancelled","r":"finished","h":"docker_tcp"}`; string(b) != want {
		t.Errorf("got %s, want %s", b, want)
	}
}

func TestStrings(t *testing.T) {
	t.Parallel()
	got := Strings(HostTypes)
	if len(got) != 3 || got[0] != "docker_socket" || got[2] != "docker_ssh" {
		t.Errorf("Strings(HostTypes) = %v", got)
	}
}
