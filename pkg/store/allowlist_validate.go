package store

import "regexp"

// containerIDRe is a container id or id prefix as the engine prints it.
var containerIDRe = regexp.MustCompile(`^[0-9a-f]{0,64}$`)

// ValidateAllowlistEntry returns what is wrong with an allow-list entry,
// per field (empty: nothing). The REST API and the dashboard's form both
// judge entries with it.
func ValidateAllowlistEntry(e *ContainerAllowlistEntry) map[string][]string {
	fields := map[string][]string{}
	bad := func(f, m string) { fields[f] = append(fields[f], m) }
	if len(e.ContainerName) > 255 {
		bad("container_name", "must be at most 255 characters")
	}
	if !containerIDRe.MatchString(e.ContainerID) {
		bad("container_id", "must be a lower-case hex id or id prefix (at most 64)")
	}
	if e.ContainerName == "" && e.ContainerID == "" {
		bad("container_name", "give container_name and/or container_id")
	}
	return fields
}
