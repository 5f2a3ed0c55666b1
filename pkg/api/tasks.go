package api

import (
	"encoding/json"
	"regexp"

	"github.com/cyberbrain/cyberbrain/pkg/containerspec"
	"github.com/cyberbrain/cyberbrain/pkg/store"
)

var taskKeyRe = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)

// taskInput is a task definition create/edit body.
type taskInput struct {
	Key            Opt[string]          `json:"key"`
	Name           Opt[string]          `json:"name"`
	Description    Opt[string]          `json:"description"`
	Enabled        Opt[bool]            `json:"enabled"`
	DefaultConfig  Opt[json.RawMessage] `json:"default_config"`
	MaxConcurrent  Opt[int]             `json:"max_concurrent"`
	TimeoutSeconds Opt[int]             `json:"timeout_seconds"`
	MaxAttempts    Opt[int]             `json:"max_attempts"`
	NeedsDocker    Opt[bool]            `json:"needs_docker"`
	NeedsGPU       Opt[bool]            `json:"needs_gpu"`
	Kind           Opt[string]          `json:"kind"`
	readOnly
}

func (in *taskInput) apply(d *store.TaskDefinition, full bool, pol containerspec.Policy) error {
	oldEnv := d.ContainerEnv
	if full {
		*d = store.TaskDefinition{ID: d.ID, Enabled: true, DefaultConfig: json.RawMessage(`{}`),
			TimeoutSeconds: 300, MaxAttempts: 3, NeedsDocker: true}
	}
	fields := map[string][]string{}
	bad := func(f, m string) { fields[f] = append(fields[f], m) }
	if in.Key.Set {
		d.Key = in.Key.V
	}
	if !taskKeyRe.MatchString(d.Key) {
		bad("key", "is required: lower-case letters, digits and _, starting with a letter, at most 64")
	}
	setStr := func(o Opt[string], dst *string) {
		if o.Set {
			*dst = o.V
		}
	}
	setStr(in.Name, &d.Name)
	setStr(in.Description, &d.Description)
	setIf(in.Enabled, &d.Enabled)
	setIf(in.NeedsDocker, &d.NeedsDocker)
	setIf(in.NeedsGPU, &d.NeedsGPU)
	if in.DefaultConfig.Set {
		if in.DefaultConfig.Null {
			d.DefaultConfig = json.RawMessage(`{}`)
		} else if err := jsonObject("default_config", in.DefaultConfig.V); err != nil {
			return err
		} else {
			d.DefaultConfig = in.DefaultConfig.V
		}
	}
	if in.MaxConcurrent.Set {
		d.MaxConcurrent = nil
		if !in.MaxConcurrent.Null {
			v := in.MaxConcurrent.V
			if v <= 0 || v > maxLimit {
				bad("max_concurrent", "must be a positive integer up to 1000000 (or null for unlimited)")
			}
			d.MaxConcurrent = &v
		}
	}
	if in.TimeoutSeconds.Set && !in.TimeoutSeconds.Null {
		d.TimeoutSeconds = in.TimeoutSeconds.V
	}
	if d.TimeoutSeconds <= 0 || d.TimeoutSeconds > 7*24*3600 {
		bad("timeout_seconds", "must be from 1 to 604800 seconds")
	}
	if in.MaxAttempts.Set && !in.MaxAttempts.Null {
		d.MaxAttempts = in.MaxAttempts.V
	}
	if d.MaxAttempts < 1 || d.MaxAttempts > 100 {
		bad("max_attempts", "must be from 1 to 100")
	}
	for f, msgs := range applyKind(in, d, full, oldEnv, pol, bad) {
		fields[f] = append(fields[f], msgs...)
	}
	if len(fields) > 0 {
		return badRequest(fields, "invalid task definition")
	}
	return nil
}

// tasks serves /api/tasks.
func (s *Server) tasks() collection {
	return crud[store.TaskDefinition, taskInput]{
		list: s.st.ListTasks, get: s.st.GetTask, create: s.st.CreateTask,
		update: s.st.UpdateTask, remove: s.st.DeleteTask,
		apply: func(in *taskInput, d *store.TaskDefinition, full bool) error {
			return in.apply(d, full, s.cfg.ContainerPolicy)
		},
	}.collection(s)
}
