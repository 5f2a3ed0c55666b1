package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"
)

// IsUnavailable reports whether err means the database could not be reached
// or did not answer in time, rather than that the statement was wrong: a
// refused or broken connection, a deadline (--db-timeout), a server shutting
// down or starting up, or one out of connection slots. Callers answer these
// with "try again later" (the API's 503) and log them as a warning, since
// nothing in the request or the code is at fault.
func IsUnavailable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	switch code := pgCode(err); {
	case code == "53300", // too_many_connections
		code == "57P01",               // admin_shutdown (fast/immediate stop, pg_terminate_backend)
		code == "57P02",               // crash_shutdown
		code == "57P03",               // cannot_connect_now (starting up, shutting down)
		strings.HasPrefix(code, "08"): // connection exceptions
		return true
	case code != "":
		return false
	}
	var ne net.Error
	var oe *net.OpError
	var ce *pgconn.ConnectError
	return errors.Is(err, context.DeadlineExceeded) || pgconn.Timeout(err) ||
		errors.As(err, &ce) || errors.As(err, &oe) || (errors.As(err, &ne) && ne.Timeout()) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, driver.ErrBadConn) || errors.Is(err, sql.ErrConnDone) ||
		errors.Is(err, pgconn.ErrConnClosed)
}
