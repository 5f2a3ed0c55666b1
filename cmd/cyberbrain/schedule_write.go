package main

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/spf13/cobra"

	"github.com/cyberbrain/cyberbrain/pkg/client"
)

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
