package cmdutil

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/cyberbrain/cyberbrain/pkg/testenv"
)

func TestEnvName(t *testing.T) {
	t.Parallel()
	for flag, want := range map[string]string{
		"database-url":     "DATABASE_URL",
		"interval":         "CYBERBRAIN_INTERVAL",
		"max-claim":        "CYBERBRAIN_MAX_CLAIM",
		"shutdown-timeout": "CYBERBRAIN_SHUTDOWN_TIMEOUT",
		"insecure-no-auth": "CYBERBRAIN_INSECURE_NO_AUTH",
		"log-format":       "CYBERBRAIN_LOG_FORMAT",
	} {
		if got := EnvName(flag); got != want {
			t.Errorf("EnvName(%q) = %q, want %q", flag, got, want)
		}
	}
}

func TestParseDuration(t *testing.T) {
	t.Parallel()
	good := map[string]time.Duration{
		"30":    30 * time.Second,
		"1.5":   1500 * time.Millisecond,
		"0":     0,
		" 45 ":  45 * time.Second,
		"30s":   30 * time.Second,
		"2m":    2 * time.Minute,
		"1h30m": 90 * time.Minute,
		"250ms": 250 * time.Millisecond,
		" 2m ":  2 * time.Minute,
	}
	for in, want := range good {
		if got, err := ParseDuration(in); err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	bad := map[string]string{
		"-1":    "must not be negative",
		"-5s":   "must not be negative",
		"":      "invalid duration",
		"abc":   "invalid duration",
		"30 s":  "invalid duration",
		"5d":    "invalid duration",
		"1m30x": "invalid duration",
	}
	for in, want := range bad {
		if got, err := ParseDuration(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseDuration(%q) = %v, %v; want an error containing %q", in, got, err, want)
		}
	}
}

// TestParseDurationRejectsNonFiniteSeconds: "Inf", "NaN" and huge numbers of
// seconds parse as floats; converting them to a Duration overflows into a
// negative value, which e.g. time.NewTicker panics on.
func TestParseDurationRejectsNonFiniteSeconds(t *testing.T) {
	t.Parallel()
	for _, in := range []string{"NaN", "Inf", "+Inf", "-Inf", "infinity", "1e20", "9223372037"} {
		if got, err := ParseDuration(in); err == nil {
			t.Errorf("ParseDuration(%q) = %v with no error", in, got)
		}
	}
	// The largest whole number of seconds a Duration holds still parses.
	if got, err := ParseDuration("9223372036"); err != nil || got != 9223372036*time.Second {
		t.Errorf("ParseDuration(\"9223372036\") = %v, %v", got, err)
	}
}

func TestDurationFlag(t *testing.T) {
	t.Parallel()
	fs := pflag.NewFlagSet("x", pflag.ContinueOnError)
	var iv, ttl time.Duration
	DurationFlag(fs, &iv, "interval", 30*time.Second, "poll interval")
	DurationFlag(fs, &ttl, "claim-ttl", 2*time.Minute, "lease")
	if iv != 30*time.Second || ttl != 2*time.Minute {
		t.Fatalf("defaults not applied: %v %v", iv, ttl)
	}
	if err := fs.Parse([]string{"--interval", "5", "--claim-ttl=90s"}); err != nil {
		t.Fatal(err)
	}
	if iv != 5*time.Second || ttl != 90*time.Second {
		t.Errorf("parsed %v %v", iv, ttl)
	}
	f := fs.Lookup("interval")
	if f.Value.Type() != "duration" || f.Value.String() != "5s" || f.DefValue != "30s" {
		t.Errorf("flag type %q value %q default %q", f.Value.Type(), f.Value.String(), f.DefValue)
	}
	err := fs.Parse([]string{"--interval", "soon"})
	if err == nil || !strings.Contains(err.Error(), `invalid duration "soon"`) {
		t.Errorf("bad value: %v", err)
	}
	if iv != 5*time.Second {
		t.Errorf("a rejected value changed the flag to %v", iv)
	}
}

// newCmd builds a root command shaped like the binaries': common flags, a
// duration flag, and a subcommand that records what it saw.
func newCmd(c *Common, iv *time.Duration, ran *string) *cobra.Command {
	root := &cobra.Command{Use: "bin", RunE: func(*cobra.Command, []string) error { *ran = "root"; return nil }}
	c.Register(root.PersistentFlags(), root.Flags(), 10)
	DurationFlag(root.Flags(), iv, "interval", 30*time.Second, "poll interval")
	root.AddCommand(&cobra.Command{Use: "migrate", RunE: func(*cobra.Command, []string) error { *ran = "migrate"; return nil }})
	return root
}

func TestCommonRegisterDefaults(t *testing.T) {
	t.Parallel()
	var c Common
	var iv time.Duration
	var ran string
	root := newCmd(&c, &iv, &ran)
	if c.LogFormat != "json" || c.LogLevel != "info" || !c.Migrate || c.MaxConns != 10 || c.DatabaseURL != "" {
		t.Errorf("defaults = %+v", c)
	}
	for _, name := range []string{"database-url", "log-format", "log-level"} {
		if root.PersistentFlags().Lookup(name) == nil {
			t.Errorf("--%s is not persistent (subcommands need it)", name)
		}
	}
	for _, name := range []string{"migrate", "max-conns"} {
		if root.PersistentFlags().Lookup(name) != nil || root.Flags().Lookup(name) == nil {
			t.Errorf("--%s should be local to the root command", name)
		}
	}
}

// The environment-binding tests use t.Setenv and so cannot run in parallel.

func TestBindEnvFillsFlagsNotGiven(t *testing.T) {
	t.Setenv("DATABASE_URL", "postgres://env@db/x")
	t.Setenv("CYBERBRAIN_INTERVAL", "7")
	t.Setenv("CYBERBRAIN_LOG_LEVEL", "debug")
	t.Setenv("CYBERBRAIN_MIGRATE", "false")
	var c Common
	var iv time.Duration
	var ran string
	root := newCmd(&c, &iv, &ran)
	if err := root.ParseFlags([]string{"--log-level", "warn"}); err != nil {
		t.Fatal(err)
	}
	if err := BindEnv(root); err != nil {
		t.Fatal(err)
	}
	if c.DatabaseURL != "postgres://env@db/x" || iv != 7*time.Second || c.Migrate {
		t.Errorf("from the environment: url %q interval %v migrate %v", c.DatabaseURL, iv, c.Migrate)
	}
	if c.LogLevel != "warn" {
		t.Errorf("log level %q: the command line must win over the environment", c.LogLevel)
	}
	if c.MaxConns != 10 {
		t.Errorf("max conns %d changed without a variable", c.MaxConns)
	}
}

func TestBindEnvReportsTheVariable(t *testing.T) {
	t.Setenv("CYBERBRAIN_INTERVAL", "every now and then")
	var c Common
	var iv time.Duration
	var ran string
	root := newCmd(&c, &iv, &ran)
	err := BindEnv(root)
	if err == nil || !strings.Contains(err.Error(), "environment CYBERBRAIN_INTERVAL") || !strings.Contains(err.Error(), "invalid duration") {
		t.Errorf("BindEnv = %v, want an error naming CYBERBRAIN_INTERVAL", err)
	}
	os.Unsetenv("CYBERBRAIN_INTERVAL") // t.Setenv restores it at the end
	t.Setenv("CYBERBRAIN_MAX_CONNS", "many")
	if err := BindEnv(newCmd(&c, &iv, &ran)); err == nil || !strings.Contains(err.Error(), "CYBERBRAIN_MAX_CONNS") {
		t.Errorf("BindEnv = %v, want an error naming CYBERBRAIN_MAX_CONNS", err)
	}
}

func TestExecuteBindsEnvForSubcommands(t *testing.T) {
	t.Setenv("DATABASE_URL", "postgres://sub@db/x")
	var c Common
	var iv time.Duration
	var ran string
	root := newCmd(&c, &iv, &ran)
	root.SetArgs([]string{"migrate"})
	Execute(root)
	if ran != "migrate" || c.DatabaseURL != "postgres://sub@db/x" {
		t.Errorf("ran %q with database url %q", ran, c.DatabaseURL)
	}
	// Help shows every flag's environment twin.
	for _, name := range []string{"database-url", "migrate", "interval"} {
		f := root.Flags().Lookup(name)
		if f == nil {
			f = root.PersistentFlags().Lookup(name)
		}
		if !strings.HasSuffix(f.Usage, "(env "+EnvName(name)+")") {
			t.Errorf("--%s usage %q lacks its variable", name, f.Usage)
		}
	}
}

func TestAnnotateEnv(t *testing.T) {
	t.Parallel()
	fs := pflag.NewFlagSet("x", pflag.ContinueOnError)
	fs.String("metrics-addr", "", "listen address for /metrics")
	AnnotateEnv(fs)
	if got := fs.Lookup("metrics-addr").Usage; got != "listen address for /metrics (env CYBERBRAIN_METRICS_ADDR)" {
		t.Errorf("usage = %q", got)
	}
}

// TestExecuteExitsOneOnError re-runs this test binary as a child whose
// command fails: it must print the error and exit 1.
func TestExecuteExitsOneOnError(t *testing.T) {
	if os.Getenv("CMDUTIL_EXECUTE_CHILD") == "1" {
		Execute(&cobra.Command{Use: "bin", RunE: func(*cobra.Command, []string) error {
			return os.ErrPermission
		}, Args: cobra.NoArgs})
		os.Exit(0) // not reached when Execute works
	}
	t.Parallel()
	cmd := exec.Command(os.Args[0], "-test.run=^TestExecuteExitsOneOnError$")
	cmd.Env = append(os.Environ(), "CMDUTIL_EXECUTE_CHILD=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != 1 {
		t.Fatalf("child exit: %v (stderr %q), want exit status 1", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "error: permission denied") {
		t.Errorf("stderr = %q, want the error", stderr.String())
	}
	if strings.Contains(stderr.String(), "Usage:") {
		t.Errorf("usage printed on a runtime error: %q", stderr.String())
	}
}

func TestNewLogger(t *testing.T) {
	t.Parallel()
	cases := []struct {
		format, level string
		debug, info   bool
	}{
		{"", "", false, true},
		{"json", "info", false, true},
		{"json", "debug", true, true},
		{"json", "error", false, false},
		{"console", "", true, true}, // development config: debug by default
		{"console", "warn", false, false},
	}
	for _, c := range cases {
		log, err := NewLogger(c.format, c.level)
		if err != nil {
			t.Errorf("NewLogger(%q, %q): %v", c.format, c.level, err)
			continue
		}
		if got := log.Core().Enabled(zapcore.DebugLevel); got != c.debug {
			t.Errorf("NewLogger(%q, %q): debug enabled %v, want %v", c.format, c.level, got, c.debug)
		}
		if got := log.Core().Enabled(zapcore.InfoLevel); got != c.info {
			t.Errorf("NewLogger(%q, %q): info enabled %v, want %v", c.format, c.level, got, c.info)
		}
	}
	if _, err := NewLogger("xml", ""); err == nil || !strings.Contains(err.Error(), `unknown log format "xml"`) {
		t.Errorf("xml format: %v", err)
	}
	if _, err := NewLogger("json", "loud"); err == nil || !strings.Contains(err.Error(), "log level") {
		t.Errorf("bad level: %v", err)
	}
}

func TestRedactURL(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"postgres://app:s3cret@db:5432/cb?sslmode=disable": "postgres://app:***@db:5432/cb?sslmode=disable",
		"postgres://app:p@ss:w0rd@db/cb":                   "postgres://app:***@db/cb",
		"postgres://app@db/cb":                             "postgres://app@db/cb",
		"postgres://db/cb":                                 "postgres://db/cb",
		"host=db user=app password=s3cret dbname=cb":       "host=db user=app password=*** dbname=cb",
		"host=db user=app dbname=cb":                       "host=db user=app dbname=cb",
	}
	for in, want := range cases {
		if got := RedactURL(in); got != want {
			t.Errorf("RedactURL(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestRedactURLHidesEveryPasswordForm: libpq and pgx also take the password
// as a URL query parameter and as a quoted key/value with spaces.
func TestRedactURLHidesEveryPasswordForm(t *testing.T) {
	t.Parallel()
	cases := []struct{ in, want string }{
		// URI userinfo.
		{"postgresql://app:s3cret@db/cb", "postgresql://app:***@db/cb"},
		{"postgres://app:s3%40cret@h1:5432,h2:5433/cb", "postgres://app:***@h1:5432,h2:5433/cb"},
		{"postgres://app:s3/cret@db/cb", "postgres://app:***@db/cb"},
		{"postgres://app:s3?cret@db/cb", "postgres://app:***@db/cb"},
		{"postgres://db/cb?application_name=a@b", "postgres://db/cb?application_name=a@b"},
		// Query parameters.
		{"postgres://app@db/cb?password=s3cret&sslmode=disable", "postgres://app@db/cb?password=***&sslmode=disable"},
		{"postgres://db/cb?sslmode=verify-full&sslpassword=s3cret", "postgres://db/cb?sslmode=verify-full&sslpassword=***"},
		{"postgres://db/cb?pass%77ord=s3cret", "postgres://db/cb?pass%77ord=***"},
		{"postgres://u:s3cret@db/cb?PASSWORD=s3cret", "postgres://u:***@db/cb?PASSWORD=***"},
		// Keyword/value.
		{"host=db password = s3cret dbname=cb", "host=db password = *** dbname=cb"},
		{"host=db password='s3 cret' dbname=cb", "host=db password=*** dbname=cb"},
		{`host=db password='s3 \'c r\' et' dbname=cb`, "host=db password=*** dbname=cb"},
		{`host=db password=s3\ cret dbname=cb`, "host=db password=*** dbname=cb"},
		{"host=db sslpassword=s3cret\tpassword=s3cret", "host=db sslpassword=***\tpassword=***"},
		{"host=db password='s3 cret", "host=db password=***"}, // unterminated: hide the rest
		{"password=", "password=***"},
		{"host=db application_name='my password=x' user=app", "host=db application_name='my password=x' user=app"},
	}
	for _, c := range cases {
		got := RedactURL(c.in)
		if got != c.want {
			t.Errorf("RedactURL(%q) = %q, want %q", c.in, got, c.want)
		}
		if strings.Contains(got, "cret") {
			t.Errorf("RedactURL(%q) = %q leaks the password", c.in, got)
		}
	}
}

// TestOpenStoreErrorsHideThePassword: pgx quotes the connection string in its
// parse errors with a redaction of its own that misses spaced forms.
func TestOpenStoreErrorsHideThePassword(t *testing.T) {
	t.Parallel()
	for _, u := range []string{
		"host=db password = 's3 cret' port=notaport",
		"postgres://app:s3cret@db:notaport/cb",
		"postgres://app@db:notaport/cb?password=s3cret",
		"postgres://app:s3cret@127.0.0.1:1/cb?connect_timeout=1",
	} {
		_, err := OpenStore(context.Background(), u, false, 1, zap.NewNop())
		if err == nil {
			t.Errorf("OpenStore(%q) succeeded", u)
			continue
		}
		if strings.Contains(err.Error(), "cret") {
			t.Errorf("OpenStore(%q): %v leaks the password", u, err)
		}
	}
}

func TestOpenStoreNeedsADatabase(t *testing.T) {
	t.Parallel()
	_, err := OpenStore(context.Background(), "", true, 2, zap.NewNop())
	if err == nil || !strings.Contains(err.Error(), "DATABASE_URL") {
		t.Errorf("OpenStore without a URL: %v", err)
	}
}

func TestOpenStoreMigratesWhenAsked(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	core, logs := observer.New(zapcore.InfoLevel)

	// Without --migrate an empty database stays empty.
	u := testenv.NewEmptyDatabaseURL(t)
	st, err := OpenStore(ctx, u, false, 2, zap.New(core))
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := testenv.SQL(t, st).Raw(`SELECT count(*) FROM information_schema.tables WHERE table_name = 'schedules'`).Scan(&n).Error; err != nil {
		t.Fatal(err)
	}
	st.Close()
	if n != 0 || logs.Len() != 0 {
		t.Errorf("without migrate: schedules table %d, logs %d", n, logs.Len())
	}

	st, err = OpenStore(ctx, u, true, 2, zap.New(core))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := testenv.SQL(t, st).Raw(`SELECT count(*) FROM worker_hosts WHERE name = 'local'`).Scan(&n).Error; err != nil {
		t.Fatalf("after migrate: %v", err)
	}
	if n != 1 {
		t.Errorf("the seeded local host is missing after migrating (%d)", n)
	}
	if logs.FilterMessage("schema migrated").Len() != 1 {
		t.Errorf("logs = %v, want one 'schema migrated'", logs.All())
	}
	// Migrating an up-to-date schema again is a no-op.
	again, err := OpenStore(ctx, u, true, 2, zap.NewNop())
	if err != nil {
		t.Fatalf("second migration: %v", err)
	}
	again.Close()
}

func TestOpenStoreBadURL(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if st, err := OpenStore(ctx, "postgres://nobody@127.0.0.1:1/none?sslmode=disable&connect_timeout=2", false, 1, zap.NewNop()); err == nil {
		st.Close()
		t.Error("OpenStore on a closed port succeeded")
	}
}

func TestBootFailsCleanly(t *testing.T) {
	t.Parallel()
	if p, err := (&Common{LogFormat: "yaml", DatabaseURL: "postgres://x"}).Boot(context.Background()); err == nil || p != nil {
		t.Errorf("bad log format: %v, %v", p, err)
	}
	if p, err := (&Common{LogFormat: "json"}).Boot(context.Background()); err == nil || p != nil {
		t.Errorf("no database: %v, %v", p, err)
	}
}

// TestBootCancelsOnSIGTERM: the process context ends on SIGTERM, which is
// how both binaries start draining. Not parallel: it signals the test process.
func TestBootCancelsOnSIGTERM(t *testing.T) {
	c := &Common{DatabaseURL: testenv.NewDatabaseURL(t), LogFormat: "json", LogLevel: "error", Migrate: true, MaxConns: 2}
	p, err := c.Boot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if p.Log == nil || p.Store == nil || p.Ctx.Err() != nil {
		t.Fatalf("process = %+v", p)
	}
	if err := p.Store.Ping(p.Ctx); err != nil {
		t.Fatalf("store not usable: %v", err)
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.Ctx.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("SIGTERM did not cancel the process context")
	}
}
