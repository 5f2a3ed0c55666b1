package declarative

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// File is a parsed cyberbrain.yaml: per section, its items in the file's
// terms (JSON-normal values: strings, float64, bool, nil, maps, slices).
// A section absent from the file is absent from Sections.
type File struct {
	Sections map[string][]map[string]any
}

// Parse reads and checks a file: known sections and fields only, identity
// fields present, no identity twice.
func Parse(r io.Reader) (*File, error) {
	var raw map[string]any
	dec := yaml.NewDecoder(r)
	if err := dec.Decode(&raw); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("parse: %w", err)
	}
	f := &File{Sections: map[string][]map[string]any{}}
	var problems []string
	for section, v := range raw {
		k := kindOf(section)
		if k == nil {
			problems = append(problems, fmt.Sprintf("unknown section %q (known: %s)", section, sectionNames()))
			continue
		}
		items, err := normalItems(v)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", section, err))
			continue
		}
		seen := map[string]int{}
		for i, it := range items {
			where := fmt.Sprintf("%s[%d]", section, i)
			for name := range it {
				if _, ok := k.field(name); !ok {
					problems = append(problems, fmt.Sprintf("%s: unknown field %q (known: %s)", where, name, fieldNames(k)))
				}
			}
			if k.key[0] != "host" && it[k.key[0]] == nil {
				problems = append(problems, fmt.Sprintf("%s: %s is required", where, k.key[0]))
			}
			id := identity(k, it)
			if j, dup := seen[id]; dup {
				problems = append(problems, fmt.Sprintf("%s: the same %s as %s[%d]", where, k.noun, section, j))
			}
			seen[id] = i
		}
		f.Sections[section] = items
	}
	if len(problems) > 0 {
		slices.Sort(problems)
		return nil, fmt.Errorf("invalid configuration:\n  %s", strings.Join(problems, "\n  "))
	}
	return f, nil
}

// normalItems turns a section's YAML value into JSON-normal maps.
func normalItems(v any) ([]map[string]any, error) {
	if v == nil {
		return []map[string]any{}, nil
	}
	var items []map[string]any
	if err := reNormal(v, &items); err != nil {
		return nil, errors.New("want a list of mappings")
	}
	for i, it := range items {
		if it == nil {
			return nil, fmt.Errorf("item %d is empty", i)
		}
	}
	return items, nil
}

// reNormal converts v into out through JSON, which makes YAML and API values
// comparable (numbers become float64, maps map[string]any).
func reNormal(v, out any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("to JSON: %w", err)
	}
	return json.Unmarshal(b, out)
}

func normal(v any) any {
	var out any
	if err := reNormal(v, &out); err != nil {
		return v
	}
	return out
}

func equal(a, b any) bool { return reflect.DeepEqual(normal(a), normal(b)) }

// identity is the key an item is matched by.
func identity(k *kind, it map[string]any) string {
	parts := make([]string, len(k.key))
	for i, name := range k.key {
		if v := it[name]; v != nil {
			parts[i] = fmt.Sprint(v)
		}
	}
	return strings.Join(parts, "\x00")
}

// label is how the plan names an item.
func label(k *kind, it map[string]any) string {
	if len(k.key) == 1 {
		return fmt.Sprintf("%s %q", k.noun, fmt.Sprint(it[k.key[0]]))
	}
	var parts []string
	for _, name := range k.key {
		if v := it[name]; v != nil && v != "" {
			parts = append(parts, fmt.Sprintf("%s=%v", name, v))
		}
	}
	if len(parts) == 0 {
		return k.noun
	}
	return k.noun + " " + strings.Join(parts, " ")
}

func sectionNames() string {
	var out []string
	for _, k := range kinds {
		out = append(out, k.section)
	}
	return strings.Join(out, ", ")
}

func fieldNames(k *kind) string {
	var out []string
	for _, f := range k.fields {
		out = append(out, f.name)
	}
	return strings.Join(out, ", ")
}

// render formats a value for the plan: compact JSON.
func render(v any) string {
	if v == nil {
		return "null"
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Sprint(v)
	}
	return strings.TrimSpace(b.String())
}
