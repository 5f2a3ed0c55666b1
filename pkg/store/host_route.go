package store

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/cyberbrain/cyberbrain/pkg/domain"
)

// hostCandidate is a worker host with its computed load.
type hostCandidate struct {
	WorkerHost
	Running int64 `json:"running"`
}

// pickHost picks the worker host for the tasks that need Docker
// (docs/DESIGN.md §8): an explicit target must be usable (400 otherwise); else
// among enabled hosts with the capabilities, not known unhealthy, prefer
// healthy ones seen in the 10 minutes before now (the database clock, which
// stamped last_seen_at), then the fewest running jobs.
func pickHost(hosts []hostCandidate, defs []TaskDefinition, target *int64, now time.Time) (*int64, error) {
	needDocker, needGPU := false, false
	for _, d := range defs {
		needDocker = needDocker || d.NeedsDocker
		needGPU = needGPU || d.NeedsGPU
	}
	if !needDocker {
		// No Docker needed: an explicit target must still exist and be usable.
		if target == nil {
			return nil, nil
		}
		needGPU = false
	}
	if target != nil {
		for _, h := range hosts {
			if h.ID == *target {
				if why := unusable(h.WorkerHost, needGPU); why != "" {
					return nil, domain.Invalid(map[string][]string{"target_host_id": {why}}, "%s", why)
				}
				return target, nil
			}
		}
		return nil, domain.Invalid(map[string][]string{"target_host_id": {"worker host not found"}},
			"worker host %d not found", *target)
	}
	var ok []hostCandidate
	var reasons []string
	for _, h := range hosts {
		if why := unusable(h.WorkerHost, needGPU); why != "" {
			reasons = append(reasons, why)
			continue
		}
		ok = append(ok, h)
	}
	if len(ok) == 0 {
		msg := "no usable worker host"
		if len(reasons) > 0 {
			msg += ": " + strings.Join(reasons, "; ")
		}
		return nil, domain.Invalid(map[string][]string{"target_host_id": {msg}}, "%s", msg)
	}
	recent := now.Add(-10 * time.Minute)
	rank := func(h hostCandidate) int {
		switch {
		case h.Healthy != nil && *h.Healthy && h.LastSeenAt != nil && h.LastSeenAt.After(recent):
			return 0
		case h.Healthy != nil && *h.Healthy:
			return 1
		default: // never checked yet: usable
			return 2
		}
	}
	sort.SliceStable(ok, func(i, j int) bool {
		if ri, rj := rank(ok[i]), rank(ok[j]); ri != rj {
			return ri < rj
		}
		return ok[i].Running < ok[j].Running
	})
	return &ok[0].ID, nil
}

// unusable says why a host cannot take a launch, or "" when it can.
func unusable(h WorkerHost, needGPU bool) string {
	if !h.Enabled {
		return fmt.Sprintf("worker host %q is disabled", h.Name)
	}
	if h.Healthy != nil && !*h.Healthy {
		msg := fmt.Sprintf("worker host %q is unhealthy", h.Name)
		if h.LastError != "" {
			msg += " (" + h.LastError + ")"
		}
		return msg
	}
	if needGPU {
		var caps HostCapabilities
		_ = json.Unmarshal(h.Capabilities, &caps)
		if caps.GPUs != nil && *caps.GPUs <= 0 {
			return fmt.Sprintf("worker host %q lacks a GPU (capabilities.gpus = 0), needed by gpu_report", h.Name)
		}
	}
	return ""
}
