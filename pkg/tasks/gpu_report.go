package tasks

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/client"
	"github.com/docker/docker/pkg/stdcopy"

	"github.com/cyberbrain/cyberbrain/pkg/dockerhost"
	"github.com/cyberbrain/cyberbrain/pkg/gpuinfo"
	"github.com/cyberbrain/cyberbrain/pkg/report"
	"github.com/cyberbrain/cyberbrain/pkg/store"
)

// DefaultGPUImage runs nvidia-smi when the scheduler is not on the host;
// capabilities.gpu_image overrides it per host, config `image` per job.
const DefaultGPUImage = "nvidia/cuda:12.4.1-base-ubuntu22.04"

// GPUReportConfig is gpu_report's task config.
type GPUReportConfig struct {
	// Scope limits which containers are inspected to map GPUs to containers:
	// "allowlist" (default) or "all".
	Scope string `json:"scope"`
	// Image overrides the host's gpu_image for the nvidia-smi container.
	Image string `json:"image"`
	// PullTimeout bounds pulling the image when it is absent (default 2m).
	PullTimeout string `json:"pull_timeout"`
}

// errNoGPU means the host has no usable NVIDIA GPU: a finding, not a failure.
type errNoGPU struct{ reason string }

func (e errNoGPU) Error() string { return e.reason }

// GPUReport inventories the host's NVIDIA GPUs with nvidia-smi, maps them to
// containers and flags hotspots. A host without GPUs is a completed report.
func GPUReport(pool EngineClients) Task {
	return TaskFunc(func(ctx context.Context, env Env) (*Result, error) {
		cfg := GPUReportConfig{Scope: ScopeAllowlist, PullTimeout: "2m"}
		if err := decodeConfig(env, &cfg); err != nil {
			return nil, err
		}
		if err := checkScope("gpu_report", cfg.Scope); err != nil {
			return nil, err
		}
		cli, err := hostClient(pool, env)
		if err != nil {
			return nil, err
		}
		rep := &report.GPUReport{Host: env.Host.Name, GeneratedAt: time.Now().UTC()}
		gpuOut, appsOut, listOut, method, err := runNvidiaSMI(ctx, cli, env.Host, cfg)
		rep.Method = method
		var noGPU errNoGPU
		switch {
		case errors.As(err, &noGPU):
			rep.NoGPU = noGPU.reason
			return gpuReportResult(rep)
		case err != nil:
			return nil, err
		}
		if rep.GPUs, err = gpuinfo.ParseGPUs(gpuOut); err != nil {
			return nil, fmt.Errorf("%s: %w", dockerhost.Describe(env.Host), err)
		}
		if len(rep.GPUs) == 0 {
			rep.NoGPU = fmt.Sprintf("no NVIDIA GPU detected on host %s (nvidia-smi lists none)", env.Host.Name)
			return gpuReportResult(rep)
		}
		mig := gpuinfo.ParseList(listOut)
		for i := range rep.GPUs {
			rep.GPUs[i].MIG = mig[rep.GPUs[i].Index]
		}
		if rep.Apps, err = gpuinfo.ParseApps(appsOut); err != nil {
			return nil, fmt.Errorf("%s: %w", dockerhost.Describe(env.Host), err)
		}
		rep.Hotspots = gpuinfo.Hotspots(rep.GPUs)
		if err := mapGPUContainers(ctx, cli, env, cfg.Scope, rep); err != nil {
			if method != "local" {
				return nil, err
			}
			// The GPUs were read without the engine: report them, and why
			// the container mapping is missing, rather than nothing.
			rep.ContainersError = err.Error()
		}
		return gpuReportResult(rep)
	})
}

