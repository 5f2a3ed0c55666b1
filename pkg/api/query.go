package api

import (
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"
)

// checkQuery refuses a query string the route would otherwise read wrongly.
// Go's URL parser drops a pair it cannot parse ("run=1;x", "page_size=%zz")
// without a word, so a bad filter used to answer the unfiltered list. Here
// every pair must parse, name a parameter the route documents (route.Query,
// also the OpenAPI document), appear once and hold no NUL: else 400 naming
// the parameter.
func (s *Server) checkQuery(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		raw := c.Request().URL.RawQuery
		if raw == "" {
			return next(c)
		}
		allowed, known := s.queries[c.Request().Method+" "+c.Path()]
		if !known {
			return next(c) // unknown route or method: its 404/405 says more
		}
		if err := checkQueryString(raw, allowed); err != nil {
			return err
		}
		return next(c)
	}
}

// checkQueryString validates a raw query against the allowed names.
func checkQueryString(raw string, allowed []string) error {
	seen := map[string]bool{}
	for pair := range strings.SplitSeq(raw, "&") {
		if pair == "" {
			continue
		}
		rawKey, rawVal, _ := strings.Cut(pair, "=")
		key, err := url.QueryUnescape(rawKey)
		if err != nil {
			return queryError(rawKey, "is not a valid URL-encoded name")
		}
		if strings.Contains(rawKey, ";") || strings.Contains(rawVal, ";") {
			return queryError(key, "contains ';', which is not a separator: use & between parameters, %3B in a value")
		}
		val, err := url.QueryUnescape(rawVal)
		if err != nil {
			return queryError(key, "has an invalid %-escape")
		}
		switch {
		case !slices.Contains(allowed, key):
			if len(allowed) == 0 {
				return queryError(key, "is not a parameter of this endpoint (it takes none)")
			}
			return queryError(key, "is not a parameter of this endpoint (it takes "+strings.Join(allowed, ", ")+")")
		case seen[key]:
			return queryError(key, "is given more than once")
		case strings.ContainsRune(val, 0):
			return queryError(key, "must not contain NUL (%00)")
		}
		seen[key] = true
	}
	return nil
}

// queryError is a 400 naming a query parameter, in the usual error shape.
func queryError(name, msg string) error {
	return &apiError{Status: http.StatusBadRequest, Message: "invalid query parameter " + name + ": " + msg,
		Fields: map[string][]string{name: {msg}}}
}
