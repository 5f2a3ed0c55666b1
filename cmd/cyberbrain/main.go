// Command cyberbrain is the command-line client of cyberbrain's REST API:
// launch and follow runs, read reports, manage schedules and worker hosts,
// and keep the configuration as code (apply, export). The logic lives in
// pkg/client and pkg/declarative; this package is the cobra wiring.
package main

// The configuration reference, docs/CONFIGURATION.md, is rendered from the flags.
//go:generate env CYBERBRAIN_UPDATE_DOCS=1 go test -run ^TestConfigurationReference$ .

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/cyberbrain/cyberbrain/pkg/client"
	"github.com/cyberbrain/cyberbrain/pkg/version"
)

// Exit codes: 0 success, 1 an error (the API refused, unreachable, bad
// input), 2 the command worked but the outcome is bad (a run that did not
// complete, an unhealthy host).
const (
	exitError   = 1
	exitOutcome = 2
)

// outcomeError is a bad outcome rather than a failed command.
type outcomeError struct{ msg string }

func (e *outcomeError) Error() string { return e.msg }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run executes one command line and returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cmd := newRootCmd()
	cmd.SetArgs(args)
	cmd.SetOut(stdout)
	cmd.SetErr(stderr)
	err := cmd.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	fmt.Fprintln(stderr, "error:", err)
	var oe *outcomeError
	if errors.As(err, &oe) {
		return exitOutcome
	}
	return exitError
}

// globals are the flags every command takes.
type globals struct {
	server, token, output string
}

// envTwins are the environment variables read for flags not given.
var envTwins = map[string]string{
	"server": "CYBERBRAIN_SERVER",
	"token":  "CYBERBRAIN_API_TOKEN",
	"output": "CYBERBRAIN_OUTPUT",
}

func newRootCmd() *cobra.Command {
	g := &globals{}
	cmd := &cobra.Command{
		Use:           "cyberbrain",
		Short:         "Command-line client of the cyberbrain API",
		Version:       version.String(),
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(c *cobra.Command, _ []string) error {
			return bindEnv(c)
		},
	}
	pf := cmd.PersistentFlags()
	pf.StringVar(&g.server, "server", "http://localhost:9595", "API base URL")
	pf.StringVar(&g.token, "token", "", "API bearer token")
	pf.StringVarP(&g.output, "output", "o", "table", "output format: table or json")
	_ = cmd.RegisterFlagCompletionFunc("output", fixedCompletion("table", "json"))
	cmd.AddCommand(
		newLaunchCmd(g), newRunsCmd(g), newRunCmd(g), newReportCmd(g), newCancelCmd(g),
		newArtifactsCmd(g), newDownloadCmd(g),
		newSchedulesCmd(g), newScheduleCmd(g), newHostsCmd(g), newHostCmd(g),
		newApplyCmd(g), newExportCmd(g), newVersionCmd(),
	)
	return cmd
}

// bindEnv fills the global flags not given on the command line from their
// environment twins.
func bindEnv(c *cobra.Command) error {
	for name, env := range envTwins {
		f := c.Flags().Lookup(name)
		if f == nil || f.Changed {
			continue
		}
		if v, ok := os.LookupEnv(env); ok {
			if err := f.Value.Set(v); err != nil {
				return fmt.Errorf("environment %s: %w", env, err)
			}
		}
	}
	return nil
}

func (g *globals) client() (*client.Client, error) {
	if g.output != "table" && g.output != "json" {
		return nil, fmt.Errorf("unknown output format %q: table or json", g.output)
	}
	return client.New(g.server, g.token)
}

func (g *globals) json() bool { return g.output == "json" }

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the client's version",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			fmt.Fprintln(c.OutOrStdout(), "cyberbrain", version.String())
			return nil
		},
	}
}

func fixedCompletion(values ...string) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return values, cobra.ShellCompDirectiveNoFileComp
	}
}
