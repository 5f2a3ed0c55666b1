package tasks

import (
	"strings"
	"testing"
	"time"

	"github.com/cyberbrain/cyberbrain/pkg/logtriage"
)

func kinds(fs []finding) string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Severity+":"+f.Kind)
	}
	return strings.Join(out, ",")
}

// TestContainerFindingsFromTheEngine: each engine diagnosis gives its
// finding and severity.
func TestContainerFindingsFromTheEngine(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 12, 1, 10, 2, 0, 0, time.UTC)
	cases := []struct {
		name string
		d    dockerDiag
		want string
	}{
		{"healthy and quiet", dockerDiag{State: "running", Health: "healthy"}, ""},
		{"exited 1", dockerDiag{State: "exited", ExitCode: 1, Events: map[string]int{"die": 1}, ExitCodes: []string{"1"}}, "critical:exit"},
		{"exited 0 is fine", dockerDiag{State: "exited", Events: map[string]int{"die": 1}}, ""},
		{"died and running again", dockerDiag{State: "running", Events: map[string]int{"die": 1}, ExitCodes: []string{"2"}, Restarts: 1, FirstEvent: at},
			"high:exit,high:restart"},
		{"oom killed", dockerDiag{State: "exited", ExitCode: 137, OOMKilled: true, Events: map[string]int{"oom": 1, "die": 1}, ExitCodes: []string{"137"}},
			"critical:oom,critical:exit"},
		{"oom event only", dockerDiag{State: "running", Events: map[string]int{"oom": 2}}, "critical:oom"},
		{"docker restart", dockerDiag{State: "running", Events: map[string]int{"restart": 1}}, "high:restart"},
		{"unhealthy", dockerDiag{State: "running", Health: "unhealthy", Events: map[string]int{"health_status: unhealthy": 1}}, "high:health"},
		{"was unhealthy, healthy again", dockerDiag{State: "running", Health: "healthy", Events: map[string]int{"health_status: unhealthy": 1}}, "high:health"},
		{"other image", dockerDiag{State: "running", ImageChanged: true, ImageID: "sha256:b"}, "medium:image"},
	}
	for _, c := range cases {
		fs := containerFindings(&containerTriage{Name: "api", Docker: c.d})
		if got := kinds(fs); got != c.want {
			t.Errorf("%s: findings %q, want %q", c.name, got, c.want)
		}
	}
}

// TestRestartFindingEvidence: the statement and evidence of a restart
// policy at work (no "restart" events, die then start).
func TestRestartFindingEvidence(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 12, 1, 10, 2, 0, 0, time.UTC)
	d := dockerDiag{State: "running", RestartCount: 4, Restarts: 4, Events: map[string]int{"die": 4}, ExitCodes: []string{"1", "1", "1", "1"}, FirstEvent: at}
	fs := containerFindings(&containerTriage{Name: "api", Docker: d})
	var r *finding
	for i := range fs {
		if fs[i].Kind == "restart" {
			r = &fs[i]
		}
	}
	if r == nil {
		t.Fatalf("no restart finding in %+v", fs)
	}
	if r.Statement != "api restarted 4× since 10:02, restart count 4" {
		t.Errorf("statement %q", r.Statement)
	}
	if r.Evidence["restarts"] != 4 || r.Evidence["restart_events"] != 0 || r.Evidence["restart_count"] != 4 || r.weight != 4 {
		t.Errorf("evidence %v weight %d", r.Evidence, r.weight)
	}
}

// TestTemplateFindings: new and spiking templates are findings by level;
// steady ones are not; a resolved one is low.
func TestTemplateFindings(t *testing.T) {
	t.Parallel()
	c := &containerTriage{Name: "api", Templates: []logtriage.Template{
		{Key: "e", Level: logtriage.Error, Pattern: "failed to connect to db <*>", Count: 312},
		{Key: "w", Level: logtriage.Warn, Pattern: "slow query <*>", Count: 40},
		{Key: "s", Level: logtriage.Error, Pattern: "steady one", Count: 3},
	}, Trends: []logtriage.Trend{
		{Key: "e", Status: "new", Count: 312},
		{Key: "w", Status: "spiking", Factor: 5, Count: 40},
		{Key: "s", Status: "steady", Count: 3},
		{Key: "gone", Status: "resolved"},
		{Key: "unlisted", Status: "new", Count: 1},
	}}
	fs := containerFindings(c)
	if got := kinds(fs); got != "high:new_template,medium:spiking_template,low:resolved_template" {
		t.Fatalf("findings %q", got)
	}
	if fs[0].Statement != "new error template `failed to connect to db <*>` 312×" || fs[0].Evidence["count"] != 312 {
		t.Errorf("new template finding %+v", fs[0])
	}
	if !strings.Contains(fs[1].Statement, "5.0× its usual rate") || fs[1].Evidence["factor"] != 5.0 {
		t.Errorf("spiking finding %+v", fs[1])
	}
}

// TestRankFindings: most severe first, then the heaviest.
func TestRankFindings(t *testing.T) {
	t.Parallel()
	fs := []finding{
		{Severity: "low", Kind: "a"}, {Severity: "high", Kind: "b", weight: 2}, {Severity: "critical", Kind: "c"},
		{Severity: "high", Kind: "d", weight: 9}, {Severity: "medium", Kind: "e"},
	}
	rankFindings(fs)
	if got := kinds(fs); got != "critical:c,high:d,high:b,medium:e,low:a" {
		t.Errorf("ranked %q", got)
	}
	md := findingsMarkdown(fs[:1])
	if !strings.HasPrefix(md, "### Findings\n\n1. **critical** — ") {
		t.Errorf("markdown %q", md)
	}
	if findingsMarkdown(nil) != "### Findings\n\nNothing stands out.\n\n" {
		t.Errorf("empty markdown %q", findingsMarkdown(nil))
	}
}
