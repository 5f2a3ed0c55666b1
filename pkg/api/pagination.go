package api

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/cyberbrain/cyberbrain/pkg/domain"
	"github.com/cyberbrain/cyberbrain/pkg/store"
)

// DefaultPageSize is the page size when ?page_size= is absent.
const DefaultPageSize = 100

// Page is the envelope of every top-level collection.
type Page[T any] struct {
	Count    int64   `json:"count"`
	Next     *string `json:"next"`
	Previous *string `json:"previous"`
	Results  []T     `json:"results"`
}

// pageParams reads ?page=, ?page_size= and ?ordering=.
func pageParams(c echo.Context) (store.ListParams, int, error) {
	page, err := intQuery(c, "page", 1, 1, 1_000_000)
	if err != nil {
		return store.ListParams{}, 0, err
	}
	size, err := intQuery(c, "page_size", DefaultPageSize, 1, store.MaxPageSize)
	if err != nil {
		return store.ListParams{}, 0, err
	}
	p := store.ListParams{Limit: size, Offset: (page - 1) * size, Ordering: c.QueryParam("ordering")}
	return p, page, nil
}

// respondPage answers the envelope with absolute next/previous links that
// keep every other query parameter.
func respondPage[T any](s *Server, c echo.Context, items []T, count int64, p store.ListParams, page int) error {
	if items == nil {
		items = []T{}
	}
	out := Page[T]{Count: count, Results: items}
	out.Next, out.Previous = s.pageLinks(c, count, p, page)
	return c.JSON(http.StatusOK, out)
}

// pageLinks returns the next and previous links of a page (nil at the ends).
func (s *Server) pageLinks(c echo.Context, count int64, p store.ListParams, page int) (next, prev *string) {
	if int64(p.Offset+p.Limit) < count {
		u := s.pageURL(c, page+1)
		next = &u
	}
	if page > 1 {
		n := page - 1
		if last := int((count + int64(p.Limit) - 1) / int64(p.Limit)); n > last {
			n = max(last, 1) // past the end: point back at the last page
		}
		u := s.pageURL(c, n)
		prev = &u
	}
	return next, prev
}

// pageURL is the link to another page of this list: the server's link base
// (links.go), never the request's Host header, which a client controls.
func (s *Server) pageURL(c echo.Context, page int) string {
	r := c.Request()
	q := r.URL.Query()
	if page <= 1 {
		q.Del("page")
	} else {
		q.Set("page", strconv.Itoa(page))
	}
	u := *s.linkBase
	u.Path = strings.TrimSuffix(u.Path, "/") + strings.TrimSuffix(r.URL.Path, "/") + "/"
	u.RawQuery = q.Encode()
	return u.String()
}

// intQuery reads an integer query parameter within [lo, hi]; absent gives def.
func intQuery(c echo.Context, name string, def, lo, hi int) (int, error) {
	v := c.QueryParam(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, fieldError(name, "must be an integer from "+strconv.Itoa(lo)+" to "+strconv.Itoa(hi))
	}
	return n, nil
}

// idQuery reads an optional positive id filter such as ?run=.
func idQuery(c echo.Context, name string) (*int64, error) {
	v := c.QueryParam(name)
	if v == "" {
		return nil, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 {
		return nil, fieldError(name, "must be a positive integer id")
	}
	return &n, nil
}

// enumQuery reads an optional filter that must be one of set (a typed list
// such as domain.RunStatuses); "" means no filter.
func enumQuery[T ~string](c echo.Context, name string, set []T) (T, error) {
	v := T(c.QueryParam(name))
	if v != "" && !slices.Contains(set, v) {
		return "", fieldError(name, "must be one of "+strings.Join(domain.Strings(set), ", "))
	}
	return v, nil
}

// limitOffset reads ?limit= (default 100, max 1000) and ?offset= of the
// bare-array lists.
func limitOffset(c echo.Context) (int, int, error) {
	limit, err := intQuery(c, "limit", DefaultPageSize, 1, store.MaxPageSize)
	if err != nil {
		return 0, 0, err
	}
	offset, err := intQuery(c, "offset", 0, 0, 1<<31-1)
	return limit, offset, err
}

// pathID reads the :id path parameter: a positive int64, else 404 — a
// non-numeric id names no resource.
func pathID(c echo.Context) (int64, error) {
	n, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || n <= 0 {
		return 0, &apiError{Status: http.StatusNotFound, Message: "not found: " + strconv.Quote(c.Param("id")) + " is not a valid id"}
	}
	return n, nil
}
