// Package api is cyberbrain's REST API (Echo). It writes rows through the
// store and never executes tasks.
package api

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"go.uber.org/zap"

	"github.com/cyberbrain/cyberbrain/pkg/containerspec"
	"github.com/cyberbrain/cyberbrain/pkg/launcher"
	"github.com/cyberbrain/cyberbrain/pkg/notify"
	"github.com/cyberbrain/cyberbrain/pkg/outage"
	"github.com/cyberbrain/cyberbrain/pkg/store"
)

// MaxBodyBytes is the largest request body accepted (413 beyond).
const MaxBodyBytes = 1 << 20

// HostChecker pings a worker host's engine (pkg/dockerhost implements it).
type HostChecker interface {
	Health(ctx context.Context, h store.WorkerHost) (store.HostHealth, error)
}

// Config wires the API server.
type Config struct {
	Store  *store.Store
	Logger *zap.Logger
	Addr   string
	// PublicURL is the base of the links the API writes (next/previous),
	// e.g. https://cyberbrain.example.com; empty = http://<Addr>.
	PublicURL      string
	APIToken       string
	InsecureNoAuth bool
	// HostChecker serves GET /api/worker-hosts/{id}/health/?check=true;
	// nil answers 503.
	HostChecker HostChecker
	// SocketPaths are the unix sockets a docker_socket worker host may name
	// (--docker-socket-allow); empty = DefaultDockerSocket only.
	SocketPaths []string
	// MetricsHandler serves GET /metrics (open, like /healthz); nil = 404.
	MetricsHandler http.Handler
	// Middleware runs on every request after the request id is assigned
	// (e.g. Prometheus instrumentation).
	Middleware []echo.MiddlewareFunc
	// DBTimeout is the deadline of each request's work (--db-timeout): past
	// it the client gets 503 "database unavailable". 0: none.
	DBTimeout time.Duration
	// Launcher creates launches; nil group-commits them through a
	// launcher.Batcher over the store, started by New and stopped by Close.
	Launcher Launcher
	// ContainerPolicy bounds what container task definitions may ask for
	// (allowed images and mounts); the zero value allows no image.
	ContainerPolicy containerspec.Policy
	// Notifier sends the test messages of POST
	// /api/notification-channels/{id}/test/; nil: a default notify.Sender.
	Notifier *notify.Sender
	// Dashboard is the web UI served on the same port (pkg/web); nil: none.
	Dashboard Dashboard
}

// Dashboard is a web UI mounted beside the API. Its pages share the
// server's request log, request ids and panic recovery; the API's JSON-only
// checks apply to /api/ alone.
type Dashboard interface {
	// Mount registers its routes; launch is the server's one launch path.
	Mount(e *echo.Echo, launch store.LaunchFunc)
	// Owns says whether a path is the dashboard's (its errors are pages).
	Owns(path string) bool
	// Error renders an error of one of its paths.
	Error(err error, c echo.Context)
	// Streaming says whether a path is a long-lived stream, exempt from the
	// per-request database deadline.
	Streaming(path string) bool
	// Stop ends its streams; called when the server begins to shut down.
	Stop()
}

// Launcher creates a launch's run (pkg/launcher's Batcher, or the store).
type Launcher interface {
	Launch(ctx context.Context, req store.LaunchRequest) (*store.RunDetail, error)
}

// Server is the HTTP API.
type Server struct {
	cfg      Config
	owned    *launcher.Batcher // the batcher New started, if any
	outage   *outage.Reporter  // database outages: a warning per few seconds
	echo     *echo.Echo
	log      *zap.Logger
	st       *store.Store
	routes   []route
	linkBase *url.URL // see links.go
	sockets  []string // allowed docker sockets, cleaned
	// queries maps "METHOD /path" of each route to its query parameters.
	queries map[string][]string
}

// New builds the server and its routes.
func New(cfg Config) (*Server, error) {
	if cfg.Logger == nil {
		cfg.Logger = zap.NewNop()
	}
	if cfg.Store == nil {
		return nil, errors.New("api: no store")
	}
	if cfg.APIToken == "" && !cfg.InsecureNoAuth && cfg.Addr != "" && !isLoopback(cfg.Addr) {
		return nil, fmt.Errorf("refusing to listen on %s without an API token: set CYBERBRAIN_API_TOKEN or pass --insecure-no-auth", cfg.Addr)
	}
	base, err := linkBase(cfg.PublicURL, cfg.Addr)
	if err != nil {
		return nil, err
	}
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	s := &Server{cfg: cfg, echo: e, log: cfg.Logger, st: cfg.Store, queries: map[string][]string{}, linkBase: base,
		sockets: cleanSockets(cfg.SocketPaths), outage: outage.New(cfg.Logger, "database", outage.DefaultEvery)}
	if s.cfg.Launcher == nil {
		// A batch of launches gets the same deadline as a request.
		s.owned = launcher.New(cfg.Store.LaunchBatch, launcher.Config{Timeout: cfg.DBTimeout})
		s.owned.Start(context.Background())
		s.cfg.Launcher = s.owned
	}
	e.HTTPErrorHandler = s.handleError
	// Trailing slash optional everywhere: routes are registered without it
	// and the request path loses it before routing.
	e.Pre(middleware.RemoveTrailingSlash())
	e.Use(middleware.RequestID())
	e.Use(s.logRequests)
	e.Use(s.deadline)
	e.Use(middleware.RecoverWithConfig(middleware.RecoverConfig{
		DisableStackAll:   true,
		DisablePrintStack: true,
		LogErrorFunc: func(c echo.Context, err error, stack []byte) error {
			s.log.Error("panic serving request", zap.Error(err), zap.String("request_id", requestID(c)),
				zap.String("method", c.Request().Method), zap.String("path", c.Path()), zap.ByteString("stack", stack))
			return errInternal
		},
	}))
	e.Use(cfg.Middleware...)
	e.Use(middleware.BodyLimit(fmt.Sprint(MaxBodyBytes)))
	e.Use(s.authenticate)
	e.Use(s.checkQuery, s.checkContentType)
	s.register()
	if cfg.Dashboard != nil {
		cfg.Dashboard.Mount(e, s.cfg.Launcher.Launch)
	}
	return s, nil
}

// Close stops what New started (the launch batcher), after answering the
// launches already queued. Serve calls it once requests are drained.
func (s *Server) Close() {
	if s.cfg.Dashboard != nil {
		s.cfg.Dashboard.Stop()
	}
	if s.owned != nil {
		s.owned.Stop()
	}
}

// Handler returns the HTTP handler (for tests and embedding).
func (s *Server) Handler() http.Handler { return s.echo }

// Run serves until ctx is done, then drains for up to shutdownTimeout.
func (s *Server) Run(ctx context.Context, shutdownTimeout time.Duration) error {
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", s.cfg.Addr, err)
	}
	return s.Serve(ctx, ln, shutdownTimeout)
}

// Serve serves on ln until ctx is done, then drains for up to shutdownTimeout.
func (s *Server) Serve(ctx context.Context, ln net.Listener, shutdownTimeout time.Duration) error {
	defer s.Close()
	srv := &http.Server{
		Handler:           s.echo,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
	if s.cfg.Dashboard != nil {
		// Open event streams would otherwise hold the drain to its timeout.
		srv.RegisterOnShutdown(s.cfg.Dashboard.Stop)
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	s.log.Info("API shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
