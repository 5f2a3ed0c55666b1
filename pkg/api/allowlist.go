package api

import (
	"encoding/json"

	"github.com/cyberbrain/cyberbrain/pkg/store"
)

// allowlistInput is a container allow-list create/edit body.
type allowlistInput struct {
	WorkerHostID  Opt[int64]    `json:"worker_host_id"`
	ContainerName Opt[string]   `json:"container_name"`
	ContainerID   Opt[string]   `json:"container_id"`
	Description   Opt[string]   `json:"description"`
	Enabled       Opt[bool]     `json:"enabled"`
	Tags          Opt[[]string] `json:"tags"`
	readOnly
}

func (in *allowlistInput) apply(e *store.ContainerAllowlistEntry, full bool) error {
	if full {
		*e = store.ContainerAllowlistEntry{ID: e.ID, Enabled: true, Tags: json.RawMessage(`[]`)}
	}
	fields := map[string][]string{}
	bad := func(f, m string) { fields[f] = append(fields[f], m) }
	if in.WorkerHostID.Set {
		e.WorkerHostID = nil
		if !in.WorkerHostID.Null {
			if in.WorkerHostID.V <= 0 {
				bad("worker_host_id", "must be a positive integer id (or null for every host)")
			}
			v := in.WorkerHostID.V
			e.WorkerHostID = &v
		}
	}
	if in.ContainerName.Set {
		e.ContainerName = in.ContainerName.V
	}
	if in.ContainerID.Set {
		e.ContainerID = in.ContainerID.V
	}
	if in.Description.Set {
		e.Description = in.Description.V
	}
	if in.Enabled.Set && !in.Enabled.Null {
		e.Enabled = in.Enabled.V
	}
	if in.Tags.Set {
		tags := in.Tags.V
		if tags == nil {
			tags = []string{}
		}
		b, _ := json.Marshal(tags)
		e.Tags = b
	}
	for f, msgs := range store.ValidateAllowlistEntry(e) {
		fields[f] = append(fields[f], msgs...)
	}
	if len(fields) > 0 {
		return badRequest(fields, "invalid allow-list entry")
	}
	return nil
}

// allowlist serves /api/container-allowlist.
func (s *Server) allowlist() collection {
	return crud[store.ContainerAllowlistEntry, allowlistInput]{
		list: s.st.ListAllowlist, get: s.st.GetAllowlistEntry, create: s.st.SaveAllowlistEntry,
		update: s.st.SaveAllowlistEntry, remove: s.st.DeleteAllowlistEntry, apply: (*allowlistInput).apply,
	}.collection(s)
}
