package web

import (
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
)

// keepAlive is how often an idle stream gets a comment line, so proxies
// and the browser see it alive.
const keepAlive = 25 * time.Second

// events is the Server-Sent Events stream every page opens: "ready" once
// the hub listens (the page then refreshes its live parts, closing the gap
// between rendering and subscribing), then "runs" events.
func (u *UI) events(c echo.Context) error {
	ch := u.hub.subscribe()
	defer u.hub.unsubscribe(ch)
	// The server's write timeout is for ordinary answers, not streams.
	_ = http.NewResponseController(c.Response().Writer).SetWriteDeadline(time.Time{})
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	c.Response().WriteHeader(http.StatusOK)
	ctx := c.Request().Context()
	select {
	case <-u.hub.ready:
	case <-ctx.Done():
		return nil
	}
	w := c.Response()
	fmt.Fprint(w, "retry: 2000\nevent: ready\ndata: {}\n\n")
	w.Flush()
	tick := time.NewTicker(keepAlive)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
			fmt.Fprint(w, ": keep-alive\n\n")
		case b, ok := <-ch:
			if !ok {
				return nil
			}
			fmt.Fprintf(w, "event: runs\ndata: %s\n\n", b)
		}
		w.Flush()
	}
}
