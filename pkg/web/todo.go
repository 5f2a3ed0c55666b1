package web

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// todo answers a page that is not built yet.
func todo(c echo.Context) error { return &pageError{http.StatusNotImplemented, "not built yet"} }
