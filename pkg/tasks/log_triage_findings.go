package tasks

import (
	"fmt"
	"sort"
	"strings"

	"github.com/cyberbrain/cyberbrain/pkg/logtriage"
)

// finding is one ranked diagnosis of a container (a row of findings).
type finding struct {
	Container string         `json:"container"`
	Severity  string         `json:"severity"`
	Kind      string         `json:"kind"`
	Statement string         `json:"statement"`
	Evidence  map[string]any `json:"evidence"`
	weight    int
}

var severityWeight = map[string]int{"critical": 4, "high": 3, "medium": 2, "low": 1}

// containerFindings turns a container's engine diagnosis and template
// trends into findings. Severity follows harm: the process died or was
// killed (critical), it restarts, turns unhealthy, or logs a new or spiking
// error (high), a new or spiking warning or another image (medium), a
// problem that stopped (low).
func containerFindings(c *containerTriage) []finding {
	var out []finding
	add := func(sev, kind, stmt string, ev map[string]any, count int) {
		out = append(out, finding{Container: c.Name, Severity: sev, Kind: kind, Statement: stmt, Evidence: ev, weight: count})
	}
	d := c.Docker
	if d.OOMKilled || d.Events["oom"] > 0 {
		add("critical", "oom", fmt.Sprintf("%s was killed for lack of memory (OOM, %d oom event(s))", c.Name, d.Events["oom"]),
			map[string]any{"oom_killed": d.OOMKilled, "oom_events": d.Events["oom"], "exit_code": d.ExitCode}, 0)
	}
	if d.Events["die"] > 0 && len(d.ExitCodes) > 0 || (d.State == "exited" && d.ExitCode != 0) {
		sev := "high"
		if d.State != "running" {
			sev = "critical"
		}
		add(sev, "exit", fmt.Sprintf("%s exited with code %d (%s now, %d die event(s))", c.Name, d.ExitCode, d.State, d.Events["die"]),
			map[string]any{"exit_code": d.ExitCode, "exit_codes": d.ExitCodes, "die_events": d.Events["die"], "state": d.State}, 0)
	}
	if n := max(d.Restarts, d.Events["restart"]); n > 0 {
		since := ""
		if !d.FirstEvent.IsZero() {
			since = " since " + d.FirstEvent.Format("15:04")
		}
		add("high", "restart", fmt.Sprintf("%s restarted %d×%s, restart count %d", c.Name, n, since, d.RestartCount),
			map[string]any{"restarts": n, "restart_events": d.Events["restart"], "restart_count": d.RestartCount, "exit_codes": d.ExitCodes}, n)
	}
	if d.Health == "unhealthy" || d.Events["health_status: unhealthy"] > 0 {
		add("high", "health", fmt.Sprintf("%s healthcheck is %s (%d unhealthy transition(s))", c.Name, d.Health, d.Events["health_status: unhealthy"]),
			map[string]any{"health": d.Health, "unhealthy_events": d.Events["health_status: unhealthy"], "healthy_events": d.Events["health_status: healthy"]}, 0)
	}
	if d.ImageChanged {
		add("medium", "image", fmt.Sprintf("%s runs another image than at its last triage", c.Name), map[string]any{"image_id": d.ImageID}, 0)
	}
	byKey := map[string]logtriage.Template{}
	for _, t := range c.Templates {
		byKey[t.Key] = t
	}
	for _, tr := range c.Trends {
		t, ok := byKey[tr.Key]
		if tr.Status == "steady" || (!ok && tr.Status != "resolved") {
			continue
		}
		sev := "medium"
		if t.Level.Rank() >= logtriage.Error.Rank() {
			sev = "high"
		}
		ev := map[string]any{"template": t.Pattern, "level": t.Level, "count": tr.Count, "key": tr.Key, "example": t.Example}
		switch tr.Status {
		case "new":
			add(sev, "new_template", fmt.Sprintf("new %s template `%s` %d×", t.Level, t.Pattern, tr.Count), ev, tr.Count)
		case "spiking":
			ev["factor"] = tr.Factor
			add(sev, "spiking_template", fmt.Sprintf("%s template `%s` %d×, %.1f× its usual rate", t.Level, t.Pattern, tr.Count, tr.Factor), ev, tr.Count)
		case "resolved":
			add("low", "resolved_template", fmt.Sprintf("template %s stopped appearing", tr.Key), map[string]any{"key": tr.Key}, 0)
		}
	}
	return out
}

// rankFindings orders findings most severe first, then by weight.
func rankFindings(fs []finding) {
	sort.SliceStable(fs, func(i, j int) bool {
		if a, b := severityWeight[fs[i].Severity], severityWeight[fs[j].Severity]; a != b {
			return a > b
		}
		return fs[i].weight > fs[j].weight
	})
}

// findingsMarkdown is the ranked list at the top of the report.
func findingsMarkdown(fs []finding) string {
	if len(fs) == 0 {
		return "### Findings\n\nNothing stands out.\n\n"
	}
	var b strings.Builder
	b.WriteString("### Findings\n\n")
	for i, f := range fs {
		fmt.Fprintf(&b, "%d. **%s** — %s: %s\n", i+1, f.Severity, mdEscape(f.Container), f.Statement)
	}
	b.WriteString("\n")
	return b.String()
}
