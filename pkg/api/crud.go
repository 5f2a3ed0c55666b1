package api

import (
	"context"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/cyberbrain/cyberbrain/pkg/store"
)

// collection holds the handlers Server.crud registers for one collection;
// remove may be nil (no DELETE).
type collection struct {
	list, create, get, update, remove echo.HandlerFunc
}

// crud serves a collection whose rows are edited whole: the store loads and
// writes a T, and In is the request body that apply validates onto it. Only
// the HTTP plumbing is shared; each resource keeps its validation (apply)
// next to its input type.
type crud[T, In any] struct {
	list   func(context.Context, store.ListParams) (*store.PageRows[T], error)
	get    func(context.Context, int64) (*T, error)
	create func(context.Context, *T) error // fills in id and timestamps
	update func(context.Context, *T) error // writes every editable field
	remove func(context.Context, int64) error
	// apply writes the body onto the row; full (POST, PUT) starts from the
	// resource's defaults, otherwise (PATCH) absent fields keep their value.
	apply func(in *In, row *T, full bool) error
}

func (r crud[T, In]) collection(s *Server) collection {
	return collection{list: listPage(s, r.list), create: r.serveCreate, get: getByID(r.get),
		update: r.serveUpdate, remove: deleteByID(r.remove)}
}

func (r crud[T, In]) serveCreate(c echo.Context) error {
	var in In
	if err := decodeBody(c, &in, false); err != nil {
		return err
	}
	row := new(T)
	if err := r.apply(&in, row, true); err != nil {
		return err
	}
	if err := r.create(c.Request().Context(), row); err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, row)
}

// serveUpdate is PUT (full replacement) and PATCH (the fields given).
func (r crud[T, In]) serveUpdate(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	var in In
	if err := decodeBody(c, &in, false); err != nil {
		return err
	}
	ctx := c.Request().Context()
	row, err := r.get(ctx, id)
	if err != nil {
		return err
	}
	if err := r.apply(&in, row, c.Request().Method == http.MethodPut); err != nil {
		return err
	}
	if err := r.update(ctx, row); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, row)
}
