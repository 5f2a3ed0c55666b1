package dockerhost

import (
	"strings"

	"github.com/cyberbrain/cyberbrain/pkg/store"
)

// Allowlist decides which containers of a host tasks may read.
type Allowlist struct {
	entries []store.ContainerAllowlistEntry
}

// NewAllowlist wraps the enabled entries that apply to one host
// (store.AllowlistForHost).
func NewAllowlist(entries []store.ContainerAllowlistEntry) Allowlist {
	return Allowlist{entries: entries}
}

// Len is the number of entries.
func (a Allowlist) Len() int { return len(a.entries) }

// Allows reports whether a container may be read. name may carry Docker's
// leading '/'. An entry naming both a container name and an id prefix needs
// both to match; an entry naming one needs that one.
func (a Allowlist) Allows(name, id string) bool {
	name = strings.TrimPrefix(name, "/")
	id = strings.ToLower(id)
	for _, e := range a.entries {
		if !e.Enabled {
			continue
		}
		if e.ContainerName == "" && e.ContainerID == "" {
			continue
		}
		if e.ContainerName != "" && strings.TrimPrefix(e.ContainerName, "/") != name {
			continue
		}
		if e.ContainerID != "" && (id == "" || !strings.HasPrefix(id, strings.ToLower(e.ContainerID))) {
			continue
		}
		return true
	}
	return false
}

// AllowsAny reports whether any of a container's names (Docker lists them
// with a leading '/') is allowed.
func (a Allowlist) AllowsAny(names []string, id string) bool {
	for _, n := range names {
		if a.Allows(n, id) {
			return true
		}
	}
	return len(names) == 0 && a.Allows("", id)
}
