package tasks

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/client"

	"github.com/cyberbrain/cyberbrain/pkg/dockerhost"
	"github.com/cyberbrain/cyberbrain/pkg/domain"
	"github.com/cyberbrain/cyberbrain/pkg/store"
)

// Scope values of the `scope` config key shared by the Docker tasks.
const (
	// ScopeAllowlist reads only containers on the allow-list (the default).
	ScopeAllowlist = "allowlist"
	// ScopeAll reads every container of the host.
	ScopeAll = "all"
)

// SaveInTx stores what an accepted attempt produced: the artifacts, then the
// task's OnCommit (log cursors). The scheduler calls it inside the fenced
// completion transaction of the job, so a replica that lost its lease stores
// nothing.
func (r *Result) SaveInTx(ctx context.Context, tx ResultTx, job store.Job) error {
	if r == nil {
		return nil
	}
	arts := make([]store.NewArtifact, 0, len(r.Artifacts))
	for _, a := range r.Artifacts {
		arts = append(arts, store.NewArtifact{Name: a.Name, ContentType: a.ContentType, Content: a.Content})
	}
	if err := tx.SaveArtifacts(ctx, job.RunID, job.ID, arts); err != nil {
		return fmt.Errorf("job %d artifacts: %w", job.ID, err)
	}
	if r.OnCommit != nil {
		if err := r.OnCommit(ctx, tx); err != nil {
			return fmt.Errorf("job %d on-commit: %w", job.ID, err)
		}
	}
	return nil
}

// decodeConfig reads the job's merged config into cfg (which holds defaults).
// A malformed config is permanent: retrying will not fix it.
func decodeConfig(env Env, cfg any) error {
	if len(env.Job.Config) == 0 || string(env.Job.Config) == "null" {
		return nil
	}
	if err := json.Unmarshal(env.Job.Config, cfg); err != nil {
		return domain.Permanentf("%s: invalid task config: %v", env.Job.TaskType, err)
	}
	return nil
}

func checkScope(task, scope string) error {
	if scope != ScopeAllowlist && scope != ScopeAll {
		return domain.Permanentf("%s: config scope %q: want %q or %q", task, scope, ScopeAllowlist, ScopeAll)
	}
	return nil
}

// hostClient returns the Docker client of the job's host.
func hostClient(pool EngineClients, env Env) (*client.Client, error) {
	if env.Host == nil {
		return nil, domain.Permanentf("%s needs a worker host and the job has none", env.Job.TaskType)
	}
	return pool.Client(env.Host)
}

// scopedContainers lists the host's containers (running or not) and keeps
// those the scope lets the task read. Nothing about a container outside the
// scope leaves this function but the count.
func scopedContainers(ctx context.Context, cli *client.Client, env Env, scope string) (in []container.Summary, outOfScope int, err error) {
	all, err := cli.ContainerList(ctx, container.ListOptions{All: true})
	if err != nil {
		return nil, 0, dockerhost.Classify(env.Host, "list containers", err)
	}
	var allow dockerhost.Allowlist
	if scope != ScopeAll {
		entries, err := env.AllowList.AllowlistForHost(ctx, env.Host.ID)
		if err != nil {
			return nil, 0, domain.Retryable(err)
		}
		allow = dockerhost.NewAllowlist(entries)
	}
	for _, c := range all {
		if scope == ScopeAll || allow.AllowsAny(c.Names, c.ID) {
			in = append(in, c)
		} else {
			outOfScope++
		}
	}
	sort.Slice(in, func(i, j int) bool { return containerName(in[i]) < containerName(in[j]) })
	return in, outOfScope, nil
}

// containerName is the container's primary name without Docker's '/'.
func containerName(c container.Summary) string {
	if len(c.Names) == 0 {
		return shortID(c.ID)
	}
	// The shortest name is the container's own; longer ones are legacy links.
	name := c.Names[0]
	for _, n := range c.Names[1:] {
		if len(n) < len(name) {
			name = n
		}
	}
	return strings.TrimPrefix(name, "/")
}

func shortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

// mdEscape makes text safe inside a Markdown table cell or inline code.
func mdEscape(s string) string {
	s = strings.ReplaceAll(s, "|", `\|`)
	s = strings.ReplaceAll(s, "\n", " ")
	s = strings.ReplaceAll(s, "`", "'")
	return s
}

func jsonArtifact(task string, v any) (Artifact, error) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return Artifact{}, fmt.Errorf("encode %s.json: %w", task, err)
	}
	return Artifact{Name: task + ".json", ContentType: "application/json", Content: b}, nil
}

func markdownArtifact(md string) Artifact {
	return Artifact{Name: "report.md", ContentType: "text/markdown; charset=utf-8", Content: []byte(md)}
}

func isNotFound(err error) bool { return cerrdefs.IsNotFound(err) }

func networkListOptions() network.ListOptions { return network.ListOptions{} }
