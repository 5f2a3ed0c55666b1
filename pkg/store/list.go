package store

import (
	"context"
	"fmt"
	"strings"

	"gorm.io/gorm"

	"github.com/cyberbrain/cyberbrain/pkg/domain"
)

// MaxPageSize bounds every list the API serves.
const MaxPageSize = 1000

// ListParams selects one page of a list.
type ListParams struct {
	Limit  int
	Offset int
	// Ordering is the client's ?ordering= value ("-created_at", "name"…);
	// empty means newest first. It is checked against a per-table whitelist
	// here, so a client value never reaches SQL as text.
	Ordering string
}

// Orderings lists the ?ordering= values a list accepts.
var Orderings = []string{"id", "-id", "created_at", "-created_at", "name", "-name"}

// orderClause maps a whitelisted ordering to SQL; hasName says whether the
// table has a name column.
func orderClause(ordering string, hasName bool) (string, error) {
	col, desc := strings.TrimPrefix(ordering, "-"), strings.HasPrefix(ordering, "-")
	if ordering == "" {
		col, desc = "id", true // newest first: ids grow with creation time
	}
	dir := "ASC"
	if desc {
		dir = "DESC"
	}
	switch {
	case col == "id":
		return "id " + dir, nil
	case col == "created_at":
		return "created_at " + dir + ", id " + dir, nil
	case col == "name" && hasName:
		return "name " + dir + ", id " + dir, nil
	}
	allowed := "id, -id, created_at, -created_at"
	if hasName {
		allowed += ", name, -name"
	}
	return "", domain.Invalid(map[string][]string{"ordering": {"must be one of " + allowed}},
		"unsupported ordering %q", ordering)
}

// The API's collections list, load and delete their rows the same way; the
// inserts and updates stay per table because each names its own columns
// (and casts, e.g. ?::jsonb) in SQL. listRows is in list_rows.go.

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
