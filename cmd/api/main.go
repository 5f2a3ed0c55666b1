// Command api serves cyberbrain's REST API. It writes rows and answers; it
// never executes a task.
package main

// The configuration reference, docs/CONFIGURATION.md, is rendered from the flags.
//go:generate env CYBERBRAIN_UPDATE_DOCS=1 go test -run ^TestConfigurationReference$ .

import (
	"context"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/spf13/cobra"
	"go.uber.org/zap"

	"github.com/cyberbrain/cyberbrain/pkg/api"
	"github.com/cyberbrain/cyberbrain/pkg/cmdutil"
	"github.com/cyberbrain/cyberbrain/pkg/containerspec"
	"github.com/cyberbrain/cyberbrain/pkg/dockerhost"
	"github.com/cyberbrain/cyberbrain/pkg/metrics"
	"github.com/cyberbrain/cyberbrain/pkg/store"
	"github.com/cyberbrain/cyberbrain/pkg/version"
	"github.com/cyberbrain/cyberbrain/pkg/web"
)

type options struct {
	cmdutil.Common
	addr           string
	apiToken       string
	insecureNoAuth bool
	publishedBind  string
	publicURL      string
	socketPaths    []string
	shutdown       time.Duration
	containers     containerspec.Policy
	noDashboard    bool
}

func main() { cmdutil.Execute(newRootCmd()) }

func newRootCmd() *cobra.Command {
	o := &options{}
	cmd := &cobra.Command{
		Use:     "api",
		Short:   "cyberbrain REST API server",
		Version: version.String(),
		RunE:    func(cmd *cobra.Command, _ []string) error { return serve(cmd.Context(), o) },
	}
	f := cmd.Flags()
	o.Register(cmd.PersistentFlags(), f, 32)
	f.StringVar(&o.addr, "addr", "127.0.0.1:9595", "listen address")
	f.StringVar(&o.apiToken, "api-token", "", "bearer token required on /api/ (empty: no auth, loopback only)")
	f.BoolVar(&o.insecureNoAuth, "insecure-no-auth", false, "allow listening on a non-loopback address without a token")
	f.StringVar(&o.publishedBind, "published-bind", "", "host address a container runtime publishes --addr on (compose sets it); loopback allows a non-loopback --addr without a token")
	f.StringVar(&o.publicURL, "public-url", "", "base of the links the API writes (next/previous), e.g. https://cyberbrain.example.com (empty: http://--addr)")
	f.StringSliceVar(&o.socketPaths, "docker-socket-allow", []string{api.DefaultDockerSocket}, "unix socket paths a docker_socket worker host may use (comma-separated)")
	cmdutil.DurationFlag(f, &o.shutdown, "shutdown-timeout", 15*time.Second, "how long to drain requests on SIGTERM")
	f.BoolVar(&o.noDashboard, "no-dashboard", false, "serve the REST API only, without the web dashboard on / (same port, same token)")
	containerspec.RegisterFlags(f, &o.containers)
	cmd.AddCommand(newMigrateCmd(o), newHealthcheckCmd())
	return cmd
}

func serve(ctx context.Context, o *options) error {
	if err := o.check(); err != nil {
		return err
	}
	// Decided before the database is opened: a refusal should be the first
	// and only thing the log says.
	noAuth, err := effectiveNoAuth(o.apiToken, o.publishedBind, o.insecureNoAuth)
	if err != nil {
		return err
	}
	// Bound before the database is opened too: a port in use fails at once,
	// naming the address, instead of after the connection and migration.
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", o.addr, err)
	}
	defer ln.Close()
	p, err := o.Boot(ctx)
	if err != nil {
		return err
	}
	defer p.Close()
	ctx, log, st := p.Ctx, p.Log, p.Store
	pool := dockerhost.NewPool()
	defer pool.Close()
	metrics.RegisterDBGauges(func(ctx context.Context) (metrics.DBStats, error) {
		s, err := st.MetricsStats(ctx)
		return metrics.DBStats(s), err
	})
	dash, err := dashboard(o, st, log, pool)
	if err != nil {
		return err
	}
	srv, err := api.New(api.Config{
		Store:           st,
		Logger:          log,
		Addr:            o.addr,
		PublicURL:       o.publicURL,
		SocketPaths:     o.socketPaths,
		DBTimeout:       o.DBTimeout,
		APIToken:        o.apiToken,
		InsecureNoAuth:  noAuth,
		HostChecker:     pool,
		MetricsHandler:  metrics.Handler(),
		Middleware:      []echo.MiddlewareFunc{metrics.EchoMiddleware()},
		ContainerPolicy: o.containers,
		Dashboard:       dash,
	})
	if err != nil {
		return err
	}
	log.Info("API listening", zap.String("addr", ln.Addr().String()), zap.String("database", cmdutil.RedactURL(o.DatabaseURL)))
	return srv.Serve(ctx, ln, o.shutdown)
}

// dashboard builds the web UI unless --no-dashboard (nil interface then).
func dashboard(o *options, st *store.Store, log *zap.Logger, pool *dockerhost.Pool) (api.Dashboard, error) {
	if o.noDashboard {
		return nil, nil
	}
	ui, err := web.New(web.Config{Store: st, Logger: log, Token: o.apiToken, HostChecker: pool,
		SecureCookies: strings.HasPrefix(o.publicURL, "https://")})
	if err != nil {
		return nil, fmt.Errorf("dashboard: %w", err)
	}
	return ui, nil
}

func newMigrateCmd(o *options) *cobra.Command {
	cmd := &cobra.Command{Use: "migrate", Short: "apply or roll back database migrations by hand"}
	open := func(ctx context.Context) (*store.Store, error) {
		if o.DatabaseURL == "" {
			return nil, fmt.Errorf("no database: set --database-url or DATABASE_URL")
		}
		return store.Open(ctx, o.DatabaseURL, store.Options{MaxConns: 2})
	}
	cmd.AddCommand(&cobra.Command{
		Use: "up", Short: "apply every pending migration",
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := open(cmd.Context())
			if err != nil {
				return err
			}
			defer st.Close()
			return st.MigrateUp(cmd.Context())
		},
	})
	var to int64
	down := &cobra.Command{
		Use: "down", Short: "roll back one migration (or to --to VERSION; --to 0 empties the schema)",
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := open(cmd.Context())
			if err != nil {
				return err
			}
			defer st.Close()
			target := to
			if !cmd.Flags().Changed("to") {
				cur, _, err := st.SchemaCurrent(cmd.Context())
				if err != nil {
					return err
				}
				target = max(cur-1, 0)
			}
			return st.MigrateDownTo(cmd.Context(), target)
		},
	}
	down.Flags().Int64Var(&to, "to", 0, "version to roll back to")
	cmd.AddCommand(down)
	cmd.AddCommand(&cobra.Command{
		Use: "status", Short: "print the current and latest schema versions",
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := open(cmd.Context())
			if err != nil {
				return err
			}
			defer st.Close()
			cur, latest, err := st.SchemaCurrent(cmd.Context())
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "current version %d, latest %d\n", cur, latest)
			if cur != latest {
				fmt.Fprintln(cmd.OutOrStdout(), "pending migrations: run `api migrate up`")
			}
			return nil
		},
	})
	return cmd
}
