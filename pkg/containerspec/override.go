package containerspec

import (
	"encoding/json"
	"maps"
	"reflect"
)

// Overridable are the keys a launch's or directive's task_config may change;
// the rest of a job's config must equal the definition's, so a directive
// cannot swap the image, add a mount or lift a limit the API checked.
var Overridable = []string{"command", "env"}

// ForJob builds the spec a job runs: the definition's spec (def, with its
// write-only env) overlaid with the job's config, which holds the default
// config merged with the directive's task_config. Only command and env may
// differ; job env keys win over the definition's.
func ForJob(def *Spec, defEnv map[string]string, jobConfig json.RawMessage) (*Spec, error) {
	job, errs := Parse(jobConfig, "config")
	if errs != nil {
		return nil, errs
	}
	a, b := *def, *job
	a.Command, a.Env, b.Command, b.Env = nil, nil, nil, nil
	if !reflect.DeepEqual(normal(a), normal(b)) {
		return nil, Errors{"task_config": {"may override only command and env of a container task"}}
	}
	out := *def
	out.Env = map[string]string{}
	maps.Copy(out.Env, defEnv)
	maps.Copy(out.Env, job.Env)
	if job.Command != nil {
		out.Command = job.Command
	}
	return &out, nil
}

// normal makes empty and nil mount lists compare equal.
func normal(s Spec) Spec {
	if len(s.Mounts) == 0 {
		s.Mounts = nil
	}
	return s
}
