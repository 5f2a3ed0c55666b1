package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cyberbrain/cyberbrain/pkg/client"
)

func newLaunchCmd(g *globals) *cobra.Command {
	var (
		tasks           []string
		directive, host int64
		wait            bool
		pollMax         time.Duration
	)
	cmd := &cobra.Command{
		Use:   "launch",
		Short: "Launch a run; --wait follows it to the end and prints its report",
		Long: `Launch a run of the given tasks (default: every enabled task).

With --wait the command polls the run (every 200ms at first, backing off to
--poll-max), prints each status change of the run and its jobs, then the
report. It exits 0 only if the run completed, 2 if it failed or was
cancelled. Ctrl-C stops waiting; the run goes on.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			cl, err := g.client()
			if err != nil {
				return err
			}
			req := client.LaunchRequest{Tasks: tasks}
			if directive > 0 {
				req.DirectiveID = &directive
			}
			if host > 0 {
				req.TargetHostID = &host
			}
			run, err := cl.Launch(c.Context(), req)
			if err != nil {
				return err
			}
			out := c.OutOrStdout()
			progress := out
			if g.json() { // stdout stays one JSON document
				progress = c.ErrOrStderr()
			}
			var names []string
			for _, j := range run.Jobs {
				names = append(names, j.TaskType)
			}
			fmt.Fprintf(progress, "run %d launched: %s\n", run.ID, strings.Join(names, ", "))
			if !wait {
				if g.json() {
					return printJSONValue(out, run)
				}
				return nil
			}
			return waitAndReport(c, cl, run.ID, pollMax, out, progress, g.json())
		},
	}
	f := cmd.Flags()
	f.StringSliceVar(&tasks, "tasks", nil, "task keys, comma-separated (default: every enabled task)")
	f.Int64Var(&directive, "directive", 0, "directive id (default: the default directive)")
	f.Int64Var(&host, "host", 0, "worker host id (default: chosen per task)")
	f.BoolVar(&wait, "wait", false, "wait for the run to finish, print the report; exit 0 only if it completed")
	f.DurationVar(&pollMax, "poll-max", 2*time.Second, "longest interval between two polls while waiting")
	return cmd
}

// waitAndReport follows a run, printing changes, then prints its report.
func waitAndReport(c *cobra.Command, cl *client.Client, runID int64, pollMax time.Duration, out, progress io.Writer, asJSON bool) error {
	start := time.Now()
	final, err := cl.Wait(c.Context(), runID, client.WaitOptions{Max: pollMax, OnChange: func(prev, cur *client.Run) {
		printChanges(progress, prev, cur, since(start))
	}})
	if err != nil {
		return err
	}
	rep, err := cl.Report(c.Context(), runID)
	if err != nil {
		return err
	}
	format := "md"
	if asJSON {
		format = "json"
	}
	if err := printReport(out, rep, format); err != nil {
		fmt.Fprintln(progress, "(no report:", err.Error()+")")
	}
	if final.Status != "completed" {
		msg := fmt.Sprintf("run %d %s", runID, final.Status)
		if final.ErrorMessage != "" {
			msg += ": " + final.ErrorMessage
		}
		return &outcomeError{msg: msg}
	}
	return nil
}

// printChanges writes one line per job whose status moved, and the run's.
func printChanges(w io.Writer, prev, cur *client.Run, elapsed string) {
	before := map[int64]string{}
	if prev != nil {
		for _, j := range prev.Jobs {
			before[j.ID] = j.Status
		}
	}
	for _, j := range cur.Jobs {
		if was, ok := before[j.ID]; !ok || was != j.Status {
			line := fmt.Sprintf("[%s] job %d %s: %s", elapsed, j.ID, j.TaskType, j.Status)
			if j.ErrorMessage != "" && client.Terminal(j.Status) {
				line += " (" + short(j.ErrorMessage, 120) + ")"
			}
			fmt.Fprintln(w, line)
		}
	}
	if prev == nil || prev.Status != cur.Status {
		fmt.Fprintf(w, "[%s] run %d: %s\n", elapsed, cur.ID, cur.Status)
	}
}
