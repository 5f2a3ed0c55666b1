package declarative

import (
	"context"
	"strings"
	"testing"
)

// YAML syntax errors name the line; structural mistakes name the section
// and item.
func TestParseErrors(t *testing.T) {
	t.Parallel()
	cases := []struct{ name, in, want string }{
		{"bad indentation", "directives:\n  - name: a\n    description: x\n   bad: y\n", "parse: yaml: line "},
		{"reserved character", "directives:\n  - name: a\n  - name: @b\n", "line 3: found character that cannot start any token"},
		{"tab", "directives:\n\t- name: a\n", "line 2"},
		{"unclosed flow", "schedules: [{name: a\n", "parse:"},
		{"duplicate key", "directives:\n  - name: a\n    name: b\n", "line 3"},
		{"top level list", "- directives\n", "parse:"},
		{"section is a mapping", "directives:\n  name: a\n", "directives: want a list of mappings"},
		{"section is a scalar", "schedules: every hour\n", "schedules: want a list of mappings"},
		{"item is a scalar", "worker_hosts:\n  - local\n", "worker_hosts: want a list of mappings"},
		{"empty item", "directives:\n  -\n", "directives: item 0 is empty"},
		{"unknown task field", "tasks:\n  - key: noop\n    enable: true\n", `tasks[0]: unknown field "enable" (known: key, name,`},
		{"tls field on a directive", "directives:\n  - name: a\n    tls_ca: x\n", `directives[0]: unknown field "tls_ca"`},
		{"api field name", "schedules:\n  - name: a\n    task_key: noop\n", `schedules[0]: unknown field "task_key"`},
		{"computed field", "schedules:\n  - name: a\n    next_run_at: now\n", `schedules[0]: unknown field "next_run_at"`},
		{"task without key", "tasks:\n  - enabled: true\n", "tasks[0]: key is required"},
		{"host without name", "worker_hosts:\n  - type: docker_tcp\n", "worker_hosts[0]: name is required"},
		{"null name", "directives:\n  - name: null\n", "directives[0]: name is required"},
		{"same allow-list entry", "allowlist:\n  - {container_name: a, host: h}\n  - {host: h, container_name: a}\n",
			"allowlist[1]: the same allow-list entry as allowlist[0]"},
		{"same task", "tasks:\n  - key: noop\n  - key: noop\n", "tasks[1]: the same task as tasks[0]"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f, err := Parse(strings.NewReader(tc.in))
			if err == nil {
				t.Fatalf("accepted: %+v", f)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error lacks %q:\n%v", tc.want, err)
			}
		})
	}
}

// Every problem of a file is listed at once, sorted, so that one run shows
// everything to fix.
func TestParseListsEveryProblemSorted(t *testing.T) {
	t.Parallel()
	_, err := Parse(strings.NewReader("worker_hosts:\n  - {name: a, colour: red}\nallowlist:\n  - {container: x}\nextra: 1\n"))
	if err == nil {
		t.Fatal("accepted")
	}
	lines := strings.Split(err.Error(), "\n")
	if lines[0] != "invalid configuration:" || len(lines) != 4 {
		t.Fatalf("got %q", lines)
	}
	for i, want := range []string{`  allowlist[0]: unknown field "container"`, `  unknown section "extra" (known: worker_hosts, directives, tasks, schedules, allowlist)`,
		`  worker_hosts[0]: unknown field "colour"`} {
		if !strings.HasPrefix(lines[i+1], want) {
			t.Errorf("line %d: %q, want prefix %q", i+1, lines[i+1], want)
		}
	}
}

// Allow-list entries differ by host or container id; an entry for every
// host is one without host.
func TestParseAllowlistIdentity(t *testing.T) {
	t.Parallel()
	f, err := Parse(strings.NewReader(`
allowlist:
  - container_name: nginx
  - container_name: nginx
    host: gpu1
  - container_name: nginx
    container_id: abc123
  - container_id: abc123
`))
	if err != nil {
		t.Fatal(err)
	}
	if n := len(f.Sections["allowlist"]); n != 4 {
		t.Errorf("%d entries", n)
	}
	k := kindOf("allowlist")
	if label(k, f.Sections["allowlist"][1]) != "allow-list entry host=gpu1 container_name=nginx" ||
		label(k, f.Sections["allowlist"][3]) != "allow-list entry container_id=abc123" || label(k, map[string]any{}) != "allow-list entry" {
		t.Errorf("labels: %q, %q", label(k, f.Sections["allowlist"][1]), label(k, f.Sections["allowlist"][3]))
	}
}

// Empty input, comments only, and an explicit empty document are no
// sections at all: apply changes nothing, even with --prune.
func TestParseEmpty(t *testing.T) {
	t.Parallel()
	for _, in := range []string{"", "# nothing yet\n", "---\n", "{}\n"} {
		f, err := Parse(strings.NewReader(in))
		if err != nil || len(f.Sections) != 0 {
			t.Errorf("Parse(%q) = %v, %v", in, f, err)
		}
	}
}

// Values are JSON-normal whatever YAML spelling they had, so that they
// compare with the API's.
func TestParseNormalisesValues(t *testing.T) {
	t.Parallel()
	f := mustParse(t, `
schedules:
  - name: s
    interval_minutes: 15
    enabled: no
    max_global: 0x10
directives:
  - name: d
    task_config: {log_triage: {tail: 500, since: 1.5, tags: [a, b]}}
`)
	s := f.Sections["schedules"][0]
	if s["interval_minutes"] != 15.0 || s["max_global"] != 16.0 {
		t.Errorf("numbers %#v", s)
	}
	// YAML 1.2: "no" is a string, which the API then refuses; it is not
	// silently turned into false.
	if s["enabled"] != "no" {
		t.Errorf("enabled %#v", s["enabled"])
	}
	if !equal(f.Sections["directives"][0]["task_config"], map[string]any{"log_triage": map[string]any{"tail": 500, "since": 1.5, "tags": []string{"a", "b"}}}) {
		t.Errorf("task_config %#v", f.Sections["directives"][0]["task_config"])
	}
}

// Strings that YAML would read as other types survive export → parse, so a
// round trip does not turn a description "true" into a boolean.
func TestExportQuotesAmbiguousStrings(t *testing.T) {
	t.Parallel()
	f, c := newFake(t)
	tricky := []string{"true", "123", "null", "~", "yes", "0x1F", "1e3", " lead", "a: b", "#hash", "multi\nline\n", "", "- x", "é ✓"}
	for i, s := range tricky {
		f.add("/api/directives/", apiDirective(int64(i+1), "d"+s+"-"+string(rune('a'+i)), map[string]any{"description": s,
			"task_config": map[string]any{"noop": map[string]any{"s": s}}}))
	}
	out, err := Export(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	file, err := Parse(strings.NewReader(string(out)))
	if err != nil {
		t.Fatalf("export does not parse: %v\n%s", err, out)
	}
	for i, it := range file.Sections["directives"] {
		want := tricky[i]
		got, _ := it["description"]
		if want == "" {
			got = "" // the default is left out
		}
		if got != want {
			t.Errorf("description %q came back as %#v", want, it["description"])
		}
	}
	p, err := MakePlan(context.Background(), c, file, Options{Prune: true})
	if err != nil || len(p.Changes) != 0 {
		t.Errorf("round trip plans changes: %q %v", lines(p), err)
	}
}
