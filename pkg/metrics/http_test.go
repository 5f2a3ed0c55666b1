package metrics_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/cyberbrain/cyberbrain/pkg/metrics"
)

var errConflict = errors.New("conflict")

func TestEchoMiddlewareCountsByRoutePatternAndSentStatus(t *testing.T) {
	e := echo.New()
	// An application error handler that maps its own errors, as the API does.
	e.HTTPErrorHandler = func(err error, c echo.Context) {
		if c.Response().Committed {
			return
		}
		code := http.StatusInternalServerError
		var he *echo.HTTPError
		switch {
		case errors.As(err, &he):
			code = he.Code
		case errors.Is(err, errConflict):
			code = http.StatusConflict
		}
		_ = c.JSON(code, map[string]string{"error": http.StatusText(code)})
	}
	e.Use(metrics.EchoMiddleware(), middleware.RecoverWithConfig(middleware.RecoverConfig{DisablePrintStack: true}))
	prefix := "/" + t.Name()
	e.GET(prefix+"/runs/:id/", func(c echo.Context) error {
		if c.Param("id") == "404" {
			return echo.NewHTTPError(http.StatusNotFound, "Run not found")
		}
		return c.JSON(http.StatusOK, map[string]string{"id": c.Param("id")})
	})
	e.POST(prefix+"/directives/", func(echo.Context) error { return errConflict })
	e.GET(prefix+"/panic/", func(echo.Context) error { panic("boom") })
	srv := httptest.NewServer(e)
	defer srv.Close()

	before := scrapeHandler(t)
	send := func(method, path string, want int) {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Fatalf("%s %s: status %d, want %d", method, path, resp.StatusCode, want)
		}
	}
	send(http.MethodGet, prefix+"/runs/1/", 200)
	send(http.MethodGet, prefix+"/runs/2/", 200)
	send(http.MethodGet, prefix+"/runs/404/", 404)
	send(http.MethodPost, prefix+"/directives/", 409)
	send(http.MethodGet, prefix+"/panic/", 500)
	send(http.MethodGet, prefix+"/no/such/route/x1", 404)
	send(http.MethodGet, prefix+"/no/such/route/x2", 404)
	after := scrapeHandler(t)

	route := prefix + "/runs/:id/"
	const reqs = "cyberbrain_http_requests_total"
	assertDelta(t, before, after, reqs, labels("method", "GET", "route", route, "status", "200"), 2)
	assertDelta(t, before, after, reqs, labels("method", "GET", "route", route, "status", "404"), 1)
	assertDelta(t, before, after, reqs, labels("method", "POST", "route", prefix+"/directives/", "status", "409"), 1)
	assertDelta(t, before, after, reqs, labels("method", "GET", "route", prefix+"/panic/", "status", "500"), 1)
	// Unknown paths share one label value instead of one series each.
	if after.find(reqs, labels("route", prefix+"/no/such/route/x1")) != nil {
		t.Error("an unmatched path became its own route label")
	}
	if d := after.value(reqs, labels("route", "unmatched", "status", "404")) -
		before.value(reqs, labels("route", "unmatched", "status", "404")); d < 2 {
		t.Errorf("unmatched 404s moved by %v, want at least 2", d)
	}
	assertDelta(t, before, after, "cyberbrain_http_request_duration_seconds", labels("method", "GET", "route", route), 3)
}
