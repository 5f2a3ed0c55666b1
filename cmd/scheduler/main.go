// Command scheduler claims due schedules and executes their jobs. Run any
// number of replicas against one database.
package main

// The configuration reference, docs/CONFIGURATION.md, is rendered from the flags.
//go:generate env CYBERBRAIN_UPDATE_DOCS=1 go test -run ^TestConfigurationReference$ .

import (
	"context"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"go.uber.org/zap"

	"github.com/cyberbrain/cyberbrain/pkg/cmdutil"
	"github.com/cyberbrain/cyberbrain/pkg/containerspec"
	"github.com/cyberbrain/cyberbrain/pkg/dockerhost"
	"github.com/cyberbrain/cyberbrain/pkg/metrics"
	"github.com/cyberbrain/cyberbrain/pkg/notify"
	"github.com/cyberbrain/cyberbrain/pkg/scheduler"
	"github.com/cyberbrain/cyberbrain/pkg/tasks"
	"github.com/cyberbrain/cyberbrain/pkg/version"
)

type options struct {
	cmdutil.Common
	interval        time.Duration
	maxClaim        int
	claimTTL        time.Duration
	claimant        string
	maxConcurrent   int
	once            bool
	pollOnly        bool
	shutdownTimeout time.Duration
	retention       time.Duration
	healthInterval  time.Duration
	metricsAddr     string
	containers      containerspec.Policy
	publicURL       string
	notifyTimeout   time.Duration
}

func main() { cmdutil.Execute(newRootCmd()) }

func newRootCmd() *cobra.Command { return newCommand(&options{}) }

// newCommand builds the root command filling o.
func newCommand(o *options) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "scheduler",
		Short:   "cyberbrain scheduler replica: claims due schedules and executes their jobs",
		Version: version.String(),
		RunE:    func(cmd *cobra.Command, _ []string) error { return run(cmd.Context(), o) },
	}
	f := cmd.Flags()
	o.Register(f, f, 16)
	cmdutil.DurationFlag(f, &o.interval, "interval", 30*time.Second, "poll interval, the fallback to NOTIFY wake-ups (30s, or bare seconds)")
	f.IntVar(&o.maxClaim, "max-claim", 10, "due schedules claimed per statement")
	cmdutil.DurationFlag(f, &o.claimTTL, "claim-ttl", 2*time.Minute, "lease length for claimed schedules and running jobs (heartbeat every ttl/3)")
	f.StringVar(&o.claimant, "claimant", "", "lease owner name, unique per replica (default hostname:pid)")
	f.IntVar(&o.maxConcurrent, "max-concurrent", 10, "jobs this replica executes at once")
	f.BoolVar(&o.once, "once", false, "one claim pass, wait for its jobs, exit")
	f.BoolVar(&o.pollOnly, "poll-only", false, "do not LISTEN for wake-ups (for poolers that break LISTEN/NOTIFY)")
	cmdutil.DurationFlag(f, &o.shutdownTimeout, "shutdown-timeout", 30*time.Second, "on SIGTERM, how long running jobs may finish before they are handed back")
	cmdutil.DurationFlag(f, &o.retention, "retention", 30*24*time.Hour, "finished runs older than this are pruned (0 keeps everything)")
	cmdutil.DurationFlag(f, &o.healthInterval, "health-interval", 30*time.Second, "how often worker hosts are health-checked (by one replica at a time)")
	f.StringVar(&o.metricsAddr, "metrics-addr", "", "serve Prometheus /metrics on this address (empty: off)")
	containerspec.RegisterFlags(f, &o.containers)
	f.StringVar(&o.publicURL, "public-url", "", "the dashboard's base URL (https://cyberbrain.example.com): notifications link to its run and host pages (empty: no links)")
	cmdutil.DurationFlag(f, &o.notifyTimeout, "notify-timeout", 30*time.Second, "bound of one notification attempt (webhook request, SMTP exchange); the delivery lease is 4× this")
	return cmd
}

func run(ctx context.Context, o *options) error {
	if err := o.check(); err != nil {
		return err
	}
	p, err := o.Boot(ctx)
	if err != nil {
		return err
	}
	defer p.Close()
	ctx, log, st := p.Ctx, p.Log, p.Store
	pool := dockerhost.NewPool()
	defer pool.Close()
	sch, err := scheduler.New(scheduler.Config{
		Store:           st,
		Logger:          log,
		Tasks:           tasks.Default(pool, tasks.LLMConfigFromEnv()),
		Containers:      tasks.Container(pool, st, st, tasks.ContainerOptions{Policy: o.containers}),
		Claimant:        o.claimant,
		Interval:        o.interval,
		MaxClaim:        o.maxClaim,
		ClaimTTL:        o.claimTTL,
		MaxConcurrent:   o.maxConcurrent,
		PollOnly:        o.pollOnly,
		ShutdownTimeout: o.shutdownTimeout,
		Retention:       o.retention,
		HealthInterval:  o.healthInterval,
		HealthCheck: func(ctx context.Context) error {
			return dockerhost.CheckAllHosts(ctx, st, pool, log, o.healthInterval)
		},
		Notify: &notify.Config{Sender: &notify.Sender{PublicURL: strings.TrimRight(o.publicURL, "/")}, SendTimeout: o.notifyTimeout},
	})
	if err != nil {
		return err
	}
	if o.metricsAddr != "" {
		go func() {
			if err := metrics.Serve(ctx, o.metricsAddr); err != nil {
				log.Error("metrics server failed", zap.Error(err))
			}
		}()
	}
	if o.once {
		return sch.RunOnce(ctx)
	}
	return sch.Run(ctx)
}
