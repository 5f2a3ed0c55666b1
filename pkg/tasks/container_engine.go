package tasks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/client"

	"github.com/cyberbrain/cyberbrain/pkg/containerspec"
	"github.com/cyberbrain/cyberbrain/pkg/dockerhost"
	"github.com/cyberbrain/cyberbrain/pkg/domain"
	"github.com/cyberbrain/cyberbrain/pkg/store"
)

// ensureImage makes the image present as the pull policy says.
func ensureImage(ctx context.Context, cli *client.Client, host *store.WorkerHost, ref, pull string) error {
	if pull != containerspec.PullAlways {
		_, err := cli.ImageInspect(ctx, ref)
		if err == nil {
			return nil
		}
		if !cerrdefs.IsNotFound(err) {
			return dockerhost.Classify(host, "inspect image "+ref, err)
		}
		if pull == containerspec.PullNever {
			return domain.Permanentf("%s: image %s is not present and the pull policy is never", dockerhost.Describe(host), ref)
		}
	}
	rd, err := cli.ImagePull(ctx, ref, image.PullOptions{})
	if err != nil {
		return dockerhost.Classify(host, "pull image "+ref, err)
	}
	defer rd.Close()
	// The pull reports failures inside its progress stream.
	dec := json.NewDecoder(rd)
	for {
		var msg struct {
			Error string `json:"error"`
		}
		if err := dec.Decode(&msg); errors.Is(err, io.EOF) {
			return nil
		} else if err != nil {
			return dockerhost.Classify(host, "pull image "+ref, err)
		}
		if msg.Error != "" {
			return domain.Permanentf("%s: pull image %s: %s", dockerhost.Describe(host), ref, msg.Error)
		}
	}
}

func mounts(ms []containerspec.Mount) []mount.Mount {
	var out []mount.Mount
	for _, m := range ms {
		t := mount.TypeVolume
		if m.IsBind() {
			t = mount.TypeBind
		}
		out = append(out, mount.Mount{Type: t, Source: m.Source, Target: m.Target, ReadOnly: m.ReadOnly})
	}
	return out
}

// removeForce stops a container (SIGTERM, SIGKILL after grace) and removes
// it; one that is already gone is fine.
func removeForce(ctx context.Context, cli *client.Client, id string, grace time.Duration) error {
	secs := int(grace.Seconds())
	if err := cli.ContainerStop(ctx, id, container.StopOptions{Timeout: &secs}); err != nil && !cerrdefs.IsNotFound(err) {
		return fmt.Errorf("stop container %s: %w", id, err)
	}
	err := cli.ContainerRemove(ctx, id, container.RemoveOptions{Force: true})
	if err != nil && !cerrdefs.IsNotFound(err) && !cerrdefs.IsConflict(err) {
		return fmt.Errorf("remove container %s: %w", id, err)
	}
	return nil
}

// jobRef names one job's containers on an engine that other installations
// may share: the job id alone is not unique there.
type jobRef struct {
	install string
	id      int64
	name    string // of the live container
}

// filter matches the job's containers: both labels, since the engine ANDs
// label filters.
func (j jobRef) filter() filters.Args {
	return filters.NewArgs(filters.Arg("label", fmt.Sprintf("%s=%d", LabelJob, j.id)),
		filters.Arg("label", LabelInstallation+"="+j.install))
}

// clearJob stops and removes the job's containers on the host, found by
// label: the live one (named after the job) and any still running; stopped
// containers kept for inspection (renamed after their attempt) stay.
func clearJob(ctx context.Context, cli *client.Client, host *store.WorkerHost, job jobRef, grace time.Duration) error {
	list, err := cli.ContainerList(ctx, container.ListOptions{All: true, Filters: job.filter()})
	if err != nil {
		return dockerhost.Classify(host, "list the job's containers", err)
	}
	for _, c := range list {
		live := len(c.Names) > 0 && c.Names[0] == "/"+job.name
		if !live && c.State != "running" {
			continue
		}
		if err := removeForce(ctx, cli, c.ID, grace); err != nil {
			return dockerhost.Classify(host, "clear the job's container", err)
		}
	}
	return nil
}
