package api

import (
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"
)

// checkContentType answers 415 when a request carries a body labelled as
// something other than JSON (a form, text/plain, XML…): the API reads JSON
// only, and decoding a form as JSON would answer a confusing 400. A body
// without a Content-Type is read as JSON; a bodiless POST (cancel, run-now)
// passes whatever its header says.
func (s *Server) checkContentType(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		ct := r.Header.Get(echo.HeaderContentType)
		if !isAPIPath(r.URL.Path) || ct == "" || r.ContentLength == 0 || r.Body == nil || r.Body == http.NoBody {
			return next(c)
		}
		if !isJSONMediaType(ct) {
			return &apiError{Status: http.StatusUnsupportedMediaType,
				Message: "unsupported Content-Type " + strconv.Quote(ct) + ": the API reads application/json only"}
		}
		return next(c)
	}
}

// isAPIPath says whether path is under /api (the dashboard's forms post
// form bodies elsewhere).
func isAPIPath(path string) bool { return path == "/api" || strings.HasPrefix(path, "/api/") }

// isJSONMediaType accepts application/json and the application/*+json
// family, with any parameters (charset=utf-8).
func isJSONMediaType(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return false
	}
	return mt == echo.MIMEApplicationJSON || (strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json"))
}
