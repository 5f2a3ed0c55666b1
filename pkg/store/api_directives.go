package store

import (
	"context"
	"fmt"

	"github.com/cyberbrain/cyberbrain/pkg/domain"
)

// ListDirectives returns one page of directives and the total count.
func (s *Store) ListDirectives(ctx context.Context, p ListParams) ([]Directive, int64, error) {
	var out []Directive
	n, err := listPage(ctx, s.DB.Model(&Directive{}), p, true, &out)
	if err != nil {
		return nil, 0, fmt.Errorf("directives: %w", err)
	}
	return out, n, nil
}

// GetDirective loads one directive.
func (s *Store) GetDirective(ctx context.Context, id int64) (*Directive, error) {
	var d Directive
	if err := s.DB.WithContext(ctx).Take(&d, id).Error; err != nil {
		return nil, notFound(fmt.Errorf("load directive %d: %w", id, err), "Directive not found")
	}
	return &d, nil
}

// CreateDirective inserts d (id and timestamps are filled in).
func (s *Store) CreateDirective(ctx context.Context, d *Directive) error {
	err := s.DB.WithContext(ctx).Raw(`INSERT INTO directives (name, description, task_config)
		VALUES (?, ?, ?::jsonb) RETURNING *`, d.Name, d.Description, string(d.TaskConfig)).Scan(d).Error
	return directiveErr(err, d.Name)
}

// UpdateDirective writes every editable field of d.
func (s *Store) UpdateDirective(ctx context.Context, d *Directive) error {
	res := s.DB.WithContext(ctx).Raw(`UPDATE directives SET name = ?, description = ?, task_config = ?::jsonb,
		updated_at = now() WHERE id = ? RETURNING *`, d.Name, d.Description, string(d.TaskConfig), d.ID).Scan(d)
	if res.Error == nil && res.RowsAffected == 0 {
		return domain.NotFound("Directive not found")
	}
	return directiveErr(res.Error, d.Name)
}

// DeleteDirective deletes a directive no run or schedule references.
func (s *Store) DeleteDirective(ctx context.Context, id int64) error {
	res := s.DB.WithContext(ctx).Exec(`DELETE FROM directives WHERE id = ?`, id)
	if res.Error != nil {
		return directiveErr(res.Error, "")
	}
	if res.RowsAffected == 0 {
		return domain.NotFound("Directive not found")
	}
	return nil
}

func directiveErr(err error, name string) error {
	return clientDBError(err, "write directive",
		fmt.Sprintf("a directive named %q already exists", name),
		"directive is referenced by runs or schedules (history is kept); it cannot be deleted")
}
