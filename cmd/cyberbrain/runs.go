package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/cyberbrain/cyberbrain/pkg/client"
)

var runStatuses = []string{"pending", "running", "completed", "failed", "cancelled"}

func newRunsCmd(g *globals) *cobra.Command {
	var status string
	var limit int
	cmd := &cobra.Command{
		Use:   "runs",
		Short: "List runs, newest first",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			cl, err := g.client()
			if err != nil {
				return err
			}
			q := url.Values{"page_size": {strconv.Itoa(limit)}}
			if status != "" {
				q.Set("status", status)
			}
			var page client.Page[json.RawMessage]
			if err := cl.Do(c.Context(), http.MethodGet, client.Runs, q, nil, &page); err != nil {
				return err
			}
			raw, err := json.Marshal(page.Results)
			if err != nil {
				return fmt.Errorf("encode runs: %w", err)
			}
			return show(c.OutOrStdout(), g.json(), raw, []string{"ID", "STATUS", "DIRECTIVE", "HOST", "CREATED", "COMPLETED", "ERROR"},
				func(r client.Run) []string {
					return []string{id(r.ID), r.Status, optID(r.DirectiveID), optID(r.WorkerHostID), when(&r.CreatedAt),
						when(r.CompletedAt), short(r.ErrorMessage, 60)}
				})
		},
	}
	cmd.Flags().StringVar(&status, "status", "", "only runs in this status: "+fmt.Sprint(runStatuses))
	cmd.Flags().IntVar(&limit, "limit", 20, "how many runs (at most 1000)")
	_ = cmd.RegisterFlagCompletionFunc("status", fixedCompletion(runStatuses...))
	return cmd
}

func newRunCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "run ID",
		Short: "Show a run and its jobs",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			raw, _, err := idRequest(c, g, args[0], "run", http.MethodGet, runPath(""), nil)
			if err != nil {
				return err
			}
			if g.json() {
				return printJSON(c.OutOrStdout(), raw)
			}
			var r client.Run
			if err := json.Unmarshal(raw, &r); err != nil {
				return fmt.Errorf("decode run: %w", err)
			}
			w := c.OutOrStdout()
			fmt.Fprintf(w, "run %d: %s (created %s, completed %s)\n", r.ID, r.Status, when(&r.CreatedAt), when(r.CompletedAt))
			if r.ErrorMessage != "" {
				fmt.Fprintf(w, "error: %s\n", r.ErrorMessage)
			}
			rows := make([][]string, len(r.Jobs))
			for i, j := range r.Jobs {
				rows[i] = []string{id(j.ID), j.TaskType, j.Status, strconv.Itoa(j.Attempt), short(j.ErrorMessage, 80)}
			}
			return table(w, []string{"JOB", "TASK", "STATUS", "ATTEMPT", "ERROR"}, rows)
		},
	}
}

func newReportCmd(g *globals) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "report ID",
		Short: "Print a run's report (Markdown, or its JSON with --format json)",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			cl, rid, err := clientAndID(g, args[0], "run")
			if err != nil {
				return err
			}
			if format != "md" && format != "json" {
				return fmt.Errorf("unknown report format %q: md or json", format)
			}
			rep, err := cl.Report(c.Context(), rid)
			if err != nil {
				return err
			}
			return printReport(c.OutOrStdout(), rep, format)
		},
	}
	cmd.Flags().StringVar(&format, "format", "md", "md or json")
	_ = cmd.RegisterFlagCompletionFunc("format", fixedCompletion("md", "json"))
	return cmd
}

func printReport(w io.Writer, rep *client.Report, format string) error {
	if format == "json" {
		if len(rep.ReportJSON) == 0 || string(rep.ReportJSON) == "null" {
			return fmt.Errorf("run %d has no report yet (status %s)", rep.RunID, rep.Status)
		}
		return printJSON(w, rep.ReportJSON)
	}
	if rep.ReportMarkdown == "" {
		return fmt.Errorf("run %d has no report yet (status %s)", rep.RunID, rep.Status)
	}
	_, err := fmt.Fprintln(w, rep.ReportMarkdown)
	return err
}

func newCancelCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "cancel ID",
		Short: "Cancel a pending or running run",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			raw, rid, err := idRequest(c, g, args[0], "run", http.MethodPost, runPath("cancel/"), nil)
			if err != nil {
				return err
			}
			if g.json() {
				return printJSON(c.OutOrStdout(), raw)
			}
			fmt.Fprintf(c.OutOrStdout(), "run %d cancelled\n", rid)
			return nil
		},
	}
}

func newArtifactsCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "artifacts ID",
		Short: "List a run's artifacts",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			raw, _, err := idRequest(c, g, args[0], "run", http.MethodGet, runPath("artifacts/"), nil)
			if err != nil {
				return err
			}
			return show(c.OutOrStdout(), g.json(), raw, []string{"ID", "NAME", "TYPE", "SIZE", "JOB", "CREATED"},
				func(a client.Artifact) []string {
					return []string{id(a.ID), a.Name, a.ContentType, strconv.FormatInt(a.Size, 10), optID(a.JobID), when(&a.CreatedAt)}
				})
		},
	}
}

func clientAndID(g *globals, arg, what string) (*client.Client, int64, error) {
	v, err := parseID(arg, what)
	if err != nil {
		return nil, 0, err
	}
	cl, err := g.client()
	return cl, v, err
}

// idRequest sends one request about the object named by arg (an id of
// kind what) to the path built from that id, and returns the raw answer
// with the id.
func idRequest(c *cobra.Command, g *globals, arg, what, method string, path func(id int64) string, q url.Values) (json.RawMessage, int64, error) {
	cl, v, err := clientAndID(g, arg, what)
	if err != nil {
		return nil, 0, err
	}
	var raw json.RawMessage
	if err := cl.Do(c.Context(), method, path(v), q, nil, &raw); err != nil {
		return nil, 0, err
	}
	return raw, v, nil
}

// runPath is the path of a run's item (suffix "") or of one of its actions.
func runPath(suffix string) func(int64) string {
	return func(id int64) string { return client.Item(client.Runs, id) + suffix }
}

// since formats how long ago t was, for progress lines.
func since(t time.Time) string { return time.Since(t).Round(100 * time.Millisecond).String() }
