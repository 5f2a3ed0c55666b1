package api

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"go.uber.org/zap"
)

func requestID(c echo.Context) string {
	return c.Response().Header().Get(echo.HeaderXRequestID)
}

// logRequests writes one line per request: method, path, status, duration,
// request id and, for errors, the message the client got. Never bodies,
// query strings or headers, so no token or secret can reach the log.
// Probes (/healthz, /readyz) are polled every few seconds by orchestrators
// and log at debug so they do not drown the rest.
func (s *Server) logRequests(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			// Render the error now so the logged status is the one sent.
			c.Error(err)
		}
		res := c.Response()
		path := c.Request().URL.Path
		fields := []zap.Field{
			zap.String("method", c.Request().Method),
			zap.String("path", path),
			zap.Int("status", res.Status),
			zap.Duration("duration", time.Since(start)),
			zap.String("request_id", res.Header().Get(echo.HeaderXRequestID)),
		}
		if msg, ok := c.Get(errorKey).(string); ok && res.Status >= 400 {
			fields = append(fields, zap.String("error", msg))
		}
		if res.Status < 400 && isAPIPath(path) {
			s.outage.OK() // the database answered this request
		}
		level := zap.InfoLevel
		if path == "/healthz" || path == "/readyz" {
			level = zap.DebugLevel
		}
		s.log.Log(level, "request", fields...)
		return nil
	}
}

// deadline bounds each request's work by the database timeout, so a
// database that stops answering turns into a 503 well inside the HTTP
// write timeout instead of a hung request.
func (s *Server) deadline(next echo.HandlerFunc) echo.HandlerFunc {
	if s.cfg.DBTimeout <= 0 {
		return next
	}
	return func(c echo.Context) error {
		if d := s.cfg.Dashboard; d != nil && d.Streaming(c.Request().URL.Path) {
			return next(c)
		}
		ctx, cancel := context.WithTimeout(c.Request().Context(), s.cfg.DBTimeout)
		defer cancel()
		c.SetRequest(c.Request().WithContext(ctx))
		return next(c)
	}
}

// authenticate requires "Authorization: Bearer <token>" on /api/ when a token
// is configured. /healthz, /readyz and /metrics stay open for probes and
// scrapers. The comparison is constant-time over fixed-length digests so
// neither the token's content nor its length leaks through timing.
func (s *Server) authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	if s.cfg.APIToken == "" {
		return next
	}
	want := sha256.Sum256([]byte(s.cfg.APIToken))
	return func(c echo.Context) error {
		p := c.Request().URL.Path
		if !isAPIPath(p) {
			return next(c)
		}
		h := c.Request().Header.Get(echo.HeaderAuthorization)
		const prefix = "Bearer "
		ok := len(h) > len(prefix) && strings.EqualFold(h[:len(prefix)], prefix)
		got := sha256.Sum256([]byte(strings.TrimSpace(h[min(len(h), len(prefix)):])))
		if subtle.ConstantTimeCompare(got[:], want[:]) != 1 || !ok {
			c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="cyberbrain"`)
			return &apiError{Status: http.StatusUnauthorized, Message: "missing or invalid API token (Authorization: Bearer …)"}
		}
		return next(c)
	}
}
