package store

import (
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"

	"github.com/cyberbrain/cyberbrain/pkg/domain"
)

// PostgreSQL error codes the API maps to client errors.
const (
	pgUniqueViolation     = "23505"
	pgForeignKeyViolation = "23503"
	pgCheckViolation      = "23514"
	pgNotNullViolation    = "23502"
)

// pgCode returns the SQLSTATE of err, or "" when it is not a server error.
func pgCode(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

// clientDBError turns the database errors a client's input can provoke into
// domain errors, so that nothing a client sends ends as a 500:
//   - unique violation          -> 409 (duplicate)
//   - foreign key violation     -> 409 on delete/update (history still
//     references the row; FKs are ON DELETE RESTRICT)
//   - check / not-null / class 22 (bad text, out of range) -> 400
//
// gorm's TranslateError turns some of them into sentinels first, so both
// forms are recognised. Anything else is returned wrapped with context.
// dup and inUse are the messages for the duplicate and still-referenced cases.
func clientDBError(err error, action, dup, inUse string) error {
	if err == nil {
		return nil
	}
	var de *domain.Error
	if errors.As(err, &de) {
		return err
	}
	code := pgCode(err)
	switch {
	case code == pgUniqueViolation || errors.Is(err, gorm.ErrDuplicatedKey):
		return domain.Conflict("%s", dup)
	case code == pgForeignKeyViolation || errors.Is(err, gorm.ErrForeignKeyViolated):
		return domain.Conflict("%s", inUse)
	case code == pgCheckViolation || code == pgNotNullViolation || errors.Is(err, gorm.ErrCheckConstraintViolated):
		return domain.Invalid(nil, "invalid value: the row breaks a database constraint (%s)", constraintName(err))
	case len(code) == 5 && code[:2] == "22":
		// Data exceptions: a NUL byte in text, a number out of range, bad
		// text encoding. All come from values the client sent. The server's
		// own message is not echoed: it may quote the value or the schema.
		return domain.Invalid(nil, "invalid value: the database cannot store it (SQLSTATE %s)", code)
	}
	return fmt.Errorf("%s: %w", action, err)
}

func constraintName(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.ConstraintName != "" {
		return pe.ConstraintName
	}
	return "check constraint"
}

// notFound maps gorm's not-found to a domain 404 with the given message.
func notFound(err error, format string, args ...any) error {
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return domain.NotFound(format, args...)
	}
	return err
}
