package store

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/cyberbrain/cyberbrain/pkg/domain"
)

// DefaultDirectiveName is the directive a launch without directive_id uses.
const DefaultDirectiveName = "default"

// LaunchRequest is a validated POST /api/runs/launch/ body.
type LaunchRequest struct {
	DirectiveID  *int64
	Tasks        []string // task keys; empty = every enabled task
	TaskIDs      []int64  // alternative to Tasks
	TargetHostID *int64
}

// RunDetail is a run with its jobs.
type RunDetail struct {
	Run
	Jobs []Job `json:"jobs"`
}

// defaultDirective returns the `default` directive, creating it on first use.
func (s *Store) defaultDirective(ctx context.Context) (*Directive, error) {
	db := s.db.WithContext(ctx)
	err := db.Exec(`INSERT INTO directives (name, description) VALUES (?, 'Created on first launch without a directive')
		ON CONFLICT (name) DO NOTHING`, DefaultDirectiveName).Error
	if err != nil {
		return nil, fmt.Errorf("create default directive: %w", err)
	}
	var d Directive
	if err := db.Where("name = ?", DefaultDirectiveName).Take(&d).Error; err != nil {
		return nil, fmt.Errorf("load default directive: %w", err)
	}
	return &d, nil
}

// resolveTasks resolves the requested task keys (or ids) to enabled
// definitions, in request order with duplicates collapsed.
func resolveTasks(all []TaskDefinition, req LaunchRequest) ([]TaskDefinition, error) {
	if len(req.Tasks) > 0 && len(req.TaskIDs) > 0 {
		return nil, domain.Invalid(map[string][]string{"tasks": {"give either tasks or task_ids, not both"}},
			"give either tasks or task_ids, not both")
	}
	byKey := map[string]TaskDefinition{}
	byID := map[int64]TaskDefinition{}
	for _, d := range all {
		byKey[d.Key], byID[d.ID] = d, d
	}
	var out []TaskDefinition
	seen := map[string]bool{}
	var unknown, disabled []string
	add := func(d TaskDefinition, ok bool, name string) {
		switch {
		case !ok:
			unknown = append(unknown, name)
		case !d.Enabled:
			disabled = append(disabled, name)
		case !seen[d.Key]:
			seen[d.Key] = true
			out = append(out, d)
		}
	}
	switch {
	case len(req.Tasks) > 0:
		for _, k := range req.Tasks {
			d, ok := byKey[k]
			add(d, ok, k)
		}
	case len(req.TaskIDs) > 0:
		for _, id := range req.TaskIDs {
			d, ok := byID[id]
			add(d, ok, fmt.Sprint(id))
		}
	default:
		for _, d := range all {
			if d.Enabled {
				out = append(out, d)
			}
		}
	}
	if len(unknown) > 0 || len(disabled) > 0 {
		var msgs []string
		if len(unknown) > 0 {
			msgs = append(msgs, "unknown task(s): "+strings.Join(unknown, ", "))
		}
		if len(disabled) > 0 {
			msgs = append(msgs, "disabled task(s): "+strings.Join(disabled, ", "))
		}
		field := "tasks"
		if len(req.TaskIDs) > 0 {
			field = "task_ids"
		}
		return nil, domain.Invalid(map[string][]string{field: msgs}, "%s", strings.Join(msgs, "; "))
	}
	if len(out) == 0 {
		return nil, domain.Invalid(map[string][]string{"tasks": {"no task definition is enabled"}}, "no task definition is enabled")
	}
	return out, nil
}

// MergeConfig returns a task's config: its default config overlaid with the
// directive's task_config entry for that task (task_config[key]) when present.
func MergeConfig(defaults, directiveConfig json.RawMessage, key string) json.RawMessage {
	merged := map[string]any{}
	_ = json.Unmarshal(defaults, &merged)
	var dc map[string]json.RawMessage
	if json.Unmarshal(directiveConfig, &dc) == nil {
		var over map[string]any
		if json.Unmarshal(dc[key], &over) == nil {
			for k, v := range over {
				merged[k] = v
			}
		}
	}
	b, _ := json.Marshal(merged)
	return b
}

// hostCandidate is a worker host with its computed load.
type hostCandidate struct {
	WorkerHost
	Running int64 `json:"running"`
}

// routeHost picks the worker host for the tasks that need Docker (docs/DESIGN.md §4):
// an explicit target must be usable (400 otherwise); else among enabled
// hosts with the capabilities, not known unhealthy, prefer healthy ones seen
// recently, then the fewest running jobs.
func (s *Store) routeHost(ctx context.Context, defs []TaskDefinition, target *int64) (*int64, error) {
	var hosts []hostCandidate
	q := s.db.WithContext(ctx).Raw(`SELECT h.*, (SELECT count(*) FROM jobs j WHERE j.worker_host_id = h.id AND j.status = 'running') AS running
		FROM worker_hosts h ORDER BY h.id`)
	if err := q.Scan(&hosts).Error; err != nil {
		return nil, fmt.Errorf("load worker hosts: %w", err)
	}
	return pickHost(hosts, defs, target)
}

// pickHost is routeHost's decision over loaded hosts.
func pickHost(hosts []hostCandidate, defs []TaskDefinition, target *int64) (*int64, error) {
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
	recent := time.Now().Add(-10 * time.Minute)
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
