package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cyberbrain/cyberbrain/pkg/client"
)

func newSchedulesCmd(g *globals) *cobra.Command {
	var all bool
	cmd := &cobra.Command{
		Use:   "schedules",
		Short: "List schedules (launch-run-… schedules of launches only with --all)",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			cl, err := g.client()
			if err != nil {
				return err
			}
			list, err := client.List(c.Context(), cl, client.Schedules, nil)
			if err != nil {
				return err
			}
			var keep []json.RawMessage
			for _, r := range list {
				var s client.Schedule
				if err := json.Unmarshal(r, &s); err != nil {
					return fmt.Errorf("decode schedule: %w", err)
				}
				if all || !strings.HasPrefix(s.Name, "launch-run-") {
					keep = append(keep, r)
				}
			}
			raw, err := json.Marshal(keep)
			if err != nil {
				return fmt.Errorf("encode schedules: %w", err)
			}
			if keep == nil {
				raw = []byte("[]")
			}
			return show(c.OutOrStdout(), g.json(), raw, []string{"ID", "NAME", "TASK", "WHEN", "ENABLED", "NEXT RUN", "LAST RUN"},
				func(s client.Schedule) []string {
					return []string{id(s.ID), s.Name, s.TaskKey, timing(s), yesNo(s.Enabled), when(s.NextRunAt), when(s.LastRunAt)}
				})
		},
	}
	cmd.Flags().BoolVar(&all, "all", false, "include the one-shot schedules launches create")
	return cmd
}

func timing(s client.Schedule) string {
	switch s.ScheduleType {
	case "interval":
		return "every " + optInt(s.IntervalMinutes) + "m"
	case "cron":
		return fmt.Sprintf("cron %q %s", s.CronExpr, s.Timezone)
	default:
		return s.ScheduleType
	}
}

func newScheduleCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "schedule", Short: "Create, edit, enable, disable, run, inspect or delete a schedule"}
	cmd.AddCommand(scheduleWriteCmd(g, "create"), scheduleWriteCmd(g, "edit"),
		scheduleActionCmd(g, "enable", http.MethodPost, "enable/"),
		scheduleActionCmd(g, "disable", http.MethodPost, "disable/"),
		scheduleActionCmd(g, "run-now", http.MethodPost, "run-now/"),
		scheduleActionCmd(g, "delete", http.MethodDelete, ""),
		scheduleHistoryCmd(g))
	return cmd
}

func printSchedule(c *cobra.Command, g *globals, raw []byte) error {
	if g.json() {
		return printJSON(c.OutOrStdout(), raw)
	}
	wrapped := append(append([]byte("["), raw...), ']')
	return show(c.OutOrStdout(), false, wrapped, []string{"ID", "NAME", "TASK", "WHEN", "ENABLED", "NEXT RUN"},
		func(s client.Schedule) []string {
			return []string{id(s.ID), s.Name, s.TaskKey, timing(s), yesNo(s.Enabled), when(s.NextRunAt)}
		})
}

func scheduleActionCmd(g *globals, verb, method, suffix string) *cobra.Command {
	return &cobra.Command{
		Use: verb + " ID",
		Short: map[string]string{"enable": "Enable a schedule", "disable": "Disable a schedule",
			"run-now": "Create a run of the schedule due now", "delete": "Delete a schedule (refused once it has history)"}[verb],
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			raw, sid, err := idRequest(c, g, args[0], "schedule", method,
				func(id int64) string { return client.Item(client.Schedules, id) + suffix }, nil)
			if err != nil {
				return err
			}
			switch {
			case g.json() && len(raw) > 0:
				return printJSON(c.OutOrStdout(), raw)
			case verb == "run-now":
				var r struct {
					RunID int64 `json:"run_id"`
				}
				if err := json.Unmarshal(raw, &r); err != nil {
					return fmt.Errorf("decode answer: %w", err)
				}
				fmt.Fprintf(c.OutOrStdout(), "run %d created (cyberbrain run %d)\n", r.RunID, r.RunID)
			case verb == "delete":
				fmt.Fprintf(c.OutOrStdout(), "schedule %d deleted\n", sid)
			default:
				return printSchedule(c, g, raw)
			}
			return nil
		},
	}
}

func scheduleHistoryCmd(g *globals) *cobra.Command {
	var limit int
	cmd := &cobra.Command{
		Use:   "history ID",
		Short: "List a schedule's slots and their runs, newest first",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			cl, sid, err := clientAndID(g, args[0], "schedule")
			if err != nil {
				return err
			}
			var h struct {
				Count int64           `json:"count"`
				Items json.RawMessage `json:"items"`
			}
			q := url.Values{"limit": {fmt.Sprint(limit)}}
			if err := cl.Do(c.Context(), http.MethodGet, client.Item(client.Schedules, sid)+"history/", q, nil, &h); err != nil {
				return err
			}
			return show(c.OutOrStdout(), g.json(), h.Items, []string{"SLOT", "RUN", "STATUS", "SCHEDULED FOR", "FINISHED", "ERROR"},
				func(i client.HistoryItem) []string {
					return []string{id(i.ID), id(i.RunID), i.Status, when(&i.ScheduledFor), when(i.FinishedAt), short(i.ErrorSummary, 60)}
				})
		},
	}
	cmd.Flags().IntVar(&limit, "limit", 20, "how many slots (at most 1000)")
	return cmd
}
