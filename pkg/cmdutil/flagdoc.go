package cmdutil

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// FlagTable renders a command's own flags (persistent and local) as the
// Markdown table docs/CONFIGURATION.md shows: flag, environment twin,
// default, meaning. env names a flag's twin ("" for none). The reference is
// generated from here so that it cannot drift from the flag definitions.
func FlagTable(cmd *cobra.Command, env func(flag string) string) string {
	var b strings.Builder
	b.WriteString("| flag | env | default | meaning |\n|---|---|---|---|\n")
	seen := map[string]bool{}
	row := func(f *pflag.Flag) {
		if seen[f.Name] || f.Name == "help" || f.Name == "version" {
			return
		}
		seen[f.Name] = true
		name := "`--" + f.Name + "`"
		if f.Shorthand != "" {
			name = "`-" + f.Shorthand + "`, " + name
		}
		e := "—"
		if v := env(f.Name); v != "" {
			e = "`" + v + "`"
		}
		def := "—"
		if f.DefValue != "" && f.DefValue != "[]" {
			def = "`" + f.DefValue + "`"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", name, e, def, strings.ReplaceAll(f.Usage, "|", `\|`))
	}
	cmd.PersistentFlags().VisitAll(row)
	cmd.Flags().VisitAll(row)
	return b.String()
}

// SyncSection compares the text between `<!-- BEGIN name -->` and
// `<!-- END name -->` in the file at path with content. With update set it
// rewrites the section when it differs. It reports whether the file matched.
func SyncSection(path, name, content string, update bool) (bool, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return false, fmt.Errorf("read %s: %w", path, err)
	}
	doc := string(raw)
	begin, end := "<!-- BEGIN "+name+" -->\n", "<!-- END "+name+" -->"
	i, j := strings.Index(doc, begin), strings.Index(doc, end)
	if i < 0 || j < i {
		return false, fmt.Errorf("%s has no section %q (%q … %q)", path, name, strings.TrimSpace(begin), end)
	}
	if doc[i+len(begin):j] == content {
		return true, nil
	}
	if update {
		doc = doc[:i+len(begin)] + content + doc[j:]
		if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
			return false, fmt.Errorf("write %s: %w", path, err)
		}
	}
	return false, nil
}

// CheckDocEnv is the environment variable that makes the reference tests
// rewrite the document instead of failing (go generate sets it).
const CheckDocEnv = "CYBERBRAIN_UPDATE_DOCS"
