package api

import (
	"context"

	"go.uber.org/zap"

	"github.com/cyberbrain/cyberbrain/pkg/dockerhost"
	"github.com/cyberbrain/cyberbrain/pkg/store"
)

// checkHost runs a health check for GET …/health/?check=true. The answer
// (and what is recorded) says only the error's class; the raw error goes to
// the log, where the operator reads it and an API client cannot.
func (s *Server) checkHost(ctx context.Context, h *store.WorkerHost) (store.HostHealth, error) {
	log := s.log.With(zap.Int64("worker_host_id", h.ID), zap.String("worker_host", h.Name))
	if !s.socketAllowed(h) {
		// Stored before the socket list was configured: never contacted.
		log.Warn("worker host names a socket path this API does not allow", zap.String("base_url", h.BaseURL))
		return store.HostHealth{Error: "socket path not allowed"}, nil
	}
	res, err := s.cfg.HostChecker.Health(ctx, *h)
	if err != nil {
		// No verdict: the engine was not reached, which is what an unhealthy
		// result records.
		res = store.HostHealth{Error: dockerhost.ClassUnreachable, Detail: err.Error()}
	}
	if !res.Healthy {
		log.Warn("worker host health check failed", zap.String("error", res.Error), zap.String("detail", res.Detail))
	}
	return res, nil
}
