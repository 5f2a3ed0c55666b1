package tasks

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/cyberbrain/cyberbrain/pkg/logtriage"
	"github.com/cyberbrain/cyberbrain/pkg/store"
)

// logTriageReport is log_triage.json; its Markdown rendering is report.md.
type logTriageReport struct {
	Host        string             `json:"host"`
	Scope       string             `json:"scope"`
	Window      string             `json:"window"`
	Tail        int                `json:"tail"`
	GeneratedAt time.Time          `json:"generated_at"`
	Containers  []*containerTriage `json:"containers"`
	// OutOfScope counts containers not read (not allow-listed); their names
	// are not reported either.
	OutOfScope int        `json:"containers_out_of_scope"`
	LLM        *llmResult `json:"llm,omitempty"`
	// Findings, ranked, most severe first.
	Findings []finding `json:"findings"`
}

func (r *logTriageReport) issues() int {
	n := 0
	for _, c := range r.Containers {
		n += c.Issues
	}
	return n
}

func (r *logTriageReport) levelTotal(l logtriage.Level) int {
	n := 0
	for _, c := range r.Containers {
		n += c.LevelCounts[l]
	}
	return n
}

// llmPrompt holds only the top templates (masked patterns, counts, levels):
// never raw log lines or examples.
func (r *logTriageReport) llmPrompt(max int) string {
	var b strings.Builder
	b.WriteString("You are helping a Docker host operator. Below are the most frequent problem log templates ")
	b.WriteString("(variable parts masked) per container. In at most 5 short bullet points say what is most likely wrong ")
	b.WriteString("and what to check first.\n\n")
	n := 0
	for _, c := range r.Containers {
		for _, t := range c.topTemplates() {
			if n >= max {
				break
			}
			fmt.Fprintf(&b, "- [%s] %s x%d: %s\n", c.Name, t.Level, t.Count, t.Pattern)
			n++
		}
	}
	return b.String()
}

func (r *logTriageReport) result(env Env) (*Result, error) {
	r.Findings = []finding{}
	for _, c := range r.Containers {
		if c.Error == "" {
			r.Findings = append(r.Findings, containerFindings(c)...)
		}
	}
	rankFindings(r.Findings)
	issues := r.issues()
	var newT, templates int
	for _, c := range r.Containers {
		newT += len(c.NewTemplates)
		templates += c.TemplatesTotal
	}
	summary := fmt.Sprintf("%d issue(s) in %d template(s) across %d container(s) on %s (%d fatal/panic, %d exception, %d error, %d warn); %d new template(s)",
		issues, templates, len(r.Containers), r.Host,
		r.levelTotal(logtriage.Fatal)+r.levelTotal(logtriage.Panic), r.levelTotal(logtriage.Exception),
		r.levelTotal(logtriage.Error), r.levelTotal(logtriage.Warn), newT)
	if len(r.Containers) == 0 {
		summary = fmt.Sprintf("no containers in scope %q on %s (%d not allow-listed)", r.Scope, r.Host, r.OutOfScope)
	}
	md := r.markdown(summary)
	js, err := jsonArtifact("log_triage", r)
	if err != nil {
		return nil, err
	}
	lines := 0
	for _, c := range r.Containers {
		lines += c.Lines
	}
	data := map[string]any{
		"summary": summary, "host": r.Host, "containers": len(r.Containers), "lines_read": lines,
		"issues": issues, "templates": templates, "new_templates": newT,
		"fatal": r.levelTotal(logtriage.Fatal), "panic": r.levelTotal(logtriage.Panic),
		"exception": r.levelTotal(logtriage.Exception), "error": r.levelTotal(logtriage.Error),
		"warn": r.levelTotal(logtriage.Warn), "containers_out_of_scope": r.OutOfScope, "findings": len(r.Findings),
	}
	hostID := env.Host.ID
	containers := r.Containers
	findings := r.Findings
	return &Result{
		Summary: summary, Data: data, ReportMarkdown: md,
		Artifacts: []Artifact{markdownArtifact(md), js},
		// Cursors move only when this attempt's result is accepted.
		OnCommit: func(ctx context.Context, tx CommitTx) error {
			for _, c := range containers {
				if c.Error != "" {
					continue
				}
				if err := tx.SaveLogState(ctx, hostID, c.Name, c.cursor, c.known); err != nil {
					return err
				}
				if err := tx.SaveTriageState(ctx, hostID, c.Name, c.minerState, c.baselines, c.Docker.ImageID); err != nil {
					return err
				}
			}
			return tx.SaveFindings(ctx, findingRows(env, findings))
		},
	}, nil
}

