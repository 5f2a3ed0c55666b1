package api

import (
	"context"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/cyberbrain/cyberbrain/pkg/store"
)

// The handler builders below cover the endpoints whose only work is one
// store call: they fix the order every such endpoint checks its input in
// (path id or page parameters, then the body, then the store), so that a
// bad id is a 404 before anything is read or written.

// listPage answers one page of list, in the Page envelope, streamed.
func listPage[T any](s *Server, list func(context.Context, store.ListParams) (*store.PageRows[T], error)) echo.HandlerFunc {
	return func(c echo.Context) error {
		p, page, err := pageParams(c)
		if err != nil {
			return err
		}
		rows, err := list(c.Request().Context(), p)
		if err != nil {
			return err
		}
		return streamPage(s, c, rows, p, page)
	}
}

// getByID answers 200 with what load returns for the :id path parameter.
func getByID[T any](load func(context.Context, int64) (T, error)) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := pathID(c)
		if err != nil {
			return err
		}
		v, err := load(c.Request().Context(), id)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, v)
	}
}

// subList answers a bare-array sub-collection of the :id resource, paged
// with ?limit= and ?offset= like the top-level bare arrays.
func subList[T any](load func(context.Context, int64, int, int) ([]T, error)) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := pathID(c)
		if err != nil {
			return err
		}
		limit, offset, err := limitOffset(c)
		if err != nil {
			return err
		}
		v, err := load(c.Request().Context(), id, limit, offset)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, v)
	}
}

// actionByID is getByID for a POST action that takes no input: a body is
// read (so an oversized one is still a 413) and ignored.
func actionByID[T any](act func(context.Context, int64) (T, error)) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := pathID(c)
		if err != nil {
			return err
		}
		if _, err := readBody(c); err != nil {
			return err
		}
		v, err := act(c.Request().Context(), id)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, v)
	}
}

// deleteByID answers 204 once remove has deleted the :id row.
func deleteByID(remove func(context.Context, int64) error) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := pathID(c)
		if err != nil {
			return err
		}
		if err := remove(c.Request().Context(), id); err != nil {
			return err
		}
		return c.NoContent(http.StatusNoContent)
	}
}
