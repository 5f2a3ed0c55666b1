// Package declarative is `cyberbrain apply` and `cyberbrain export`: a YAML
// file names directives, task settings, worker hosts, schedules and
// allow-list entries; Plan compares it with a running system through the API
// (matching by name), Apply carries the plan out, Export writes a running
// system back in the same format.
//
// Semantics. Every kind but tasks is described in full: a field the file
// leaves out takes the value a fresh create would give it, so deleting a line
// resets the field. Task definitions are seeded by cyberbrain and only tuned
// by the file: only the fields it gives are managed, and prune never deletes
// one. Prune deletes, in each section the file has (an empty `schedules: []`
// included), what the section no longer names. Schedules named launch-run-…
// belong to launches and are neither exported nor pruned.
package declarative

// field is one managed field of a kind, in the file's terms.
type field struct {
	name      string // in the file
	api       string // in the API, when it differs
	def       any    // value of an absent field (full kinds); JSON-normal
	ref       string // the value is the name of an object of this section; the API holds its id
	writeOnly bool   // sent on create, never read back (TLS material)
}

func (f field) apiName() string {
	if f.api != "" {
		return f.api
	}
	return f.name
}

// kind is one section of the file and the API collection behind it.
type kind struct {
	section  string
	noun     string // for the plan: "schedule \"nightly\""
	path     string
	key      []string // identity fields (file names)
	fields   []field
	partial  bool // only the fields the file gives are managed
	noPrune  bool
	internal func(apiObj map[string]any) bool // objects apply and export leave alone
}

// kinds are in dependency order: a schedule or allow-list entry names hosts
// and directives, so those are created first and deleted last.
var kinds = []*kind{
	{section: "worker_hosts", noun: "worker host", path: "/api/worker-hosts/", key: []string{"name"}, fields: []field{
		{name: "name"},
		{name: "type", def: "docker_socket"},
		{name: "base_url", def: ""},
		{name: "tls_verify", def: true},
		{name: "capabilities", def: map[string]any{}},
		{name: "enabled", def: true},
		{name: "tls_ca", writeOnly: true},
		{name: "tls_cert", writeOnly: true},
		{name: "tls_key", writeOnly: true},
	}},
	{section: "directives", noun: "directive", path: "/api/directives/", key: []string{"name"}, fields: []field{
		{name: "name"},
		{name: "description", def: ""},
		{name: "task_config", def: map[string]any{}},
	}},
	{section: "tasks", noun: "task", path: "/api/tasks/", key: []string{"key"}, partial: true, noPrune: true, fields: []field{
		{name: "key"},
		{name: "name"},
		{name: "description"},
		{name: "enabled"},
		{name: "default_config"},
		{name: "max_concurrent"},
		{name: "timeout_seconds"},
		{name: "max_attempts"},
		{name: "needs_docker"},
		{name: "needs_gpu"},
	}},
	{section: "schedules", noun: "schedule", path: "/api/schedules/", key: []string{"name"}, fields: []field{
		{name: "name"},
		{name: "task", api: "task_key", def: ""},
		{name: "directive", api: "directive_id", ref: "directives"},
		{name: "custom_directive_text", def: ""},
		{name: "target_host", api: "target_host_id", ref: "worker_hosts"},
		{name: "enabled", def: true},
		{name: "schedule_type", def: ""},
		{name: "interval_minutes"},
		{name: "cron_expr", def: ""},
		{name: "timezone", def: "UTC"},
		{name: "max_global"},
		{name: "max_per_job"},
	}, internal: func(o map[string]any) bool {
		name, _ := o["name"].(string)
		return len(name) > len(launchPrefix) && name[:len(launchPrefix)] == launchPrefix
	}},
	{section: "allowlist", noun: "allow-list entry", path: "/api/container-allowlist/",
		key: []string{"host", "container_name", "container_id"}, fields: []field{
			{name: "host", api: "worker_host_id", ref: "worker_hosts"},
			{name: "container_name", def: ""},
			{name: "container_id", def: ""},
			{name: "description", def: ""},
			{name: "enabled", def: true},
			{name: "tags", def: []any{}},
		}},
}

// launchPrefix names the one-shot schedules a launch creates (store's
// `launch-run-{run}-{task}`): operational records, not configuration.
const launchPrefix = "launch-run-"

func kindOf(section string) *kind {
	for _, k := range kinds {
		if k.section == section {
			return k
		}
	}
	return nil
}

func (k *kind) field(name string) (field, bool) {
	for _, f := range k.fields {
		if f.name == name {
			return f, true
		}
	}
	return field{}, false
}
