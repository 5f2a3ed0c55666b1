package store

import (
	"database/sql/driver"
	"strconv"
	"strings"
)

// Int64s is a bigint[] query argument. gorm expands plain slices into IN
// lists; a driver.Valuer passes through as one array parameter.
type Int64s []int64

// Value renders the Postgres array literal.
func (a Int64s) Value() (driver.Value, error) {
	var b strings.Builder
	b.WriteByte('{')
	for i, v := range a {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatInt(v, 10))
	}
	b.WriteByte('}')
	return b.String(), nil
}

// textArray is a text[] query argument (see Int64s).
type textArray []string

// Value renders the Postgres array literal with every element quoted.
func (a textArray) Value() (driver.Value, error) {
	var b strings.Builder
	b.WriteByte('{')
	for i, v := range a {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('"')
		b.WriteString(strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(v))
		b.WriteByte('"')
	}
	b.WriteByte('}')
	return b.String(), nil
}
