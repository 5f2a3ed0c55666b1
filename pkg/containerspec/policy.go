package containerspec

import (
	"fmt"
	"path"
	"regexp"
	"strings"
)

// Policy is what the operator allows container tasks (flags
// --container-images and --container-mounts of both binaries).
type Policy struct {
	// Images are path.Match patterns over image references
	// ("registry.lan/backup/*", "postgres:16*"). Empty: no image is
	// allowed, so container tasks stay off until the operator opts in.
	Images []string
	// Mounts are the volume names and absolute host paths a task may mount;
	// a host path also allows the paths below it.
	Mounts []string
}

// CheckPatterns reports the first image pattern path.Match cannot parse.
func CheckPatterns(patterns []string) error {
	for _, p := range patterns {
		if _, err := path.Match(p, ""); err != nil || strings.TrimSpace(p) == "" {
			return fmt.Errorf("image pattern %q is not a valid pattern", p)
		}
	}
	return nil
}

var (
	envKeyRe  = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	networkRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$`)
)

// Check returns every way sp breaks the policy or the spec's own rules,
// keyed under prefix; nil when it may run.
func (p Policy) Check(sp *Spec, prefix string) Errors {
	errs := Errors{}
	f := func(name string) string { return prefix + "." + name }
	switch {
	case strings.TrimSpace(sp.Image) == "":
		errs.add(f("image"), "is required")
	case !p.ImageAllowed(sp.Image):
		errs.add(f("image"), "%q is not on the image allow-list (--container-images)", sp.Image)
	}
	for k := range sp.Env {
		if !envKeyRe.MatchString(k) {
			errs.add(f("env"), "%q is not a valid variable name", k)
		}
	}
	if sp.MemoryMB < 0 || sp.MemoryMB > 1<<20 {
		errs.add(f("memory_mb"), "must be from 6 to 1048576 (or 0 for no limit)")
	} else if sp.MemoryMB > 0 && sp.MemoryMB < 6 {
		errs.add(f("memory_mb"), "must be from 6 to 1048576 (or 0 for no limit): the engine refuses less than 6 MB")
	}
	if sp.CPUs < 0 || sp.CPUs > 1024 {
		errs.add(f("cpus"), "must be from 0.01 to 1024 (or 0 for no limit)")
	}
	switch n := sp.Network; {
	case n == "host":
		errs.add(f("network"), "the host network namespace is not allowed")
	case strings.HasPrefix(n, "container:"):
		errs.add(f("network"), "sharing another container's network namespace is not allowed")
	case !networkRe.MatchString(n):
		errs.add(f("network"), "%q is not a network name (none, bridge or a user-defined network)", n)
	}
	if sp.Pull != PullIfNotPresent && sp.Pull != PullAlways && sp.Pull != PullNever {
		errs.add(f("pull"), "must be %s, %s or %s", PullIfNotPresent, PullAlways, PullNever)
	}
	if sp.Privileged {
		errs.add(f("privileged"), "privileged containers are not allowed")
	}
	if sp.PID != "" {
		errs.add(f("pid"), "sharing a PID namespace (%q) is not allowed", sp.PID)
	}
	for i, m := range sp.Mounts {
		p.checkMount(errs, fmt.Sprintf("%s[%d]", f("mounts"), i), m)
	}
	if len(errs) == 0 {
		return nil
	}
	return errs
}

func (p Policy) checkMount(errs Errors, at string, m Mount) {
	if m.Source == "" {
		errs.add(at+".source", "is required")
	} else if !p.mountAllowed(m.Source) {
		errs.add(at+".source", "%q is not an allowed mount (--container-mounts)", m.Source)
	}
	if !path.IsAbs(m.Target) || path.Clean(m.Target) == "/" {
		errs.add(at+".target", "must be an absolute path other than /")
	}
}

// ImageAllowed reports whether ref matches an allow-list pattern. A
// reference without a tag or digest is also tried as ref:latest, which is
// what the engine runs.
func (p Policy) ImageAllowed(ref string) bool {
	cands := []string{ref}
	if !strings.Contains(ref, "@") && !strings.Contains(path.Base(ref), ":") {
		cands = append(cands, ref+":latest")
	}
	for _, pat := range p.Images {
		for _, c := range cands {
			if ok, _ := path.Match(pat, c); ok {
				return true
			}
		}
	}
	return false
}

func (p Policy) mountAllowed(src string) bool {
	bind := src[0] == '/'
	if bind {
		src = path.Clean(src)
	}
	for _, a := range p.Mounts {
		if a == src {
			return true
		}
		if bind && strings.HasPrefix(a, "/") && strings.HasPrefix(src, strings.TrimSuffix(path.Clean(a), "/")+"/") {
			return true
		}
	}
	return false
}
