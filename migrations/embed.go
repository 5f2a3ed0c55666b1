// Package migrations holds the versioned SQL schema of cyberbrain, embedded
// into both binaries and applied with goose.
package migrations

import "embed"

// FS is the embedded set of goose migration files.
//
//go:embed *.sql
var FS embed.FS
