package store

import (
	"fmt"
	"strings"
	"sync"

	"gorm.io/gorm/schema"
)

// prefixedColumns lists model's columns as alias.col AS prefixcol, for a
// statement that returns two tables' rows side by side (scanned into a
// struct embedding model with embeddedPrefix). The list follows the model,
// so a column added to it is never silently missing from such a statement.
func prefixedColumns(model any, alias, prefix string) string {
	sch, err := schema.Parse(model, &sync.Map{}, schema.NamingStrategy{})
	if err != nil {
		panic(fmt.Sprintf("store: parse %T: %v", model, err)) // a programming error, found at start
	}
	cols := make([]string, len(sch.DBNames))
	for i, c := range sch.DBNames {
		cols[i] = fmt.Sprintf("%s.%s AS %s%s", alias, c, prefix, c)
	}
	return strings.Join(cols, ", ")
}
