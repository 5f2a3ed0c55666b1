package tasks

import (
	"context"
	"time"

	"github.com/docker/docker/client"

	"github.com/cyberbrain/cyberbrain/pkg/store"
)

// The interfaces below are all a task may reach outside its own code. They
// are declared here, at the consumer, so that a task depends on the few
// methods it calls rather than on the whole store, and so that tests can run
// a task against in-memory fakes. *store.Store, *store.Tx and
// *dockerhost.Pool satisfy them.

// AllowList reads the container allow-list that bounds the Docker tasks'
// default scope.
type AllowList interface {
	// AllowlistForHost returns the enabled entries that apply to the host
	// (its own and the global ones).
	AllowlistForHost(ctx context.Context, hostID int64) ([]store.ContainerAllowlistEntry, error)
}

// LogCursors reads where log_triage last stopped on each container of a
// host. Cursors are written only through LogCursorSaver, on commit.
type LogCursors interface {
	// LogStates returns the host's cursors keyed by container name.
	LogStates(ctx context.Context, hostID int64) (map[string]store.ContainerLogState, error)
}

// LLMCallRecorder stores the token counts of one LLM request (never its
// text). It is called at once, outside the completion transaction, because
// the tokens were spent even if the attempt's result is later rejected.
type LLMCallRecorder interface {
	RecordLLMCall(ctx context.Context, c *store.LLMCall) error
}

// EngineClients gives a task the Docker engine client of a worker host.
type EngineClients interface {
	Client(host *store.WorkerHost) (*client.Client, error)
}

// Installation names the cyberbrain installation (its database), which
// container tasks label their containers with: installations sharing a
// Docker engine number their jobs alike. The store reads it once.
type Installation interface {
	InstallationID(ctx context.Context) (string, error)
}

// LogCursorSaver is what Result.OnCommit may do inside the job's fenced
// completion transaction: advance a container's log cursor.
type LogCursorSaver interface {
	SaveLogState(ctx context.Context, hostID int64, container string, lastSuccess time.Time, knownTemplates []string) error
}

// FindingsWriter stores log_triage's findings and each container's miner
// state and baselines; like the cursor, only inside the fenced completion
// transaction, so a rejected attempt leaves neither.
type FindingsWriter interface {
	SaveFindings(ctx context.Context, fs []store.Finding) error
	SaveTriageState(ctx context.Context, hostID int64, container string, miner, baselines []byte, imageID string) error
}

// CommitTx is what Result.OnCommit may do: advance log cursors, store
// findings and triage state.
type CommitTx interface {
	LogCursorSaver
	FindingsWriter
}

// ResultTx is the completion transaction as Result.SaveInTx sees it: it
// stores the artifacts and hands the rest to OnCommit.
type ResultTx interface {
	CommitTx
	SaveArtifacts(ctx context.Context, runID, jobID int64, arts []store.NewArtifact) error
}

// Compile-time proof that the production types fit the seams.
var (
	_ AllowList       = (*store.Store)(nil)
	_ LogCursors      = (*store.Store)(nil)
	_ LLMCallRecorder = (*store.Store)(nil)
	_ Installation    = (*store.Store)(nil)
	_ ResultTx        = (*store.Tx)(nil)
)