// runNvidiaSMI runs the three queries, on this machine when the host's engine
// is local and nvidia-smi is on PATH, else in a short-lived GPU container.
func runNvidiaSMI(ctx context.Context, cli *client.Client, host *store.WorkerHost, cfg GPUReportConfig) (gpus, apps, list, method string, err error) {
	if bin, lerr := exec.LookPath("nvidia-smi"); lerr == nil && dockerhost.IsLocal(host) {
		run := func(args ...string) (string, error) {
			out, err := exec.CommandContext(ctx, bin, args...).Output()
			if err != nil {
				return "", fmt.Errorf("nvidia-smi %s on %s: %w", strings.Join(args, " "), dockerhost.Describe(host), err)
			}
			return string(out), nil
		}
		if gpus, err = run(gpuinfo.Args("query-gpu", gpuinfo.QueryGPUFields)...); err != nil {
			// The binary is there but the driver is not (a common sight on
			// machines that once had a GPU): no usable GPU.
			return "", "", "", "local", errNoGPU{fmt.Sprintf("no NVIDIA GPU detected on host %s (%v)", host.Name, err)}
		}
		if apps, err = run(gpuinfo.Args("query-compute-apps", gpuinfo.QueryAppsFields)...); err != nil {
			return "", "", "", "local", err
		}
		list, _ = run("-L")
		return gpus, apps, list, "local", nil
	}
	out, err := nvidiaSMIContainer(ctx, cli, host, cfg)
	if err != nil {
		return "", "", "", "container", err
	}
	parts := strings.SplitN(out, sectionMark+"\n", 3)
	for len(parts) < 3 {
		parts = append(parts, "")
	}
	return parts[0], parts[1], parts[2], "container", nil
}

const sectionMark = "----cyberbrain----"

// nvidiaSMIContainer runs the queries in a container that asks the engine for
// every GPU. An engine that cannot satisfy the request (no NVIDIA runtime or
// toolkit), or an image it does not have and cannot pull, means no GPU.
func nvidiaSMIContainer(ctx context.Context, cli *client.Client, host *store.WorkerHost, cfg GPUReportConfig) (string, error) {
	img := cfg.Image
	if img == "" {
		var caps store.HostCapabilities
		_ = json.Unmarshal(host.Capabilities, &caps)
		img = caps.GPUImage
	}
	if img == "" {
		img = DefaultGPUImage
	}
	if _, err := cli.ImageInspect(ctx, img); err != nil {
		if !isNotFound(err) {
			return "", dockerhost.Classify(host, "inspect image "+img, err)
		}
		if perr := pullImage(ctx, cli, img, cfg.PullTimeout); perr != nil {
			return "", errNoGPU{fmt.Sprintf("no NVIDIA GPU detected on host %s: GPU image %s is not on the host and could not be pulled (%v)", host.Name, img, perr)}
		}
	}
	script := strings.Join([]string{
		"nvidia-smi " + strings.Join(gpuinfo.Args("query-gpu", gpuinfo.QueryGPUFields), " "),
		"echo " + sectionMark,
		"nvidia-smi " + strings.Join(gpuinfo.Args("query-compute-apps", gpuinfo.QueryAppsFields), " "),
		"echo " + sectionMark,
		"nvidia-smi -L",
	}, " && ")
	created, err := cli.ContainerCreate(ctx,
		&container.Config{Image: img, Entrypoint: []string{"/bin/sh", "-c"}, Cmd: []string{script},
			Labels: map[string]string{"cyberbrain.task": "gpu_report"}},
		&container.HostConfig{Resources: container.Resources{DeviceRequests: []container.DeviceRequest{
			{Count: -1, Capabilities: [][]string{{"gpu"}}},
		}}},
		nil, nil, "")
	if err != nil {
		return "", dockerhost.Classify(host, "create nvidia-smi container", err)
	}
	defer func() {
		rmCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		_ = cli.ContainerRemove(rmCtx, created.ID, container.RemoveOptions{Force: true})
	}()
	waitC, errC := cli.ContainerWait(ctx, created.ID, container.WaitConditionNextExit)
	if err := cli.ContainerStart(ctx, created.ID, container.StartOptions{}); err != nil {
		if noGPUStartError(err) {
			return "", errNoGPU{fmt.Sprintf("no NVIDIA GPU detected on host %s: the engine cannot give containers a GPU (%v)", host.Name, err)}
		}
		return "", dockerhost.Classify(host, "start nvidia-smi container", err)
	}
	var status int64
	select {
	case w := <-waitC:
		status = w.StatusCode
	case err := <-errC:
		return "", dockerhost.Classify(host, "wait for nvidia-smi container", err)
	case <-ctx.Done():
		return "", dockerhost.Classify(host, "wait for nvidia-smi container", ctx.Err())
	}
	rc, err := cli.ContainerLogs(ctx, created.ID, container.LogsOptions{ShowStdout: true, ShowStderr: true})
	if err != nil {
		return "", dockerhost.Classify(host, "read nvidia-smi output", err)
	}
	defer rc.Close()
	var stdout, stderr bytes.Buffer
	if _, err := stdcopy.StdCopy(&stdout, &stderr, io.LimitReader(rc, 8<<20)); err != nil {
		return "", dockerhost.Classify(host, "read nvidia-smi output", err)
	}
	if status != 0 {
		return "", errNoGPU{fmt.Sprintf("no NVIDIA GPU detected on host %s: nvidia-smi exited %d: %s", host.Name, status,
			strings.TrimSpace(firstLineOf(stderr.String()+stdout.String())))}
	}
	return stdout.String(), nil
}

