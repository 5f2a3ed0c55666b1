package web

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
)

// Session cookies are stateless: "<expiry>.<HMAC(key, expiry)>" where the key
// is derived from the API token. Every api replica accepts every other's
// sessions, and changing the token ends them all.
const (
	sessionCookie = "cyberbrain_session"
	sessionTTL    = 7 * 24 * time.Hour
)

type sessionKeys struct{ mac []byte }

func newSessionKeys(token string) sessionKeys {
	if token == "" {
		return sessionKeys{}
	}
	m := hmac.New(sha256.New, []byte(token))
	m.Write([]byte("cyberbrain dashboard session v1"))
	return sessionKeys{mac: m.Sum(nil)}
}

func (k sessionKeys) sign(msg string) string {
	m := hmac.New(sha256.New, k.mac)
	m.Write([]byte(msg))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// issue returns a cookie value valid until exp.
func (k sessionKeys) issue(exp time.Time) string {
	e := strconv.FormatInt(exp.Unix(), 10)
	return e + "." + k.sign(e)
}

// valid checks a cookie value's signature and expiry.
func (k sessionKeys) valid(v string, now time.Time) bool {
	e, sig, ok := strings.Cut(v, ".")
	if !ok || len(e) > 20 {
		return false
	}
	if !hmac.Equal([]byte(sig), []byte(k.sign(e))) {
		return false
	}
	unix, err := strconv.ParseInt(e, 10, 64)
	return err == nil && now.Before(time.Unix(unix, 0))
}

// secure says whether cookies for this request get the Secure attribute.
func (u *UI) secure(c echo.Context) bool {
	return u.cfg.SecureCookies || c.Request().TLS != nil || c.Request().Header.Get("X-Forwarded-Proto") == "https"
}

func (u *UI) cookie(c echo.Context, name, value string, maxAge int) {
	c.SetCookie(&http.Cookie{Name: name, Value: value, Path: "/", MaxAge: maxAge, HttpOnly: true,
		Secure: u.secure(c), SameSite: http.SameSiteStrictMode})
}

// requireSession sends a visitor without a valid session to /login (pages)
// or answers 401 (the event stream) when a token is configured.
func (u *UI) requireSession(next echo.HandlerFunc) echo.HandlerFunc {
	if u.cfg.Token == "" {
		return next
	}
	return func(c echo.Context) error {
		if ck, err := c.Cookie(sessionCookie); err == nil && u.keys.valid(ck.Value, time.Now()) {
			return next(c)
		}
		if c.Request().Method != http.MethodGet || c.Request().URL.Path == "/events" {
			return &pageError{http.StatusUnauthorized, "log in first"}
		}
		return c.Redirect(http.StatusSeeOther, "/login?next="+safeNext(c.Request().URL.RequestURI()))
	}
}

// safeNext keeps a post-login target on this site (a path, never
// //host or a scheme).
func safeNext(p string) string {
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.HasPrefix(p, "/\\") || strings.HasPrefix(p, "/login") {
		return "/"
	}
	return p
}
