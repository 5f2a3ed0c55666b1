package api

import (
	"encoding/json"
	"slices"

	"github.com/cyberbrain/cyberbrain/pkg/containerspec"
	"github.com/cyberbrain/cyberbrain/pkg/domain"
	"github.com/cyberbrain/cyberbrain/pkg/store"
)

// applyKind sets the definition's kind and, for a container task, checks its
// spec against the operator's policy and moves its env out of default_config
// into the write-only column. oldEnv is the stored env: a body without
// default_config.env keeps it, since clients can never read it back.
func applyKind(in *taskInput, d *store.TaskDefinition, full bool, oldEnv json.RawMessage, pol containerspec.Policy, bad func(f, m string)) map[string][]string {
	if full {
		d.Kind = domain.TaskBuiltin
	}
	if in.Kind.Set && !in.Kind.Null {
		d.Kind = domain.TaskKind(in.Kind.V)
	}
	d.ContainerEnv = oldEnv
	if !d.Kind.Valid() {
		bad("kind", "must be builtin or container")
		return nil
	}
	if d.Kind != domain.TaskContainer {
		d.ContainerEnv = json.RawMessage(`{}`)
		return nil
	}
	if slices.Contains(domain.BuiltinTaskKeys, d.Key) {
		bad("key", "is the key of a built-in task; a container task needs its own")
	}
	if in.NeedsDocker.Set && !in.NeedsDocker.Null && !in.NeedsDocker.V {
		bad("needs_docker", "a container task needs a Docker engine")
	}
	d.NeedsDocker = true
	spec, errs := containerspec.Parse(d.DefaultConfig, "default_config")
	if errs == nil {
		errs = pol.Check(spec, "default_config")
	}
	if errs != nil {
		return errs
	}
	var keys map[string]json.RawMessage
	_ = json.Unmarshal(d.DefaultConfig, &keys) // Parse accepted it as an object
	if envRaw, ok := keys["env"]; ok {
		delete(keys, "env")
		d.ContainerEnv = envRaw
		if spec.Env == nil {
			d.ContainerEnv = json.RawMessage(`{}`)
		}
		d.DefaultConfig, _ = json.Marshal(keys)
	}
	if len(d.ContainerEnv) == 0 {
		d.ContainerEnv = json.RawMessage(`{}`)
	}
	return nil
}
