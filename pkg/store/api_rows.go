package store

import (
	"context"
	"fmt"

	"gorm.io/gorm"

	"github.com/cyberbrain/cyberbrain/pkg/domain"
)

// The API's collections list, load and delete their rows the same way; the
// inserts and updates stay per table because each names its own columns
// (and casts, e.g. ?::jsonb) in SQL.

// listRows loads one page of the rows q selects; hasName says whether the
// table may be ordered by name, and what names the list in errors.
func listRows[T any](ctx context.Context, q *gorm.DB, p ListParams, hasName bool, what string) ([]T, int64, error) {
	var out []T
	n, err := listPage(ctx, q, p, hasName, &out)
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %w", what, err)
	}
	return out, n, nil
}

// getRow loads the T with the given id; a missing row is a 404 with
// notFoundMsg, and what names the row in other errors.
func getRow[T any](ctx context.Context, db *gorm.DB, id int64, what, notFoundMsg string) (*T, error) {
	var v T
	if err := db.WithContext(ctx).Take(&v, id).Error; err != nil {
		return nil, notFound(fmt.Errorf("load %s %d: %w", what, id, err), "%s", notFoundMsg)
	}
	return &v, nil
}

// deleteRow deletes row id of table (a constant of this package, never
// client text). A failed delete goes through dbErr, which turns a foreign key
// violation into the table's "still referenced" conflict; a missing row is a
// 404 with notFoundMsg.
func deleteRow(ctx context.Context, db *gorm.DB, table string, id int64, notFoundMsg string, dbErr func(error) error) error {
	res := db.WithContext(ctx).Exec(`DELETE FROM `+table+` WHERE id = ?`, id)
	if res.Error != nil {
		return dbErr(res.Error)
	}
	if res.RowsAffected == 0 {
		return domain.NotFound("%s", notFoundMsg)
	}
	return nil
}
