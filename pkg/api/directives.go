package api

import (
	"encoding/json"
	"strings"
	"unicode/utf8"

	"github.com/cyberbrain/cyberbrain/pkg/store"
)

// directiveInput is a directive create/edit body. Read-only fields a client
// may send back from a GET are accepted and ignored.
type directiveInput struct {
	Name        Opt[string]          `json:"name"`
	Description Opt[string]          `json:"description"`
	TaskConfig  Opt[json.RawMessage] `json:"task_config"`
	readOnly
}

// readOnly lists server-maintained fields a GET returns: a client that PUTs
// back what it read is not refused for them, and they are never written.
type readOnly struct {
	ID        json.RawMessage `json:"id"`
	CreatedAt json.RawMessage `json:"created_at"`
	UpdatedAt json.RawMessage `json:"updated_at"`
}

// apply writes the input onto d; full (PUT, POST) requires name and resets
// absent optional fields.
func (in *directiveInput) apply(d *store.Directive, full bool) error {
	if full {
		*d = store.Directive{ID: d.ID, TaskConfig: json.RawMessage(`{}`)}
	}
	fields := map[string][]string{}
	if in.Name.Set {
		d.Name = strings.TrimSpace(in.Name.V)
	} else if full {
		fields["name"] = []string{"is required"}
	}
	if in.Name.Set && d.Name == "" {
		fields["name"] = []string{"must not be empty"}
	}
	if utf8.RuneCountInString(d.Name) > MaxNameChars {
		fields["name"] = []string{"must be at most 200 characters"}
	}
	if in.Description.Set {
		d.Description = in.Description.V
	}
	if in.TaskConfig.Set && !in.TaskConfig.Null {
		if err := jsonObject("task_config", in.TaskConfig.V); err != nil {
			return err
		}
		d.TaskConfig = in.TaskConfig.V
	} else if in.TaskConfig.Null {
		d.TaskConfig = json.RawMessage(`{}`)
	}
	if len(fields) > 0 {
		return badRequest(fields, "invalid directive")
	}
	return nil
}

// directives serves /api/directives.
func (s *Server) directives() collection {
	return crud[store.Directive, directiveInput]{
		list: s.st.ListDirectives, get: s.st.GetDirective, create: s.st.CreateDirective,
		update: s.st.UpdateDirective, remove: s.st.DeleteDirective, apply: (*directiveInput).apply,
	}.collection(s)
}
