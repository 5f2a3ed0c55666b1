package declarative

import (
	"context"
	"fmt"
	"strings"

	"github.com/cyberbrain/cyberbrain/pkg/client"
)

// Action is what a change does.
type Action string

// The three actions of a plan.
const (
	Create Action = "create"
	Update Action = "update"
	Delete Action = "delete"
)

// Change is one step of a plan.
type Change struct {
	Action Action
	Kind   string // section
	Label  string // `schedule "nightly"`
	ID     int64  // the object's id (update, delete)
	// Fields are what create sends or update changes (file terms).
	Fields map[string]any
	// Diff says, for an update, which field goes from what to what.
	Diff []string
}

func (c Change) String() string {
	switch c.Action {
	case Create:
		return "+ create " + c.Label
	case Delete:
		return "- delete " + c.Label
	default:
		return "~ update " + c.Label + ": " + strings.Join(c.Diff, ", ")
	}
}

// Plan is the ordered list of changes that makes the system match a file.
type Plan struct {
	Changes   []Change
	Unchanged int // objects the file names that already match
	st        *state
}

// String prints the plan, or says that nothing changes.
func (p *Plan) String() string {
	if len(p.Changes) == 0 {
		return fmt.Sprintf("no changes: the system already matches the file (%d objects)\n", p.Unchanged)
	}
	var b strings.Builder
	for _, c := range p.Changes {
		b.WriteString(c.String() + "\n")
	}
	fmt.Fprintf(&b, "%d to change, %d unchanged\n", len(p.Changes), p.Unchanged)
	return b.String()
}

// Options change what a plan includes.
type Options struct {
	// Prune deletes, in the sections the file has, what it does not name.
	Prune bool
}

// MakePlan reads the running system and compares it with f. It changes nothing.
func MakePlan(ctx context.Context, c *client.Client, f *File, o Options) (*Plan, error) {
	st, err := load(ctx, c)
	if err != nil {
		return nil, err
	}
	p := &Plan{st: st}
	for _, k := range kinds {
		items, has := f.Sections[k.section]
		if !has {
			continue
		}
		current := map[string]object{}
		for _, obj := range st.objects[k.section] {
			current[identity(k, obj.item)] = obj
		}
		named := map[string]bool{}
		for _, it := range items {
			id := identity(k, it)
			named[id] = true
			want := desired(k, it)
			obj, exists := current[id]
			if !exists {
				fields := want
				for _, fl := range k.fields { // write-only material goes with the create
					if v, ok := it[fl.name]; ok && fl.writeOnly {
						fields[fl.name] = v
					}
				}
				p.Changes = append(p.Changes, Change{Action: Create, Kind: k.section, Label: label(k, it), Fields: fields})
				continue
			}
			ch := Change{Action: Update, Kind: k.section, Label: label(k, it), ID: obj.id, Fields: map[string]any{}}
			for _, fl := range k.fields {
				v, managed := want[fl.name]
				if !managed || equal(v, obj.item[fl.name]) {
					continue
				}
				ch.Fields[fl.name] = v
				ch.Diff = append(ch.Diff, fmt.Sprintf("%s %s → %s", fl.name, render(obj.item[fl.name]), render(v)))
			}
			if len(ch.Fields) == 0 {
				p.Unchanged++
				continue
			}
			p.Changes = append(p.Changes, ch)
		}
		if o.Prune && !k.noPrune {
			for _, obj := range st.objects[k.section] {
				if !named[identity(k, obj.item)] {
					p.Changes = append(p.Changes, Change{Action: Delete, Kind: k.section, Label: label(k, obj.item), ID: obj.id})
				}
			}
		}
	}
	return p, nil
}
