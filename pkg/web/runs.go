package web

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

func (u *UI) runRoutes(r router) {
	r.get("/runs", todo)
	r.get("/runs/:id", todo)
	r.get("/launch", todo)
}

// todo answers a page that is not built yet.
func todo(c echo.Context) error { return &pageError{http.StatusNotImplemented, "not built yet"} }
