package web

import (
	"io/fs"
	"net/http"

	"github.com/labstack/echo/v4"
)

// router registers dashboard routes with the session and CSRF checks.
type router struct {
	e  *echo.Echo
	mw []echo.MiddlewareFunc
}

func (r router) get(path string, h echo.HandlerFunc)  { r.e.GET(path, h, r.mw...) }
func (r router) post(path string, h echo.HandlerFunc) { r.e.POST(path, h, r.mw...) }

// routes declares every dashboard page. Paths are fixed (other tools link
// to them: notifications point at /runs/{id} and /hosts/{id}).
func (u *UI) routes(e *echo.Echo) {
	static, _ := fs.Sub(assets, "assets/static")
	files := http.StripPrefix("/static/", http.FileServer(http.FS(static)))
	e.GET("/static/*", func(c echo.Context) error {
		c.Response().Header().Set("Cache-Control", "public, max-age=300")
		files.ServeHTTP(c.Response(), c.Request())
		return nil
	})
	e.GET("/favicon.ico", func(c echo.Context) error { return c.Redirect(http.StatusMovedPermanently, "/static/icon.svg") })

	open := router{e: e, mw: []echo.MiddlewareFunc{u.checkCSRF}}
	open.get("/login", u.loginForm)
	open.post("/login", u.login)
	open.post("/logout", u.logout)

	r := router{e: e, mw: []echo.MiddlewareFunc{u.requireSession, u.checkCSRF}}
	r.get("/events", u.events)
	r.get("/", u.overview)
	u.runRoutes(r)
	u.scheduleRoutes(r)
	u.hostRoutes(r)
}
