package web

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
)

type loginPage struct {
	Next  string
	Error string
}

func (u *UI) loginForm(c echo.Context) error {
	if u.cfg.Token == "" {
		return c.Redirect(http.StatusSeeOther, "/")
	}
	return u.render(c, "login", "Log in", loginPage{Next: safeNext(c.QueryParam("next"))})
}

// login exchanges the API token for a session cookie. The comparison is over
// fixed-length digests, in constant time.
func (u *UI) login(c echo.Context) error {
	if u.cfg.Token == "" {
		return c.Redirect(http.StatusSeeOther, "/")
	}
	next := safeNext(c.FormValue("next"))
	got := sha256.Sum256([]byte(c.FormValue("token")))
	want := sha256.Sum256([]byte(u.cfg.Token))
	if subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
		u.renderStatus(c, http.StatusUnauthorized, "login", "Log in", loginPage{Next: next, Error: "That token is not the API token."})
		return nil
	}
	u.cookie(c, sessionCookie, u.keys.issue(time.Now().Add(sessionTTL)), int(sessionTTL.Seconds()))
	return c.Redirect(http.StatusSeeOther, next)
}

// logout clears the session cookie (sessions are stateless: changing the
// API token is what ends every session at once).
func (u *UI) logout(c echo.Context) error {
	u.cookie(c, sessionCookie, "", -1)
	if u.cfg.Token == "" {
		return c.Redirect(http.StatusSeeOther, "/")
	}
	return c.Redirect(http.StatusSeeOther, "/login")
}