// noGPUStartError recognises the engine's answers when it has no way to
// hand out NVIDIA GPUs.
func noGPUStartError(err error) bool {
	msg := strings.ToLower(err.Error())
	for _, s := range []string{"could not select device driver", "nvidia-container-cli", "unknown runtime", "no nvidia", "nvidia-container-runtime"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

func pullImage(ctx context.Context, cli *client.Client, img, timeout string) error {
	d, err := time.ParseDuration(timeout)
	if err != nil || d <= 0 {
		d = 2 * time.Minute
	}
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	rc, err := cli.ImagePull(ctx, img, image.PullOptions{})
	if err != nil {
		return err
	}
	defer rc.Close()
	// The pull's progress stream carries errors as JSON messages.
	dec := json.NewDecoder(rc)
	for {
		var msg struct {
			Error string `json:"error"`
		}
		if err := dec.Decode(&msg); err == io.EOF {
			break
		} else if err != nil {
			return err
		}
		if msg.Error != "" {
			return errors.New(msg.Error)
		}
	}
	if _, err := cli.ImageInspect(ctx, img); err != nil {
		return err
	}
	return nil
}

func firstLineOf(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// mapGPUContainers finds which containers in scope hold which GPUs, from their
// device requests and NVIDIA_VISIBLE_DEVICES, and which of their processes
// nvidia-smi lists. Only that one variable of a container's environment is
// looked at, and nothing of it but the GPU list leaves this function.
func mapGPUContainers(ctx context.Context, cli *client.Client, env Env, scope string, r *report.GPUReport) error {
	containers, outOfScope, err := scopedContainers(ctx, cli, env, scope)
	if err != nil {
		return err
	}
	r.OutOfScope = outOfScope
	appPIDs := map[int]bool{}
	for _, a := range r.Apps {
		appPIDs[a.PID] = true
	}
	for _, c := range containers {
		if c.State != "running" {
			continue
		}
		info, err := cli.ContainerInspect(ctx, c.ID)
		if err != nil {
			if isNotFound(err) {
				continue
			}
			return dockerhost.Classify(env.Host, "inspect container "+containerName(c), err)
		}
		gc := report.GPUContainer{Name: containerName(c), ID: shortID(c.ID)}
		if info.HostConfig != nil {
			for _, dr := range info.HostConfig.DeviceRequests {
				if !isGPURequest(dr) {
					continue
				}
				gc.Source = "device_request"
				switch {
				case len(dr.DeviceIDs) > 0:
					gc.GPUs = append(gc.GPUs, dr.DeviceIDs...)
				case dr.Count < 0:
					gc.GPUs = append(gc.GPUs, "all")
				default:
					gc.GPUs = append(gc.GPUs, fmt.Sprintf("any %d", dr.Count))
				}
			}
		}
		if len(gc.GPUs) == 0 && info.Config != nil {
			for _, e := range info.Config.Env {
				if v, ok := strings.CutPrefix(e, "NVIDIA_VISIBLE_DEVICES="); ok && v != "" && v != "void" && v != "none" {
					gc.Source = "NVIDIA_VISIBLE_DEVICES"
					gc.GPUs = strings.Split(v, ",")
				}
			}
		}
		if len(gc.GPUs) == 0 {
			continue
		}
		if len(appPIDs) > 0 {
			// Host PIDs of the container's processes, to match nvidia-smi's.
			if top, err := cli.ContainerTop(ctx, c.ID, []string{"-eo", "pid"}); err == nil {
				for _, p := range top.Processes {
					if len(p) == 0 {
						continue
					}
					var pid int
					if _, err := fmt.Sscan(p[0], &pid); err == nil && appPIDs[pid] {
						gc.ComputePIDs = append(gc.ComputePIDs, pid)
					}
				}
			}
		}
		r.Containers = append(r.Containers, gc)
	}
	return nil
}

func isGPURequest(dr container.DeviceRequest) bool {
	if dr.Driver == "nvidia" {
		return true
	}
	for _, caps := range dr.Capabilities {
		for _, c := range caps {
			if c == "gpu" {
				return true
			}
		}
	}
	return false
}

// gpuReportResult is the task's result: summary, report and the JSON document.
func gpuReportResult(r *report.GPUReport) (*Result, error) {
	var summary string
	if r.NoGPU != "" {
		summary = r.NoGPU
	} else {
		summary = fmt.Sprintf("%d GPU(s) on %s, %d compute process(es), %d container(s) holding GPUs, %d hotspot(s)",
			len(r.GPUs), r.Host, len(r.Apps), len(r.Containers), len(r.Hotspots))
	}
	md := gpuReportMarkdown(r, summary)
	js, err := jsonArtifact("gpu_report", r)
	if err != nil {
		return nil, err
	}
	return &Result{
		Summary: summary, ReportMarkdown: md, Artifacts: []Artifact{markdownArtifact(md), js},
		Data: map[string]any{"summary": summary, "host": r.Host, "gpus": len(r.GPUs), "no_gpu": r.NoGPU != "",
			"compute_apps": len(r.Apps), "containers_with_gpus": len(r.Containers), "hotspots": len(r.Hotspots), "method": r.Method},
	}, nil
}

func fmtNum(p *float64, unit string) string {
	if p == nil {
		return "n/a"
	}
	return fmt.Sprintf("%.0f%s", *p, unit)
}

func gpuReportMarkdown(r *report.GPUReport, summary string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "## GPU report — %s\n\n%s.\n\n", r.Host, summary)
	if r.NoGPU != "" {
		return b.String()
	}
	b.WriteString("| # | name | uuid | util | memory | temp | power | MIG |\n|---:|---|---|---:|---|---:|---:|---|\n")
	for _, g := range r.GPUs {
		mem := fmt.Sprintf("%s / %s MiB", fmtNum(g.MemoryUsedMiB, ""), fmtNum(g.MemoryTotalMiB, ""))
		if p := g.MemoryPercent(); p != nil {
			mem += fmt.Sprintf(" (%.0f%%)", *p)
		}
		var migs []string
		for _, m := range g.MIG {
			migs = append(migs, m.Profile)
		}
		fmt.Fprintf(&b, "| %d | %s | `%s` | %s | %s | %s | %s | %s |\n", g.Index, mdEscape(g.Name), g.UUID,
			fmtNum(g.UtilPercent, "%"), mem, fmtNum(g.TemperatureC, "°C"), fmtNum(g.PowerDrawW, " W"), strings.Join(migs, ", "))
	}
	if len(r.Hotspots) > 0 {
		b.WriteString("\n**Hotspots**\n\n")
		for _, h := range r.Hotspots {
			fmt.Fprintf(&b, "- %s\n", mdEscape(h.Message))
		}
	}
	if len(r.Apps) > 0 {
		b.WriteString("\n| pid | process | gpu | memory |\n|---:|---|---|---:|\n")
		for _, a := range r.Apps {
			fmt.Fprintf(&b, "| %d | %s | `%s` | %s MiB |\n", a.PID, mdEscape(a.ProcessName), a.GPUUUID, fmtNum(a.UsedMemoryMiB, ""))
		}
	}
	if r.ContainersError != "" {
		fmt.Fprintf(&b, "\nContainers could not be mapped to GPUs: %s\n", mdEscape(r.ContainersError))
	}
	if len(r.Containers) > 0 {
		b.WriteString("\n| container | GPUs | from | GPU processes |\n|---|---|---|---|\n")
		for _, c := range r.Containers {
			fmt.Fprintf(&b, "| %s | %s | %s | %v |\n", mdEscape(c.Name), mdEscape(strings.Join(c.GPUs, ", ")), c.Source, c.ComputePIDs)
		}
	}
	return b.String()
}
