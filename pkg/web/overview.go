package web

import (
	"github.com/labstack/echo/v4"

	"github.com/cyberbrain/cyberbrain/pkg/store"
)

type overviewPage struct {
	Recent []store.Run
}

// overview is "/": what needs attention now.
func (u *UI) overview(c echo.Context) error {
	ctx := c.Request().Context()
	var out overviewPage
	page, err := u.st.ListRuns(ctx, store.RunFilter{}, store.ListParams{Limit: 20})
	if err != nil {
		return err
	}
	if err := page.Each(ctx, func(r *store.Run) error { out.Recent = append(out.Recent, *r); return nil }); err != nil {
		return err
	}
	return u.render(c, "overview", "Overview", out)
}
