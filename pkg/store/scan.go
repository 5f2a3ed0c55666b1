package store

import (
	"database/sql"

	"gorm.io/gorm"
)

// queryRows runs a query in tx and hands each row to scan, which reads the
// columns in the statement's order into its own variables. The completion
// and claim paths use it instead of gorm's Scan: gorm finds each column's
// field by reflection, and on those paths that was a third of a replica's
// CPU while it drained a backlog.
func queryRows(tx *gorm.DB, scan func(*sql.Rows) error, query string, args ...any) error {
	rows, err := tx.Raw(query, args...).Rows()
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}
