package store

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/cyberbrain/cyberbrain/pkg/domain"
	"gorm.io/gorm"
)

// ListDirectives returns one page of directives and the total count.
func (s *Store) ListDirectives(ctx context.Context, p ListParams) (*PageRows[Directive], error) {
	return listRows[Directive](ctx, s.db.Model(&Directive{}), s.db.Model(&Directive{}), p, true, "directives")
}

// GetDirective loads one directive.
func (s *Store) GetDirective(ctx context.Context, id int64) (*Directive, error) {
	return getRow[Directive](ctx, s.db, id, "directive", "Directive not found")
}

// CreateDirective inserts d (id and timestamps are filled in).
func (s *Store) CreateDirective(ctx context.Context, d *Directive) error {
	err := s.db.WithContext(ctx).Raw(`INSERT INTO directives (name, description, task_config)
		VALUES (?, ?, ?::jsonb) RETURNING *`, d.Name, d.Description, string(d.TaskConfig)).Scan(d).Error
	return directiveErr(err, d.Name)
}

// UpdateDirective writes every editable field of d.
func (s *Store) UpdateDirective(ctx context.Context, d *Directive) error {
	res := s.db.WithContext(ctx).Raw(`UPDATE directives SET name = ?, description = ?, task_config = ?::jsonb,
		updated_at = now() WHERE id = ? RETURNING *`, d.Name, d.Description, string(d.TaskConfig), d.ID).Scan(d)
	if res.Error == nil && res.RowsAffected == 0 {
		return domain.NotFound("Directive not found")
	}
	return directiveErr(res.Error, d.Name)
}

// DeleteDirective deletes a directive no run or schedule references.
func (s *Store) DeleteDirective(ctx context.Context, id int64) error {
	return deleteRow(ctx, s.db, "directives", id, "Directive not found", func(err error) error { return directiveErr(err, "") })
}

func directiveErr(err error, name string) error {
	return clientDBError(err, "write directive",
		fmt.Sprintf("a directive named %q already exists", name),
		"directive is referenced by runs or schedules (history is kept); it cannot be deleted")
}

// DefaultDirectiveName is the directive of every run created without one: a
// launch without directive_id, and a slot or run-now of a schedule without a
// directive.
const DefaultDirectiveName = "default"

// defaultDirective returns the `default` directive, creating it on first use.
func defaultDirective(ctx context.Context, db *gorm.DB) (*Directive, error) {
	db = db.WithContext(ctx)
	err := db.Exec(`INSERT INTO directives (name, description) VALUES (?, 'Created on first run without a directive')
		ON CONFLICT (name) DO NOTHING`, DefaultDirectiveName).Error
	if err != nil {
		return nil, fmt.Errorf("create default directive: %w", err)
	}
	var d Directive
	if err := db.Where("name = ?", DefaultDirectiveName).Take(&d).Error; err != nil {
		return nil, fmt.Errorf("load default directive: %w", err)
	}
	return &d, nil
}

// directiveSnapshot is what a run keeps of its directive, however it was
// created: the directive's id, name, description and task_config, and for a
// schedule's run the schedule's id, name and custom_directive_text.
func directiveSnapshot(dir *Directive, sch *Schedule) json.RawMessage {
	snap := map[string]any{"id": dir.ID, "name": dir.Name, "description": dir.Description, "task_config": dir.TaskConfig}
	if sch != nil {
		snap["schedule_id"], snap["schedule"] = sch.ID, sch.Name
		if sch.CustomDirectiveText != "" {
			snap["custom_directive_text"] = sch.CustomDirectiveText
		}
	}
	b, _ := json.Marshal(snap) // maps of strings, numbers and raw JSON always marshal
	return b
}

// MergeConfig returns a task's config: its default config overlaid with the
// directive's task_config entry for that task (task_config[key]) when present.
func MergeConfig(defaults, directiveConfig json.RawMessage, key string) json.RawMessage {
	merged := map[string]any{}
	_ = json.Unmarshal(defaults, &merged)
	var dc map[string]json.RawMessage
	if json.Unmarshal(directiveConfig, &dc) == nil {
		var over map[string]any
		if json.Unmarshal(dc[key], &over) == nil {
			for k, v := range over {
				merged[k] = v
			}
		}
	}
	b, _ := json.Marshal(merged)
	return b
}
