// Package cmdutil holds what both binaries share on the command line: flags
// with environment twins, durations that accept bare seconds, logging, and
// migrating at start.
package cmdutil

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/cyberbrain/cyberbrain/pkg/store"
)

// EnvName returns the environment twin of a flag: CYBERBRAIN_<FLAG>, except
// --database-url which reads DATABASE_URL.
func EnvName(flag string) string {
	if flag == "database-url" {
		return "DATABASE_URL"
	}
	return "CYBERBRAIN_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// BindEnv sets every flag not given on the command line from its environment
// twin. Call it from PersistentPreRunE.
func BindEnv(cmd *cobra.Command) error {
	var firstErr error
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if f.Changed || firstErr != nil {
			return
		}
		if v, ok := os.LookupEnv(EnvName(f.Name)); ok {
			if err := cmd.Flags().Set(f.Name, v); err != nil {
				firstErr = fmt.Errorf("environment %s: %w", EnvName(f.Name), err)
			}
		}
	})
	return firstErr
}

// AnnotateEnv appends the environment twin to each flag's usage text.
func AnnotateEnv(fs *pflag.FlagSet) {
	fs.VisitAll(func(f *pflag.Flag) {
		f.Usage = fmt.Sprintf("%s (env %s)", f.Usage, EnvName(f.Name))
	})
}

// Duration is a flag value taking Go durations ("30s", "2m") or bare seconds ("30").
type Duration time.Duration

// ParseDuration parses a Go duration or a bare number of seconds.
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if n, err := strconv.ParseFloat(s, 64); err == nil {
		// ParseFloat also takes "NaN", "Inf" and "1e20"; converting those to
		// a Duration overflows into a negative value (time.NewTicker panics on
		// it), so only finite values within a Duration's range pass.
		if math.IsNaN(n) || math.IsInf(n, 0) {
			return 0, fmt.Errorf("invalid duration %q: not a finite number of seconds", s)
		}
		if n < 0 {
			return 0, fmt.Errorf("duration %q must not be negative", s)
		}
		ns := n * float64(time.Second)
		// float64(MaxInt64) rounds up to 2^63, which no longer converts, hence >=.
		if ns >= float64(math.MaxInt64) {
			return 0, fmt.Errorf("invalid duration %q: out of range (at most %v)", s, time.Duration(math.MaxInt64))
		}
		return time.Duration(ns), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("invalid duration %q (use 30s, 2m or bare seconds)", s)
	}
	if d < 0 {
		return 0, fmt.Errorf("duration %q must not be negative", s)
	}
	return d, nil
}

