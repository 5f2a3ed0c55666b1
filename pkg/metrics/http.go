package metrics

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
)

var (
	httpRequests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Subsystem: "http", Name: "requests_total",
		Help: "HTTP requests answered, by method, route pattern and status code.",
	}, []string{"method", "route", "status"})
	httpDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: namespace, Subsystem: "http", Name: "request_duration_seconds",
		Help:    "Time to answer an HTTP request, by method and route pattern.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
	}, []string{"method", "route"})
)

func init() { registry.MustRegister(httpRequests, httpDuration) }

// unmatchedRoute labels requests no route matched, so that scanners probing
// random paths cannot blow up the label cardinality.
const unmatchedRoute = "unmatched"

// EchoMiddleware counts and times every request by the route pattern
// (c.Path(), e.g. "/api/runs/:id/") and the status actually sent.
//
// When the handler returns an error the middleware hands it to Echo's
// HTTPErrorHandler itself (c.Error) so that the status recorded is the one the
// application's error handler chose, and then returns nil. Register it with
// e.Use before the routes; put middleware.Recover inside it (after it) so a
// panic is recorded as a 500.
func EchoMiddleware() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			err := next(c)
			if err != nil {
				c.Error(err)
			}
			status := c.Response().Status
			if err != nil && !c.Response().Committed {
				// The error handler wrote nothing (e.g. a HEAD request):
				// fall back to the error's own code.
				status = http.StatusInternalServerError
				var he *echo.HTTPError
				if errors.As(err, &he) {
					status = he.Code
				}
			}
			route := c.Path()
			if route == "" {
				route = unmatchedRoute
			}
			method := c.Request().Method
			httpRequests.WithLabelValues(method, route, strconv.Itoa(status)).Inc()
			httpDuration.WithLabelValues(method, route).Observe(time.Since(start).Seconds())
			return nil
		}
	}
}
