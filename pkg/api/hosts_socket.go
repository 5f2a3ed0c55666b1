package api

import (
	"path/filepath"
	"slices"
	"strings"

	"github.com/cyberbrain/cyberbrain/pkg/domain"
	"github.com/cyberbrain/cyberbrain/pkg/store"
)

// DefaultDockerSocket is the one unix socket a docker_socket worker host may
// use unless the operator allows others (--docker-socket-allow).
const DefaultDockerSocket = "/var/run/docker.sock"

// socketAllowed reports whether a docker_socket host's base_url names a
// socket the operator allows. Without the list, any API client could make
// the API (and the schedulers) talk HTTP to any socket on the machine.
// An empty base_url is the engine's default (DOCKER_HOST), set by the
// operator, and allowed.
func (s *Server) socketAllowed(h *store.WorkerHost) bool {
	if h.Type != domain.HostDockerSocket || h.BaseURL == "" {
		return true
	}
	p, ok := strings.CutPrefix(h.BaseURL, "unix://")
	if !ok || !filepath.IsAbs(p) || strings.ContainsAny(p, "?#") {
		return false
	}
	return slices.Contains(s.sockets, filepath.Clean(p))
}

// cleanSockets returns the allowed socket paths, cleaned; nil allows the
// default socket only.
func cleanSockets(paths []string) []string {
	if len(paths) == 0 {
		paths = []string{DefaultDockerSocket}
	}
	out := make([]string, 0, len(paths))
	for _, p := range paths {
		if p = strings.TrimPrefix(strings.TrimSpace(p), "unix://"); p != "" {
			out = append(out, filepath.Clean(p))
		}
	}
	return out
}

// applyHost is hostInput.apply plus the socket rule, which needs the
// server's configuration.
func (s *Server) applyHost(in *hostInput, h *store.WorkerHost, full bool) error {
	if err := in.apply(h, full); err != nil {
		return err
	}
	if !s.socketAllowed(h) {
		return fieldError("base_url", "is not a socket path this API allows (the operator lists them with --docker-socket-allow)")
	}
	return nil
}
