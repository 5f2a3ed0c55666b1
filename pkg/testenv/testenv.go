// Package testenv gives tests a real PostgreSQL database of their own (cloned
// from a migrated template, so tests run in parallel without seeing each
// other) and tells them whether a real Docker engine is reachable.
package testenv

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"

	"github.com/cyberbrain/cyberbrain/migrations"
	"github.com/cyberbrain/cyberbrain/pkg/store"
)

// AdminURL is the server tests create their databases on: TEST_DATABASE_URL,
// else DATABASE_URL. `make test` starts a private cluster when neither is set.
func AdminURL(t testing.TB) string {
	t.Helper()
	u, err := adminURL()
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func adminURL() (string, error) {
	for _, k := range []string{"TEST_DATABASE_URL", "DATABASE_URL"} {
		if v := os.Getenv(k); v != "" {
			return v, nil
		}
	}
	return "", errors.New("no PostgreSQL for tests: set TEST_DATABASE_URL (make test starts a private cluster by itself)")
}

var (
	templateOnce sync.Once
	templateName string
	templateErr  error
)

// NewStore returns a store on a fresh, fully migrated database dropped when
// the test ends.
func NewStore(t testing.TB) *store.Store {
	t.Helper()
	u := NewDatabaseURL(t)
	st, err := openStore(u)
	if err != nil {
		t.Fatalf("open test store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// openStore opens a test store with the api's and scheduler's default
// statement deadline (--db-timeout 5s), so tests run the statements under
// the same per-statement contexts as production.
func openStore(u string) (*store.Store, error) {
	return store.Open(context.Background(), u, store.Options{MaxConns: 16, StatementTimeout: 5 * time.Second})
}

// ExampleStore is NewStore for Examples, which have no *testing.T: a store
// on a fresh, fully migrated database of the server at TEST_DATABASE_URL
// (else DATABASE_URL). The returned function closes the store and drops the
// database. It panics when no database can be had, which fails the Example.
func ExampleStore() (*store.Store, func()) {
	admin, err := adminURL()
	if err != nil {
		panic(err)
	}
	tmpl, err := migratedTemplate(admin)
	if err != nil {
		panic(fmt.Sprintf("test template database: %v", err))
	}
	u, drop, err := newDatabase(admin, "TEMPLATE "+tmpl)
	if err != nil {
		panic(err)
	}
	st, err := openStore(u)
	if err != nil {
		drop()
		panic(fmt.Sprintf("open test store: %v", err))
	}
	return st, func() {
		st.Close()
		drop()
	}
}

// NewDatabaseURL creates a fresh migrated database and returns its URL.
func NewDatabaseURL(t testing.TB) string {
	t.Helper()
	admin := AdminURL(t)
	tmpl, err := migratedTemplate(admin)
	if err != nil {
		t.Fatalf("test template database: %v", err)
	}
	return createDatabase(t, admin, "TEMPLATE "+tmpl)
}

// migratedTemplate returns the migrated template database's name, created
// once per process (see ensureTemplate).
func migratedTemplate(admin string) (string, error) {
	templateOnce.Do(func() { templateName, templateErr = ensureTemplate(admin) })
	return templateName, templateErr
}

// NewEmptyDatabaseURL creates an empty database (no migrations applied).
func NewEmptyDatabaseURL(t testing.TB) string {
	t.Helper()
	return createDatabase(t, AdminURL(t), "TEMPLATE template0")
}

func createDatabase(t testing.TB, admin, template string) string {
	t.Helper()
	u, drop, err := newDatabase(admin, template)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(drop)
	return u
}

// newDatabase creates a database from template on the server at admin and
// returns its URL and the function that drops it.
func newDatabase(admin, template string) (string, func(), error) {
	db, err := sql.Open("pgx", admin)
	if err != nil {
		return "", nil, fmt.Errorf("open admin: %w", err)
	}
	defer db.Close()
	name := "cbtest_" + randomSuffix()
	if _, err := db.Exec(fmt.Sprintf("CREATE DATABASE %s %s", name, template)); err != nil {
		return "", nil, fmt.Errorf("create test database: %w", err)
	}
	drop := func() {
		db, err := sql.Open("pgx", admin)
		if err != nil {
			return
		}
		defer db.Close()
		_, _ = db.Exec(fmt.Sprintf("DROP DATABASE IF EXISTS %s WITH (FORCE)", name))
	}
	return withDatabase(admin, name), drop, nil
}

// ensureTemplate creates (once per migration set, across test processes) a
// migrated template database.
func ensureTemplate(admin string) (string, error) {
	h := sha256.New()
	_ = fs.WalkDir(migrations.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := migrations.FS.ReadFile(p)
			h.Write([]byte(p))
			h.Write(b)
		}
		return nil
	})
	name := "cbtmpl_" + hex.EncodeToString(h.Sum(nil))[:16]
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	db, err := sql.Open("pgx", admin)
	if err != nil {
		return "", err
	}
	defer db.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		return "", fmt.Errorf("connect admin: %w", err)
	}
	defer conn.Close()
	// Test packages run as parallel processes: one creates the template.
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock(727272)"); err != nil {
		return "", err
	}
	defer conn.ExecContext(context.Background(), "SELECT pg_advisory_unlock(727272)")
	var exists bool
	if err := conn.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		return "", err
	}
	if exists {
		return name, nil
	}
	building := name + "_build"
	_, _ = conn.ExecContext(ctx, fmt.Sprintf("DROP DATABASE IF EXISTS %s WITH (FORCE)", building))
	if _, err := conn.ExecContext(ctx, fmt.Sprintf("CREATE DATABASE %s TEMPLATE template0", building)); err != nil {
		return "", fmt.Errorf("create template: %w", err)
	}
	tdb, err := sql.Open("pgx", withDatabase(admin, building))
	if err != nil {
		return "", err
	}
	err = store.MigrateUp(ctx, tdb)
	tdb.Close()
	if err != nil {
		return "", err
	}
	if _, err := conn.ExecContext(ctx, fmt.Sprintf("ALTER DATABASE %s RENAME TO %s", building, name)); err != nil {
		return "", fmt.Errorf("rename template: %w", err)
	}
	return name, nil
}

// withDatabase returns the URL with its database name replaced.
func withDatabase(rawURL, name string) string {
	if strings.Contains(rawURL, "://") {
		u, err := url.Parse(rawURL)
		if err == nil {
			u.Path = "/" + name
			return u.String()
		}
	}
	// key=value form
	var parts []string
	for _, f := range strings.Fields(rawURL) {
		if !strings.HasPrefix(f, "dbname=") {
			parts = append(parts, f)
		}
	}
	return strings.Join(append(parts, "dbname="+name), " ")
}

func randomSuffix() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
