package declarative

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/cyberbrain/cyberbrain/pkg/client"
)

// object is one API object: its id and its view in the file's terms.
type object struct {
	id   int64
	item map[string]any
}

// state is what the running system holds, per section.
type state struct {
	objects map[string][]object
	// ids and names translate references: section → name → id and back.
	ids   map[string]map[string]int64
	names map[string]map[int64]string
}

// load reads every managed object through the API.
func load(ctx context.Context, c *client.Client) (*state, error) {
	st := &state{objects: map[string][]object{}, ids: map[string]map[string]int64{}, names: map[string]map[int64]string{}}
	raw := map[string][]map[string]any{}
	for _, k := range kinds {
		list, err := client.List(ctx, c, k.path, nil)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", k.section, err)
		}
		for _, r := range list {
			var o map[string]any
			if err := json.Unmarshal(r, &o); err != nil {
				return nil, fmt.Errorf("decode %s: %w", k.section, err)
			}
			if k.internal != nil && k.internal(o) {
				continue
			}
			raw[k.section] = append(raw[k.section], o)
			if name, ok := o["name"].(string); ok {
				st.remember(k.section, name, int64(o["id"].(float64)))
			}
		}
	}
	for _, k := range kinds {
		for _, o := range raw[k.section] {
			item, err := st.toFile(k, o)
			if err != nil {
				return nil, err
			}
			st.objects[k.section] = append(st.objects[k.section], object{id: int64(o["id"].(float64)), item: item})
		}
	}
	return st, nil
}

func (st *state) remember(section, name string, id int64) {
	if st.ids[section] == nil {
		st.ids[section], st.names[section] = map[string]int64{}, map[int64]string{}
	}
	st.ids[section][name], st.names[section][id] = id, name
}

// toFile is an API object in the file's terms: references become names.
func (st *state) toFile(k *kind, o map[string]any) (map[string]any, error) {
	item := map[string]any{}
	for _, f := range k.fields {
		if f.writeOnly {
			continue
		}
		v := o[f.apiName()]
		if f.ref != "" && v != nil {
			id := int64(v.(float64))
			name, ok := st.names[f.ref][id]
			if !ok {
				return nil, fmt.Errorf("%s %v names %s id %d, which the API did not list", k.noun, o["id"], f.ref, id)
			}
			v = name
		}
		item[f.name] = v
	}
	return item, nil
}

// toAPI is a file item (or some of its fields) as an API body: names become
// ids. A name not found is an error unless the object is created earlier in
// the same apply (st is updated as objects are created).
func (st *state) toAPI(k *kind, fields map[string]any) (map[string]any, error) {
	body := map[string]any{}
	for name, v := range fields {
		f, _ := k.field(name)
		if f.ref != "" && v != nil {
			id, ok := st.ids[f.ref][fmt.Sprint(v)]
			if !ok {
				return nil, fmt.Errorf("%s: %s %q does not exist", name, kindOf(f.ref).noun, v)
			}
			v = id
		}
		body[f.apiName()] = v
	}
	return body, nil
}

// desired is a file item with the defaults of absent fields filled in (full
// kinds) or as given (partial kinds); write-only fields are left out.
func desired(k *kind, it map[string]any) map[string]any {
	out := map[string]any{}
	for _, f := range k.fields {
		if f.writeOnly {
			continue
		}
		v, given := it[f.name]
		if !given {
			if k.partial {
				continue
			}
			v = normal(f.def)
		}
		out[f.name] = v
	}
	return out
}
