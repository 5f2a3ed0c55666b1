// Package containerspec parses and checks the container spec of a container
// task definition (its default_config). The API checks a spec when it is
// defined and the replica checks it again before it creates the container,
// so a spec stored before a policy was tightened cannot slip through. It
// knows nothing of Docker: pkg/tasks turns a checked spec into an engine call.
package containerspec

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
)

// Pull policies.
const (
	PullIfNotPresent = "if-not-present"
	PullAlways       = "always"
	PullNever        = "never"
)

// Spec is a container task's default_config.
type Spec struct {
	Image   string            `json:"image"`
	Command []string          `json:"command,omitempty"`
	Env     map[string]string `json:"env,omitempty"`
	// MemoryMB and CPUs cap the container (0: the engine's default, none).
	MemoryMB int     `json:"memory_mb,omitempty"`
	CPUs     float64 `json:"cpus,omitempty"`
	// Network is "none" (the default), "bridge" or a user-defined network.
	Network string `json:"network,omitempty"`
	Pull    string `json:"pull,omitempty"`
	// KeepOnFailure keeps a failed attempt's container (renamed with its
	// attempt) for inspection instead of removing it.
	KeepOnFailure bool    `json:"keep_on_failure,omitempty"`
	Mounts        []Mount `json:"mounts,omitempty"`
	// Privileged and PID are accepted only to be refused by name: a spec that
	// asks for them should get "not allowed", not "unknown field".
	Privileged bool   `json:"privileged,omitempty"`
	PID        string `json:"pid,omitempty"`
}

// Mount is a named volume (source without a leading /) or a host path (an
// absolute source) mounted at Target; only sources the operator allows.
type Mount struct {
	Source   string `json:"source"`
	Target   string `json:"target"`
	ReadOnly bool   `json:"read_only,omitempty"`
}

// IsBind reports whether the mount is a host path rather than a volume.
func (m Mount) IsBind() bool { return len(m.Source) > 0 && m.Source[0] == '/' }

// Errors are field problems keyed by the field's path (default_config.image,
// default_config.mounts[0].source …), the shape the API's 400 answers carry.
type Errors map[string][]string

func (e Errors) add(field, format string, args ...any) {
	e[field] = append(e[field], fmt.Sprintf(format, args...))
}

// Error lists the problems on one line, fields sorted.
func (e Errors) Error() string {
	keys := make([]string, 0, len(e))
	for k := range e {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b bytes.Buffer
	for i, k := range keys {
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "%s: %v", k, e[k])
	}
	return b.String()
}

// known are the keys a spec may hold; anything else is refused by name.
var known = map[string]bool{"image": true, "command": true, "env": true, "memory_mb": true, "cpus": true,
	"network": true, "pull": true, "keep_on_failure": true, "mounts": true, "privileged": true, "pid": true}

// Parse decodes a spec strictly: every unknown key and every value of the
// wrong type is named under prefix (e.g. "default_config").
func Parse(raw json.RawMessage, prefix string) (*Spec, Errors) {
	errs := Errors{}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(raw, &keys); err != nil || keys == nil {
		errs.add(prefix, "must be a JSON object")
		return nil, errs
	}
	for k := range keys {
		if !known[k] {
			errs.add(prefix+"."+k, "unknown field")
		}
	}
	var sp Spec
	for k, v := range keys {
		if !known[k] {
			continue
		}
		one, _ := json.Marshal(map[string]json.RawMessage{k: v})
		dec := json.NewDecoder(bytes.NewReader(one))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&sp); err != nil {
			errs.add(prefix+"."+k, "has the wrong type or shape: %v", err)
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	sp.Defaults()
	return &sp, nil
}

// Defaults fills the optional fields a spec may leave out.
func (sp *Spec) Defaults() {
	if sp.Network == "" {
		sp.Network = "none"
	}
	if sp.Pull == "" {
		sp.Pull = PullIfNotPresent
	}
}
