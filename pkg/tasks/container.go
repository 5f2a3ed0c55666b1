package tasks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/cyberbrain/cyberbrain/pkg/containerspec"
	"github.com/cyberbrain/cyberbrain/pkg/domain"
	"github.com/cyberbrain/cyberbrain/pkg/store"
)

// ErrReplicaKilled is the cancel cause of a replica killed on purpose (chaos
// drills): a container task then leaves its container to the rescuer, as a
// SIGKILLed process would, instead of stopping it on the way out.
var ErrReplicaKilled = errors.New("replica killed")

// ContainerSpecs reads a container task's definition: its spec and its
// write-only env. *store.Store satisfies it.
type ContainerSpecs interface {
	ContainerTaskSpec(ctx context.Context, key string) (*store.ContainerTask, error)
}

var _ ContainerSpecs = (*store.Store)(nil)

// ContainerOptions configures the container runner.
type ContainerOptions struct {
	// Policy is checked again before each container is created, so a
	// definition stored under a looser policy cannot run.
	Policy containerspec.Policy
	// StopGrace is how long a container has between SIGTERM and SIGKILL
	// when its attempt ends early (timeout, cancel, lease lost); default 10 s.
	StopGrace time.Duration
	// NamePrefix starts every container's name (default "cyberbrain"); the
	// installation id and the job id follow, so deployments sharing an
	// engine need no distinct prefixes.
	NamePrefix string
}

// ContainerTask runs the jobs of container task definitions: one container
// per attempt on the job's worker host, named after the job so the engine
// itself refuses a second container of the same job.
type ContainerTask struct {
	pool  EngineClients
	specs ContainerSpecs
	inst  Installation
	opt   ContainerOptions
}

// Container returns the runner of container tasks; inst names the
// installation its containers belong to.
func Container(pool EngineClients, specs ContainerSpecs, inst Installation, opt ContainerOptions) *ContainerTask {
	if opt.NamePrefix == "" {
		opt.NamePrefix = "cyberbrain"
	}
	if opt.StopGrace <= 0 {
		opt.StopGrace = 10 * time.Second
	}
	return &ContainerTask{pool: pool, specs: specs, inst: inst, opt: opt}
}

// Run executes one attempt; see docs/TASKS.md, "Container tasks".
func (t *ContainerTask) Run(ctx context.Context, env Env) (*Result, error) {
	sp, err := t.spec(ctx, env.Job)
	if err != nil {
		return nil, err
	}
	install, err := t.installation(ctx)
	if err != nil {
		return nil, domain.Retryable(err)
	}
	cli, err := hostClient(t.pool, env)
	if err != nil {
		return nil, err
	}
	a := &attempt{cli: cli, host: env.Host, job: env.Job, spec: sp, grace: t.opt.StopGrace, install: install,
		name: jobContainerName(t.opt.NamePrefix, install, env.Job.ID)}
	return a.run(ctx)
}

// spec builds the job's spec: the definition's, with the job's command and
// env overrides, checked against the policy.
func (t *ContainerTask) spec(ctx context.Context, j store.Job) (*containerspec.Spec, error) {
	def, err := t.specs.ContainerTaskSpec(ctx, j.TaskType)
	if err != nil {
		if errors.Is(err, domain.ErrNotFound) {
			return nil, domain.Permanent(err)
		}
		return nil, domain.Retryable(err)
	}
	base, errs := containerspec.Parse(def.DefaultConfig, "default_config")
	if errs != nil {
		return nil, domain.Permanentf("%s: %v", j.TaskType, errs)
	}
	var secret map[string]string
	if err := json.Unmarshal(def.Env, &secret); err != nil {
		return nil, domain.Permanentf("%s: stored env is not an object of strings", j.TaskType)
	}
	sp, err := containerspec.ForJob(base, secret, j.Config)
	if err != nil {
		return nil, domain.Permanentf("%s: %v", j.TaskType, err)
	}
	if errs := t.opt.Policy.Check(sp, "default_config"); errs != nil {
		return nil, domain.Permanentf("%s: refused by this replica's container policy: %v", j.TaskType, errs)
	}
	return sp, nil
}

// Clear stops and removes every container of the job on the host except
// those kept for inspection: the rescuer calls it before a lost attempt is
// retried, so the retry never runs beside it.
func (t *ContainerTask) Clear(ctx context.Context, host *store.WorkerHost, jobID int64) error {
	install, err := t.installation(ctx)
	if err != nil {
		return err
	}
	cli, err := t.pool.Client(host)
	if err != nil {
		return err
	}
	return clearJob(ctx, cli, host, jobRef{install: install, id: jobID,
		name: jobContainerName(t.opt.NamePrefix, install, jobID)}, t.opt.StopGrace)
}

func (t *ContainerTask) installation(ctx context.Context) (string, error) {
	id, err := t.inst.InstallationID(ctx)
	if err != nil {
		return "", fmt.Errorf("container task: %w", err)
	}
	return id, nil
}

// jobContainerName is the engine-wide unique name of a job's live container:
// job ids are unique only within an installation.
func jobContainerName(prefix, install string, jobID int64) string {
	return fmt.Sprintf("%s-%s-job-%d", prefix, install, jobID)
}

// Labels naming what a container belongs to.
const (
	LabelRun      = "org.cyberbrain.run"
	LabelJob      = "org.cyberbrain.job"
	LabelAttempt  = "org.cyberbrain.attempt"
	LabelClaimant = "org.cyberbrain.claimant"
	LabelTask     = "org.cyberbrain.task"
	// LabelInstallation is the installation id (store.InstallationID): run
	// and job ids repeat across installations sharing an engine.
	LabelInstallation = "org.cyberbrain.installation"
)

func labels(j store.Job, install string) map[string]string {
	return map[string]string{LabelRun: fmt.Sprint(j.RunID), LabelJob: fmt.Sprint(j.ID),
		LabelAttempt: fmt.Sprint(j.Attempt), LabelClaimant: j.ClaimedBy, LabelTask: j.TaskType,
		LabelInstallation: install}
}
