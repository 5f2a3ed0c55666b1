// Package web is cyberbrain's dashboard: server-rendered pages served by the
// api process beside the REST API, live through Server-Sent Events fed by one
// LISTEN per process. Everything it serves is embedded in the binary.
package web

import (
	"context"
	"errors"
	"strings"
	"sync"

	"github.com/labstack/echo/v4"
	"go.uber.org/zap"

	"github.com/cyberbrain/cyberbrain/pkg/store"
)

// Config wires the dashboard.
type Config struct {
	Store  *store.Store
	Logger *zap.Logger
	// Token is the API token; when set, pages need a session cookie that
	// /login exchanges for it. Empty: open (the API refuses non-loopback
	// addresses without a token).
	Token string
	// SecureCookies marks cookies Secure even when the request did not come
	// over TLS (set when --public-url is https behind a proxy).
	SecureCookies bool
	// HostChecker pings a host's engine for the host page's "check now";
	// nil hides the button.
	HostChecker HostChecker
}

// HostChecker pings a worker host's engine (pkg/dockerhost implements it).
type HostChecker interface {
	Health(ctx context.Context, h store.WorkerHost) (store.HostHealth, error)
}

// UI is the dashboard. Mount registers its routes; Stop ends its streams.
type UI struct {
	cfg    Config
	st     *store.Store
	log    *zap.Logger
	launch store.LaunchFunc
	pages  *pages
	hub    *hub
	keys   sessionKeys

	stopOnce sync.Once
}

// New builds the dashboard; its live-update hub starts with Mount.
func New(cfg Config) (*UI, error) {
	if cfg.Store == nil {
		return nil, errors.New("web: no store")
	}
	if cfg.Logger == nil {
		cfg.Logger = zap.NewNop()
	}
	p, err := parsePages()
	if err != nil {
		return nil, err
	}
	u := &UI{cfg: cfg, st: cfg.Store, log: cfg.Logger, pages: p, keys: newSessionKeys(cfg.Token)}
	u.hub = newHub(cfg.Store, cfg.Logger)
	return u, nil
}

// Mount registers the dashboard's routes on e and starts the hub; launch is
// the API's single launch path (its group-committing batcher).
func (u *UI) Mount(e *echo.Echo, launch store.LaunchFunc) {
	u.launch = launch
	u.hub.Start()
	u.routes(e)
}

// Stop ends the live streams and the hub's LISTEN. The API server calls it
// when it starts shutting down, so open streams do not hold the drain.
func (u *UI) Stop() { u.stopOnce.Do(u.hub.Stop) }

// Streaming says whether path answers with a long-lived stream, which the
// API's per-request database deadline must not cut.
func (u *UI) Streaming(path string) bool { return path == "/events" }

// Owns says whether path is a dashboard path (errors there are pages, not
// JSON).
func (u *UI) Owns(path string) bool {
	return path != "/api" && !strings.HasPrefix(path, "/api/") &&
		path != "/healthz" && path != "/readyz" && path != "/metrics"
}
