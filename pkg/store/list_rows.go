package store

import (
	"context"
	"fmt"
	"slices"

	"gorm.io/gorm"
)

// ChunkRows is how many rows of a page PageRows.Each loads per query. A row
// may hold up to a few hundred KiB (descriptions, JSON configs, run
// snapshots), so a page of 1000 is never held in memory at once: the API
// writes each chunk to the client before it loads the next.
const ChunkRows = 16

// PageRows is one page of a list, read lazily: the page's ids are fixed when
// it is listed (so the page neither gains nor repeats rows while it is
// written), and the rows themselves are loaded ChunkRows at a time by Each.
type PageRows[T any] struct {
	Count int64
	IDs   []int64
	db    *gorm.DB // the list's table, without its filters
}

// Each calls fn with every row of the page in order. A row deleted since the
// page was listed is skipped.
func (p *PageRows[T]) Each(ctx context.Context, fn func(*T) error) error {
	for chunk := range slices.Chunk(p.IDs, ChunkRows) {
		rows, err := loadByIDs[T](ctx, p.db, chunk)
		if err != nil {
			return err
		}
		for _, r := range rows {
			if err := fn(r); err != nil {
				return err
			}
		}
	}
	return nil
}

// All loads every row of the page (tests, and callers that need a slice).
func (p *PageRows[T]) All(ctx context.Context) ([]T, error) {
	out := make([]T, 0, len(p.IDs))
	err := p.Each(ctx, func(v *T) error { out = append(out, *v); return nil })
	return out, err
}

// loadByIDs loads the rows with the given ids, in the order of ids.
func loadByIDs[T any](ctx context.Context, db *gorm.DB, ids []int64) ([]*T, error) {
	var rows []T
	if err := db.WithContext(ctx).Session(&gorm.Session{}).Where("id IN ?", ids).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("load rows of the page: %w", err)
	}
	byID := make(map[int64]*T, len(rows))
	for i := range rows {
		byID[rowID(&rows[i])] = &rows[i]
	}
	out := make([]*T, 0, len(ids))
	for _, id := range ids {
		if r, ok := byID[id]; ok {
			out = append(out, r)
		}
	}
	return out, nil
}

// rowID reads the primary key of one of the listed models.
func rowID(v any) int64 {
	switch r := v.(type) {
	case *Directive:
		return r.ID
	case *TaskDefinition:
		return r.ID
	case *Run:
		return r.ID
	case *Schedule:
		return r.ID
	case *WorkerHost:
		return r.ID
	case *ContainerAllowlistEntry:
		return r.ID
	case *NotificationChannel:
		return r.ID
	case *NotificationRule:
		return r.ID
	case *Delivery:
		return r.ID
	}
	panic(fmt.Sprintf("store: %T is not a listed model", v))
}

// listRows lists one page of the rows q selects: the total count and the
// page's ids, in the ordering the client chose (checked against a whitelist
// by orderClause). model is the table without q's filters; what names the
// list in errors.
func listRows[T any](ctx context.Context, q, model *gorm.DB, p ListParams, hasName bool, what string) (*PageRows[T], error) {
	out := &PageRows[T]{db: model}
	order, err := orderClause(p.Ordering, hasName)
	if err != nil {
		return nil, err
	}
	if err := q.WithContext(ctx).Session(&gorm.Session{}).Count(&out.Count).Error; err != nil {
		return nil, fmt.Errorf("%s: count: %w", what, err)
	}
	if out.Count == 0 || p.Offset >= int(out.Count) {
		return out, nil
	}
	limit := p.Limit
	if limit <= 0 || limit > MaxPageSize {
		limit = MaxPageSize
	}
	err = q.WithContext(ctx).Session(&gorm.Session{}).Order(order).Limit(limit).Offset(p.Offset).Pluck("id", &out.IDs).Error
	if err != nil {
		return nil, fmt.Errorf("%s: list: %w", what, err)
	}
	return out, nil
}