func (r *logTriageReport) markdown(summary string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "## Log triage — %s\n\n%s.\n\n", r.Host, summary)
	fmt.Fprintf(&b, "Scope `%s`, first-triage window %s, at most %d lines per container.", r.Scope, r.Window, r.Tail)
	if r.OutOfScope > 0 {
		fmt.Fprintf(&b, " %d container(s) not on the allow-list were not read.", r.OutOfScope)
	}
	b.WriteString("\n\n")
	b.WriteString(findingsMarkdown(r.Findings))
	if r.LLM != nil {
		b.WriteString("### Summary\n\n")
		if r.LLM.Error != "" {
			fmt.Fprintf(&b, "_LLM summary unavailable: %s_\n\n", r.LLM.Error)
		} else {
			b.WriteString(strings.TrimSpace(r.LLM.Answer) + "\n\n")
			fmt.Fprintf(&b, "_Summary by %s (%d tokens)._\n\n", r.LLM.Model, r.LLM.TotalTokens)
		}
	}
	for _, c := range r.Containers {
		fmt.Fprintf(&b, "### %s\n\n`%s` · %s · %s", mdEscape(c.Name), mdEscape(c.Image), c.State, c.ID)
		if c.FirstTriage {
			fmt.Fprintf(&b, " · first triage, since %s", c.Since.Format(time.RFC3339))
		} else {
			fmt.Fprintf(&b, " · since last triage at %s", c.Since.Format(time.RFC3339))
		}
		fmt.Fprintf(&b, " · %d lines read", c.Lines)
		if c.Truncated {
			b.WriteString(" (tail limit reached: older lines skipped)")
		}
		b.WriteString("\n\n")
		if c.Error != "" {
			fmt.Fprintf(&b, "_%s_\n\n", c.Error)
			continue
		}
		if c.Issues == 0 {
			b.WriteString("No warnings or errors.\n\n")
			continue
		}
		var counts []string
		for _, l := range logtriage.IssueLevels {
			if n := c.LevelCounts[l]; n > 0 {
				counts = append(counts, fmt.Sprintf("%s %d", l, n))
			}
		}
		fmt.Fprintf(&b, "Issues by level: %s.\n\n", strings.Join(counts, ", "))
		b.WriteString("| level | count | first seen | last seen | template | new |\n|---|---:|---|---|---|---|\n")
		for _, t := range c.topTemplates() {
			isNew := ""
			if t.New {
				isNew = "**new**"
			}
			fmt.Fprintf(&b, "| %s | %d | %s | %s | `%s` | %s |\n", t.Level, t.Count,
				t.FirstSeen.Format(time.RFC3339), t.LastSeen.Format(time.RFC3339), mdEscape(t.Pattern), isNew)
		}
		if c.TemplatesTotal > len(c.topTemplates()) {
			fmt.Fprintf(&b, "\n%d more template(s) in log_triage.json (raise `top` to list them here).\n", c.TemplatesTotal-len(c.topTemplates()))
		}
		if len(c.Templates) > 0 {
			t := c.Templates[0]
			fmt.Fprintf(&b, "\nExample of the top template:\n\n```\n%s\n```\n", strings.ReplaceAll(t.Example, "```", "'''"))
		}
		b.WriteString("\n")
	}
	return b.String()
}

// findingRows are the findings as rows of the job.
func findingRows(env Env, fs []finding) []store.Finding {
	out := make([]store.Finding, 0, len(fs))
	for i, f := range fs {
		ev, err := json.Marshal(f.Evidence)
		if err != nil {
			ev = []byte("{}")
		}
		out = append(out, store.Finding{RunID: env.Job.RunID, JobID: env.Job.ID, WorkerHostID: env.Host.ID,
			ContainerName: f.Container, Severity: f.Severity, Kind: f.Kind, Rank: i + 1, Statement: f.Statement, Evidence: ev})
	}
	return out
}
