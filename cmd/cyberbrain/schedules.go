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

// scheduleFlags are the fields create and edit send; edit sends only the
// flags given (PATCH), create sends them all.
type scheduleFlags struct {
	name, task, typ, cron, timezone, text string
	directive, host                       int64
	interval, maxGlobal, maxPerJob        int
	enabled                               bool
}

func scheduleWriteCmd(g *globals, verb string) *cobra.Command {
	sf := &scheduleFlags{}
	use, short := "create", "Create a schedule"
	if verb == "edit" {
		use, short = "edit ID", "Change the given fields of a schedule"
	}
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Example: `  cyberbrain schedule create --name triage-hourly --task log_triage --type cron --cron '0 * * * *' --timezone Europe/Berlin
  cyberbrain schedule edit 3 --type interval --interval 15`,
		Args: cobra.ExactArgs(map[string]int{"create": 0, "edit": 1}[verb]),
		RunE: func(c *cobra.Command, args []string) error {
			cl, err := g.client()
			if err != nil {
				return err
			}
			body := sf.body(c, verb == "create")
			method, path := http.MethodPost, client.Schedules
			if verb == "edit" {
				sid, err := parseID(args[0], "schedule")
				if err != nil {
					return err
				}
				if len(body) == 0 {
					return fmt.Errorf("nothing to change: give at least one flag (see --help)")
				}
				method, path = http.MethodPatch, client.Item(client.Schedules, sid)
			}
			var raw json.RawMessage
			if err := cl.Do(c.Context(), method, path, nil, body, &raw); err != nil {
				return err
			}
			return printSchedule(c, g, raw)
		},
	}
	f := cmd.Flags()
	f.StringVar(&sf.name, "name", "", "unique name")
	f.StringVar(&sf.task, "task", "", "task key")
	f.StringVar(&sf.typ, "type", "", "one_shot, interval or cron")
	f.IntVar(&sf.interval, "interval", 0, "minutes between runs (--type interval)")
	f.StringVar(&sf.cron, "cron", "", "cron expression, 5 fields or @daily (--type cron)")
	f.StringVar(&sf.timezone, "timezone", "UTC", "IANA time zone of the cron expression")
	f.Int64Var(&sf.directive, "directive", 0, "directive id (0: the default directive)")
	f.Int64Var(&sf.host, "host", 0, "worker host id (0: chosen per run)")
	f.StringVar(&sf.text, "text", "", "custom directive text")
	f.IntVar(&sf.maxGlobal, "max-global", 0, "running runs of this schedule at once (0: unlimited)")
	f.IntVar(&sf.maxPerJob, "max-per-job", 0, "running jobs of its task when one starts (0: unlimited)")
	f.BoolVar(&sf.enabled, "enabled", true, "whether it fires")
	_ = cmd.RegisterFlagCompletionFunc("type", fixedCompletion("one_shot", "interval", "cron"))
	return cmd
}

// body maps the flags onto API fields: ids and limits of 0 mean null.
func (sf *scheduleFlags) body(c *cobra.Command, all bool) map[string]any {
	b := map[string]any{}
	set := func(flag, field string, v any) {
		if all || c.Flags().Changed(flag) {
			b[field] = v
		}
	}
	nullable := func(flag, field string, v int64) {
		if v == 0 {
			set(flag, field, nil)
		} else {
			set(flag, field, v)
		}
	}
	set("name", "name", sf.name)
	set("task", "task_key", sf.task)
	set("type", "schedule_type", sf.typ)
	if sf.interval != 0 || c.Flags().Changed("interval") {
		nullable("interval", "interval_minutes", int64(sf.interval))
	}
	if sf.cron != "" || c.Flags().Changed("cron") {
		set("cron", "cron_expr", sf.cron)
	}
	set("timezone", "timezone", sf.timezone)
	nullable("directive", "directive_id", sf.directive)
	nullable("host", "target_host_id", sf.host)
	set("text", "custom_directive_text", sf.text)
	nullable("max-global", "max_global", int64(sf.maxGlobal))
	nullable("max-per-job", "max_per_job", int64(sf.maxPerJob))
	set("enabled", "enabled", sf.enabled)
	return b
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
			cl, sid, err := clientAndID(g, args[0], "schedule")
			if err != nil {
				return err
			}
			var raw json.RawMessage
			if err := cl.Do(c.Context(), method, client.Item(client.Schedules, sid)+suffix, nil, nil, &raw); err != nil {
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
