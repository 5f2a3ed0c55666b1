package containerspec

import "github.com/spf13/pflag"

// RegisterFlags adds --container-images and --container-mounts, which both
// binaries take: the API checks definitions with them, replicas check every
// job again before its container is created.
func RegisterFlags(f *pflag.FlagSet, p *Policy) {
	f.StringSliceVar(&p.Images, "container-images", nil,
		"image patterns container tasks may run (path.Match, comma-separated, e.g. 'postgres:16*,registry.lan/ops/*'; empty: none)")
	f.StringSliceVar(&p.Mounts, "container-mounts", nil,
		"volume names and absolute host paths container tasks may mount (comma-separated; empty: no mounts)")
}
