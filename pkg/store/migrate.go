package store

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/cyberbrain/cyberbrain/migrations"
)

// NewMigrator returns a goose provider over the embedded migrations that holds
// a Postgres advisory lock while it works, so several processes starting at
// once migrate one after another.
func NewMigrator(db *sql.DB) (*goose.Provider, error) {
	locker, err := lock.NewPostgresSessionLocker()
	if err != nil {
		return nil, fmt.Errorf("migration locker: %w", err)
	}
	sub, err := fs.Sub(migrations.FS, ".")
	if err != nil {
		return nil, err
	}
	p, err := goose.NewProvider(goose.DialectPostgres, db, sub, goose.WithSessionLocker(locker))
	if err != nil {
		return nil, fmt.Errorf("migration provider: %w", err)
	}
	return p, nil
}

// MigrateUp applies every pending migration.
func MigrateUp(ctx context.Context, db *sql.DB) error {
	p, err := NewMigrator(db)
	if err != nil {
		return err
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate up: %w", err)
	}
	return nil
}

// MigrateDownTo rolls back to the given version (0 = empty schema).
func MigrateDownTo(ctx context.Context, db *sql.DB, version int64) error {
	p, err := NewMigrator(db)
	if err != nil {
		return err
	}
	if _, err := p.DownTo(ctx, version); err != nil {
		return fmt.Errorf("migrate down: %w", err)
	}
	return nil
}

// SchemaCurrent reports whether the database is at the latest migration.
func SchemaCurrent(ctx context.Context, db *sql.DB) (current, latest int64, err error) {
	p, err := NewMigrator(db)
	if err != nil {
		return 0, 0, err
	}
	current, err = p.GetDBVersion(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("schema version: %w", err)
	}
	sources := p.ListSources()
	if len(sources) > 0 {
		latest = sources[len(sources)-1].Version
	}
	return current, latest, nil
}

// MigrateUp applies every pending migration to the store's database.
func (s *Store) MigrateUp(ctx context.Context) error { return MigrateUp(ctx, s.sql) }

// MigrateDownTo rolls the store's database back to version (0 = empty schema).
func (s *Store) MigrateDownTo(ctx context.Context, version int64) error {
	return MigrateDownTo(ctx, s.sql, version)
}

// SchemaCurrent reports the store's schema version and the latest one.
func (s *Store) SchemaCurrent(ctx context.Context) (current, latest int64, err error) {
	return SchemaCurrent(ctx, s.sql)
}