func (d *Duration) String() string { return time.Duration(*d).String() }
func (d *Duration) Type() string   { return "duration" }
func (d *Duration) Set(s string) error {
	v, err := ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// DurationFlag registers a Duration flag.
func DurationFlag(fs *pflag.FlagSet, p *time.Duration, name string, def time.Duration, usage string) {
	*p = def
	fs.Var((*Duration)(p), name, usage)
}

// OpenStore connects to the database and, when migrate is set, applies the
// migrations under the advisory lock.
func OpenStore(ctx context.Context, url string, migrate bool, maxConns int, log *zap.Logger) (*store.Store, error) {
	c := &Common{DatabaseURL: url, Migrate: migrate, MaxConns: maxConns}
	return c.openStore(ctx, log)
}

// openStore opens the store as the flags say: waiting up to --db-wait for
// the database, every statement bounded by --db-timeout, then migrating.
func (c *Common) openStore(ctx context.Context, log *zap.Logger) (*store.Store, error) {
	if c.DatabaseURL == "" {
		return nil, fmt.Errorf("no database: set --database-url or DATABASE_URL")
	}
	opts := store.Options{MaxConns: c.MaxConns, StatementTimeout: c.DBTimeout}
	st, err := openWaiting(ctx, c.DatabaseURL, opts, c.DBWait, log)
	if err != nil {
		return nil, err
	}
	if c.Migrate {
		if err := st.MigrateUp(ctx); err != nil {
			st.Close()
			return nil, err
		}
		log.Info("schema migrated")
	}
	return st, nil
}

// RedactURL hides the passwords of a database URL or keyword/value
// connection string for logs; see store.RedactDSN for the forms covered.
func RedactURL(u string) string { return store.RedactDSN(u) }

// Process is what both binaries start from: a logger, a context cancelled by
// SIGINT or SIGTERM, and the (migrated) store.
type Process struct {
	Log   *zap.Logger
	Ctx   context.Context
	Store *store.Store
	stop  context.CancelFunc
}

// Common holds the flags both binaries take.
type Common struct {
	DatabaseURL string
	LogFormat   string
	LogLevel    string
	Migrate     bool
	MaxConns    int
	DBTimeout   time.Duration
	DBWait      time.Duration
	PprofAddr   string
}

// Register declares the common flags: the database and logging ones on
// persistent (subcommands such as `api migrate` need them), the others on local.
func (c *Common) Register(persistent, local *pflag.FlagSet, maxConns int) {
	persistent.StringVar(&c.DatabaseURL, "database-url", "", "PostgreSQL connection URL")
	persistent.StringVar(&c.LogFormat, "log-format", "json", "log format: json or console")
	persistent.StringVar(&c.LogLevel, "log-level", "info", "log level: debug, info, warn, error")
	local.BoolVar(&c.Migrate, "migrate", true, "apply database migrations at start")
	local.IntVar(&c.MaxConns, "max-conns", maxConns, "maximum database connections (idle ones close after 30s)")
	DurationFlag(local, &c.DBTimeout, "db-timeout", 5*time.Second,
		"deadline of every database statement and API request; past it the API answers 503")
	DurationFlag(local, &c.DBWait, "db-wait", 60*time.Second,
		"at start, how long to wait for the database to come up, retrying with backoff (0: fail at once)")
	local.StringVar(&c.PprofAddr, "pprof-addr", "",
		"serve Go's profiles (/debug/pprof/) on this address for performance work (empty: off; keep it on loopback)")
}

// Check validates the common flags.
func (c *Common) Check(ck *Checks) {
	ck.OneOf("log-format", c.LogFormat, "json", "console")
	if _, err := zapcore.ParseLevel(c.LogLevel); err != nil {
		ck.Custom("--log-level %q: want debug, info, warn or error", c.LogLevel)
	}
	// Two: a maintenance pass holds a lock on one connection while it
	// works on another.
	ck.Int("max-conns", c.MaxConns, 2, 1000)
	ck.Duration("db-timeout", c.DBTimeout, 100*time.Millisecond, 30*time.Second,
		"shorter fails healthy statements; longer keeps clients waiting past the HTTP write timeout")
	ck.Duration("db-wait", c.DBWait, 0, 0, "")
	ck.Addr("pprof-addr", c.PprofAddr, true)
}

// Execute runs a binary's root command: flags not given are read from their
// environment twins first. A bad flag or variable exits 2, any other error 1.
func Execute(cmd *cobra.Command) {
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	cmd.PersistentPreRunE = func(c *cobra.Command, _ []string) error {
		if err := BindEnv(c); err != nil {
			return &UsageError{Err: err}
		}
		if err := BindEnv(c.Root()); err != nil {
			return &UsageError{Err: err}
		}
		return nil
	}
	cmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return &UsageError{Err: fmt.Errorf("%w (see %s --help)", err, c.CommandPath())}
	})
	AnnotateEnv(cmd.PersistentFlags())
	AnnotateEnv(cmd.Flags())
	if err := cmd.Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		var ue *UsageError
		if errors.As(err, &ue) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

// Boot starts a process: logger, signal context, store.
func (c *Common) Boot(ctx context.Context) (*Process, error) {
	tuneRuntime()
	log, err := NewLogger(c.LogFormat, c.LogLevel)
	if err != nil {
		return nil, err
	}
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	if c.PprofAddr != "" {
		if err := servePprof(ctx, c.PprofAddr, log); err != nil {
			stop()
			return nil, err
		}
	}
	st, err := c.openStore(ctx, log)
	if err != nil {
		stop()
		return nil, err
	}
	return &Process{Log: log, Ctx: ctx, Store: st, stop: stop}, nil
}

// Close releases what Boot opened.
func (p *Process) Close() {
	p.Store.Close()
	p.stop()
	_ = p.Log.Sync()
}
