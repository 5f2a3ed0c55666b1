package declarative

import (
	"bytes"
	"context"
	"fmt"

	"go.yaml.in/yaml/v3"

	"github.com/cyberbrain/cyberbrain/pkg/client"
)

// Export writes the running system's configuration in the file format:
// every section, objects in id order, fields in a fixed order. Full kinds
// leave out fields at their default (apply puts the default back); task
// settings are written whole, since only given fields are managed.
func Export(ctx context.Context, c *client.Client) ([]byte, error) {
	st, err := load(ctx, c)
	if err != nil {
		return nil, err
	}
	doc := &yaml.Node{Kind: yaml.MappingNode}
	for _, k := range kinds {
		seq := &yaml.Node{Kind: yaml.SequenceNode}
		for _, obj := range st.objects[k.section] {
			m := &yaml.Node{Kind: yaml.MappingNode}
			for _, f := range k.fields {
				v, ok := obj.item[f.name]
				if f.writeOnly || !ok || (!k.partial && equal(v, f.def)) {
					continue
				}
				var val yaml.Node
				if err := val.Encode(v); err != nil {
					return nil, fmt.Errorf("export %s %s: %w", k.noun, f.name, err)
				}
				m.Content = append(m.Content, scalar(f.name), &val)
			}
			seq.Content = append(seq.Content, m)
		}
		doc.Content = append(doc.Content, scalar(k.section), seq)
	}
	var out bytes.Buffer
	enc := yaml.NewEncoder(&out)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	header := fmt.Sprintf("# cyberbrain configuration exported from %s.\n"+
		"# Apply it with: cyberbrain apply -f FILE (TLS keys of worker hosts are never exported).\n", c.Server())
	return append([]byte(header), out.Bytes()...), nil
}

func scalar(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Value: s} }
