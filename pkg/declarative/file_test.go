package declarative

import (
	"strings"
	"testing"
)

// A file with mistakes is refused as a whole, every mistake named.
func TestParseRefusesMistakes(t *testing.T) {
	t.Parallel()
	_, err := Parse(strings.NewReader(`
schedules:
  - name: a
    cron: "0 * * * *"
  - name: a
  - task: noop
jobs: []
`))
	if err == nil {
		t.Fatal("accepted")
	}
	for _, want := range []string{`unknown section "jobs"`, `schedules[0]: unknown field "cron"`,
		`schedules[1]: the same schedule as schedules[0]`, `schedules[2]: name is required`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}

// Sections present but empty are kept (prune empties them); absent ones are not.
func TestParseKeepsEmptySections(t *testing.T) {
	t.Parallel()
	f, err := Parse(strings.NewReader("schedules: []\ndirectives:\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := f.Sections["schedules"]; !ok {
		t.Error("schedules: [] lost")
	}
	if _, ok := f.Sections["directives"]; !ok {
		t.Error("directives: (null) lost")
	}
	if _, ok := f.Sections["worker_hosts"]; ok {
		t.Error("an absent section appeared")
	}
}

// Full kinds fill defaults for absent fields; partial ones (tasks) do not.
func TestDesiredDefaults(t *testing.T) {
	t.Parallel()
	d := desired(kindOf("schedules"), map[string]any{"name": "x"})
	if d["timezone"] != "UTC" || d["enabled"] != true || d["directive"] != nil {
		t.Errorf("schedule defaults: %v", d)
	}
	if d := desired(kindOf("tasks"), map[string]any{"key": "noop", "enabled": true}); len(d) != 2 {
		t.Errorf("task fields managed beyond the given ones: %v", d)
	}
}
