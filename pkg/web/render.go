package web

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"go.uber.org/zap"
)

//go:embed assets
var assets embed.FS

// pages holds one template set per page: the layout, the shared partials
// and the page's own file, which defines "title" and "content".
type pages struct{ sets map[string]*template.Template }

func parsePages() (*pages, error) {
	base, err := template.New("layout.html").Funcs(funcs).ParseFS(assets, "assets/templates/layout.html", "assets/templates/partials/*.html")
	if err != nil {
		return nil, fmt.Errorf("parse layout: %w", err)
	}
	files, err := fs.Glob(assets, "assets/templates/pages/*.html")
	if err != nil {
		return nil, err
	}
	p := &pages{sets: map[string]*template.Template{}}
	for _, f := range files {
		t, err := template.Must(base.Clone()).ParseFS(assets, f)
		if err != nil {
			return nil, fmt.Errorf("parse %s: %w", f, err)
		}
		p.sets[strings.TrimSuffix(path.Base(f), ".html")] = t
	}
	return p, nil
}

// view is what the layout gets: the page's data under .Data.
type view struct {
	Title string
	Nav   string // the nav entry to mark current
	CSRF  string
	Auth  bool // a token is configured: show "Log out"
	Data  any
}

// nav maps a page to its nav entry.
func nav(name string) string {
	switch {
	case strings.HasPrefix(name, "run"), name == "launch":
		return "runs"
	case strings.HasPrefix(name, "schedule"):
		return "schedules"
	case strings.HasPrefix(name, "host"):
		return "hosts"
	}
	return name
}

// render writes page name with status 200.
func (u *UI) render(c echo.Context, name, title string, data any) error {
	u.renderStatus(c, http.StatusOK, name, title, data)
	return nil
}

// renderStatus executes the page into a buffer first, so a template error
// becomes an error page instead of half a page.
func (u *UI) renderStatus(c echo.Context, status int, name, title string, data any) {
	t, ok := u.pages.sets[name]
	if !ok {
		u.log.Error("no such page template", zap.String("page", name))
		_ = c.String(http.StatusInternalServerError, "internal error")
		return
	}
	v := view{Title: title, Nav: nav(name), CSRF: u.csrfToken(c), Auth: u.cfg.Token != "", Data: data}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout.html", v); err != nil {
		u.log.Error("render page", zap.String("page", name), zap.Error(err))
		_ = c.String(http.StatusInternalServerError, "internal error")
		return
	}
	h := c.Response().Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", csp)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("X-Frame-Options", "DENY")
	_ = c.HTMLBlob(status, buf.Bytes())
}

// csp allows only the dashboard's own script and style: an injected inline
// script or event handler would not run even if escaping failed.
const csp = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// funcs are the template helpers shared by every page.
var funcs = template.FuncMap{
	"ts":        timeTag,
	"ago":       ago,
	"dur":       duration,
	"add":       func(a, b int) int { return a + b },
	"deref":     deref,
	"markdown":  renderMarkdown,
	"jsonField": jsonField,
}

// jsonField reads one string field of a JSON object ("" when absent).
func jsonField(raw []byte, name string) string {
	var m map[string]any
	if json.Unmarshal(raw, &m) != nil {
		return ""
	}
	s, _ := m[name].(string)
	return s
}

// timeTag renders t as a <time> element in UTC; the page's script rewrites
// it to the viewer's local time.
func timeTag(t any) template.HTML {
	tt, ok := asTime(t)
	if !ok {
		return "—"
	}
	u := tt.UTC()
	return template.HTML(fmt.Sprintf(`<time datetime="%s" data-local>%s</time>`,
		u.Format(time.RFC3339), u.Format("2006-01-02 15:04:05 UTC")))
}

func asTime(t any) (time.Time, bool) {
	switch v := t.(type) {
	case time.Time:
		return v, !v.IsZero()
	case *time.Time:
		if v == nil || v.IsZero() {
			return time.Time{}, false
		}
		return *v, true
	}
	return time.Time{}, false
}

// ago says how long before now t was, roughly ("3 min ago").
func ago(t any) string {
	tt, ok := asTime(t)
	if !ok {
		return ""
	}
	d := time.Since(tt)
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return fmt.Sprintf("%d min ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h ago", int(d.Hours()))
	}
	return fmt.Sprintf("%d days ago", int(d.Hours()/24))
}

// duration renders the time between two timestamps (end nil: until now).
func duration(start, end any) string {
	s, ok := asTime(start)
	if !ok {
		return "—"
	}
	e, ok := asTime(end)
	if !ok {
		e = time.Now()
	}
	d := e.Sub(s)
	switch {
	case d < time.Second:
		return fmt.Sprintf("%d ms", d.Milliseconds())
	case d < time.Minute:
		return fmt.Sprintf("%.1f s", d.Seconds())
	}
	return d.Round(time.Second).String()
}

func deref(p any) any {
	switch v := p.(type) {
	case *int64:
		if v == nil {
			return nil
		}
		return *v
	case *string:
		if v == nil {
			return ""
		}
		return *v
	}
	return p
}
