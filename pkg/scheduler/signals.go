package scheduler

import (
	"time"

	"github.com/cyberbrain/cyberbrain/pkg/domain"
	"github.com/cyberbrain/cyberbrain/pkg/scheduler/testsignal"
)

// TestSignals are the points of a replica's work tests wait on instead of
// polling the database. Inert unless Init is called, which must happen
// before Run or RunOnce.
type TestSignals struct {
	Claimed  testsignal.TestSignal[int]            // a pass claimed and handled this many schedules (> 0)
	Started  testsignal.TestSignal[int64]          // a job (by id) started executing here
	Finished testsignal.TestSignal[FinishedSignal] // a job's end was written and accepted
	Rescued  testsignal.TestSignal[int64]          // this replica's maintenance rescued a job (by id) with an expired lease
	Flushed  testsignal.TestSignal[int]            // the completer is done with a batch of this many ends (written, rejected or given up)

	Maintained testsignal.TestSignal[MaintenanceSignal] // a maintenance work (retention, host-health, statistics) was attempted and is over
	Pruned     testsignal.TestSignal[PrunedSignal]      // a retention pass (under the lock) is over
	Listening  testsignal.TestSignal[struct{}]          // the LISTEN connection is up (again)
}

// MaintenanceSignal is one attempt at a one-replica-at-a-time maintenance
// work: Ran is false when another replica held its lock.
type MaintenanceSignal struct {
	Work string
	Ran  bool
}

// PrunedSignal is one retention pass: Runs pruned, More when its budget ran
// out with runs left (the next loop pass continues), and At, when it began on
// the replica's clock.
type PrunedSignal struct {
	Runs int64
	More bool
	At   time.Time
}

// FinishedSignal is a written job end.
type FinishedSignal struct {
	JobID   int64
	Attempt int
	Status  domain.JobStatus
}

// Init arms every signal. Tests only.
func (ts *TestSignals) Init(tb testsignal.TB) {
	ts.Claimed.Init(tb)
	ts.Started.Init(tb)
	ts.Finished.Init(tb)
	ts.Rescued.Init(tb)
	ts.Flushed.Init(tb)
	ts.Maintained.Init(tb)
	ts.Pruned.Init(tb)
	ts.Listening.Init(tb)
}
