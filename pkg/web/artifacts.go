package web

import (
	"mime"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
)

// runArtifact is /runs/{id}/artifacts/{aid}: the artifact's bytes as a
// download. Its name and content type come from a task, so the name is
// encoded into the header and the response can never render as a page of
// this site (attachment, nosniff, a sandboxing CSP).
func (u *UI) runArtifact(c echo.Context) error {
	runID, err := pathID(c, "id", "Run")
	if err != nil {
		return err
	}
	aid, err := pathID(c, "aid", "Artifact")
	if err != nil {
		return err
	}
	a, err := u.st.GetArtifact(c.Request().Context(), aid, true)
	if err != nil {
		return storeErr(err)
	}
	if a.RunID != runID {
		return notFound("Artifact")
	}
	ct := "application/octet-stream"
	if mt, params, err := mime.ParseMediaType(a.ContentType); err == nil {
		ct = mime.FormatMediaType(mt, params)
	}
	name := artifactFileName(a.Name)
	disp := mime.FormatMediaType("attachment", map[string]string{"filename": name})
	if disp == "" {
		disp = "attachment"
	}
	h := c.Response().Header()
	h.Set("Content-Disposition", disp)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "sandbox; default-src 'none'")
	h.Set("Cache-Control", "private, no-store")
	return c.Blob(http.StatusOK, ct, a.Content)
}

// artifactFileName keeps the last path element of an artifact's name, and a
// fallback for a name that has none.
func artifactFileName(name string) string {
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	name = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, name)
	if name == "" || name == "." || name == ".." {
		return "artifact"
	}
	return name
}
