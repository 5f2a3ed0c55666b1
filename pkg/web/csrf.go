package web

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"
)

// CSRF protection is a double-submit token: a random value in an HttpOnly,
// SameSite=Strict cookie that every form (and the script's requests, as
// X-CSRF-Token) must repeat. Another site can neither read the cookie nor
// make the browser send it. A cross-origin Origin header is refused too.
const (
	csrfCookie = "cyberbrain_csrf"
	csrfField  = "csrf_token"
	csrfHeader = "X-CSRF-Token"
	csrfKey    = "web.csrf"
)

// csrfToken returns the request's token, setting the cookie on first use.
func (u *UI) csrfToken(c echo.Context) string {
	if v, ok := c.Get(csrfKey).(string); ok {
		return v
	}
	if ck, err := c.Cookie(csrfCookie); err == nil && len(ck.Value) == 43 {
		c.Set(csrfKey, ck.Value)
		return ck.Value
	}
	var b [32]byte
	_, _ = rand.Read(b[:])
	v := base64.RawURLEncoding.EncodeToString(b[:])
	u.cookie(c, csrfCookie, v, 0)
	c.Set(csrfKey, v)
	return v
}

// checkCSRF refuses a state-changing request whose token does not match
// its cookie, or that comes from another origin.
func (u *UI) checkCSRF(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			return next(c)
		}
		if o := r.Header.Get("Origin"); o != "" && o != "null" {
			if ou, err := url.Parse(o); err != nil || ou.Host != r.Host {
				return &pageError{http.StatusForbidden, "cross-origin request refused"}
			}
		}
		ck, err := c.Cookie(csrfCookie)
		sent := r.Header.Get(csrfHeader)
		if sent == "" {
			sent = c.FormValue(csrfField)
		}
		if err != nil || ck.Value == "" || subtle.ConstantTimeCompare([]byte(ck.Value), []byte(sent)) != 1 {
			return &pageError{http.StatusForbidden, "missing or invalid CSRF token: reload the page and try again"}
		}
		return next(c)
	}
}
